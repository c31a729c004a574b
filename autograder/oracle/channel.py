"""Messages on a stream socket: a JSON header and raw buffers, with limits.

Frame: 4-byte header length, 4-byte buffer count, 8 bytes per buffer length
(all big-endian), the UTF-8 JSON header, then the buffers. The receiver
checks every length against its limits before it allocates anything.
"""

import json
import socket
import struct
import time

MAX_HEADER = 64 * 2**20
MAX_BUFFERS = 65536
MAX_TOTAL = 512 * 2**20
CHUNK = 1 << 16

_dumps = json.JSONEncoder(separators=(",", ":"), allow_nan=True).encode
_loads = json.JSONDecoder().decode


class ProtocolError(Exception):
    """The peer sent something that is not a valid message."""


class ChannelClosed(ProtocolError):
    """The peer closed the connection (or died)."""


class Channel:
    """One end of a message stream over a connected socket."""

    def __init__(self, sock, max_total=MAX_TOTAL):
        self.sock = sock
        self.max_total = max_total
        self.buffer = bytearray()
        self.timeout = "unset"

    @classmethod
    def from_fd(cls, fd, **kw):
        return cls(socket.socket(fileno=fd), **kw)

    def fileno(self):
        return self.sock.fileno()

    def send(self, header, buffers=()):
        body = _dumps(header).encode()
        lengths = [memoryview(b).nbytes for b in buffers]
        prefix = struct.pack(f">II{len(lengths)}Q", len(body), len(lengths), *lengths)
        try:
            if sum(lengths) <= CHUNK:
                self.sock.sendall(b"".join([prefix, body, *buffers]))
            else:
                self.sock.sendall(prefix + body)
                for b in buffers:
                    self.sock.sendall(b)
        except OSError as exc:
            raise ChannelClosed(f"the connection closed while sending ({exc})") from None

    def _set_timeout(self, timeout):
        if timeout != self.timeout:
            self.sock.settimeout(timeout)
            self.timeout = timeout

    def _take(self, n, deadline):
        """The next n bytes of the stream."""
        buf = self.buffer
        while len(buf) < n:
            if deadline is not None:
                self._set_timeout(max(deadline - time.monotonic(), 1e-3))
            try:
                chunk = self.sock.recv(max(CHUNK, n - len(buf)))
            except TimeoutError:
                raise
            except OSError as exc:
                raise ChannelClosed(f"the connection broke ({exc})") from None
            if not chunk:
                raise ChannelClosed("the connection closed")
            buf += chunk
        data = buf[:n]
        del buf[:n]
        return data

    def recv(self, timeout=None):
        """(header, [buffers]); TimeoutError if it has not arrived within `timeout` s."""
        deadline = None
        if timeout is None:
            self._set_timeout(None)
        else:
            deadline = time.monotonic() + timeout
        head_len, count = struct.unpack(">II", self._take(8, deadline))
        if head_len > MAX_HEADER or count > MAX_BUFFERS:
            raise ProtocolError(f"message too large ({head_len} bytes of header, {count} buffers)")
        lengths = struct.unpack(f">{count}Q", self._take(8 * count, deadline)) if count else ()
        if head_len + sum(lengths) > self.max_total:
            raise ProtocolError(f"message of {head_len + sum(lengths)} bytes is over the limit")
        try:
            header = _loads(self._take(head_len, deadline).decode())
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise ProtocolError(f"unreadable message header ({type(exc).__name__})") from None
        if not isinstance(header, dict):
            raise ProtocolError("a message header must be an object")
        return header, [self._take(n, deadline) for n in lengths]

    def close(self):
        """Close this end; the peer sees the end of the stream even if other
        processes still hold a copy of this socket."""
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            self.sock.close()
        except OSError:
            pass
