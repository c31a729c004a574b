"""Requests and replies over a `Channel`, nested in both directions.

Each side sends a request and waits for its reply; while it waits, the peer
may send requests of its own (a callback, or a request made from inside a
callback), which are served in between. Replies must come back innermost
first. Exceptions cross as (type name, nearest built-in base, message,
traceback text) and are raised again as a `RemoteError` subclass of that
built-in, so `except ValueError` still works on the other side.
"""

import builtins
import traceback

from .channel import ProtocolError
from .codec import Decoder, Encoder

MAX_NESTING = 200
MAX_MESSAGE = 8000  # characters of an exception message kept
MAX_TRACEBACK = 8000

# Exceptions that must not escape as themselves on the other side.
_NOT_RAISED_AS_IS = {"KeyboardInterrupt", "SystemExit", "GeneratorExit"}


class RemoteError(Exception):
    """Base of exceptions raised on the other side of the channel."""

    remote_type = "Exception"
    remote_traceback = ""


class CallTimeout(Exception):
    """The student's code ran longer than its time limit (raised on either side)."""

    remote_traceback = ""


def builtin_base(exc_type):
    """The nearest built-in exception class in the MRO of `exc_type`."""
    for cls in exc_type.__mro__:
        if getattr(builtins, cls.__name__, None) is cls and issubclass(cls, BaseException):
            return cls
    return Exception


def describe_exception(exc, tb_text=""):
    """An exception as plain data for the wire."""
    base = builtin_base(type(exc))
    try:
        message = str(exc)
    except Exception:  # a hostile __str__
        message = "<an error message that could not be read>"
    return {
        "type": type(exc).__name__[:100],
        "base": base.__name__,
        "msg": message[:MAX_MESSAGE],
        "tb": tb_text[:MAX_TRACEBACK],
    }


_error_classes = {}


def remote_exception(info):
    """A RemoteError instance from described exception data (validated)."""
    if not isinstance(info, dict):
        raise ProtocolError("invalid error description")
    name, base_name = info.get("type"), info.get("base")
    message, tb = info.get("msg", ""), info.get("tb", "")
    if not all(isinstance(x, str) for x in (name, base_name, message, tb)):
        raise ProtocolError("invalid error description")
    if name == "CallTimeout" and base_name == "Exception":
        exc = CallTimeout(message[:MAX_MESSAGE])
        exc.remote_traceback = tb[:MAX_TRACEBACK]
        return exc
    if not name.isidentifier() or len(name) > 100:
        name = "Exception"
    base = getattr(builtins, base_name, None)
    if not (isinstance(base, type) and issubclass(base, BaseException)):
        base = Exception
    if base_name in _NOT_RAISED_AS_IS or not issubclass(base, Exception):
        base = Exception
    key = (name, base)
    if key not in _error_classes:
        bases = (RemoteError,) if base is Exception else (RemoteError, base)
        _error_classes[key] = type(name, bases, {"remote_type": name})
    exc = _error_classes[key](message[:MAX_MESSAGE])
    exc.remote_traceback = tb[:MAX_TRACEBACK]
    return exc


class Endpoint:
    """One side of the nested request/reply protocol.

    Subclasses define `reference(obj)` (encode a non-plain object),
    `resolve(tree)` (decode k/j/r tags) and `serve_request(header, value)`
    (answer a request from the peer, returning a value or raising).
    """

    def __init__(self, channel):
        self.channel = channel
        self.encoder = Encoder(self.reference)
        self.decoder = Decoder(self.resolve)
        self.next_id = 1
        self.depth = 0
        self.served = 0  # requests of the peer answered

    # --- values -------------------------------------------------------------

    def pack(self, header, value):
        tree, buffers = self.encoder.encode(value)
        header["v"] = tree
        return header, buffers

    def unpack(self, header, buffers):
        return self.decoder.decode(header.get("v"), buffers)

    # --- the protocol --------------------------------------------------------

    def timeout(self):
        """Seconds to wait for the next message (None: forever)."""
        return None

    def request(self, header, value=None):
        """Send a request and wait for its reply; returns (reply header, value)."""
        if self.depth >= MAX_NESTING:
            raise RecursionError("too many nested calls between the tests and the student's code")
        rid = self.next_id
        self.next_id += 1
        header["id"] = rid
        self.channel.send(*self.pack(header, value))
        self.depth += 1
        try:
            while True:
                incoming, buffers = self.channel.recv(timeout=self.timeout())
                if "re" in incoming:
                    if incoming["re"] != rid:
                        raise ProtocolError("a reply arrived for another request")
                    if "err" in incoming:
                        raise remote_exception(incoming["err"])
                    return incoming, self.unpack(incoming, buffers)
                self._serve(incoming, buffers)
        finally:
            self.depth -= 1

    def _serve(self, header, buffers):
        self.served += 1
        rid = header.get("id")
        if type(rid) is not int:
            raise ProtocolError("a request without an id")
        meta = {}
        try:
            value = self.unpack(header, buffers)
            result = self.serve_request(header, value, meta)
            reply, reply_buffers = self.pack({"re": rid, "ok": True, "meta": meta}, result)
        except ProtocolError:
            raise
        except BaseException as exc:  # the peer gets the error, this side goes on
            reply, reply_buffers = {"re": rid, "err": self.describe(exc)}, []
        self.channel.send(reply, reply_buffers)

    def describe(self, exc):
        return describe_exception(exc, "")


def format_frames(exc, skip):
    """The traceback of `exc` without frames whose file `skip(filename)` says to hide."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if not skip(f.filename)]
    return "".join(traceback.format_list(frames[-4:]))
