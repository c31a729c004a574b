"""Start sandboxed kernels and judges by forking a process that has already
imported them.

A fresh `python -m ipykernel_launcher` spends most of a second importing
ipykernel, IPython, numpy and the autograder before running one cell; for a
short notebook that is most of its grading time. The fork server imports them
once; each kernel or judge is then a fork of it (copy-on-write, milliseconds)
that enters its own sandbox (sandbox.py) before it runs anything of a
student's. The server itself never runs student code.

Protocol on a Unix socket (requests may carry file descriptors):
    -> {"kind": "kernel", "argv": [...], "connection": {...}, "box": {...}, "files": {...}}
       + [oracle socket]
    -> {"kind": "judge", "box": {...}, "timeout": s} + [control socket, oracle socket]
    <- {"pid": pid of the sandbox's warden} or {"error": "..."}
Closing the socket stops the server and kills every process it started.
"""

import base64
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import threading

# Everything a kernel imports on its way to its first cell (ipykernel's debugger
# alone pulls in debugpy, 0.1 s per kernel), and what the judge and oracle need.
PRELOAD = (
    "ipykernel.kernelapp",
    "ipykernel.ipkernel",
    "ipykernel.zmqshell",
    "ipykernel.debugger",
    "IPython.core.history",
    "IPython.extensions.storemagic",
    "tornado.platform.asyncio",
    "pdb",
    "psutil",
    "faulthandler",
    "numpy",
    "numpy.random",
    "autograder",
    "autograder.judge.runner",
    "autograder.oracle.kernel_side",
)
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
MAX_FDS = 4


def send_message(sock, message, fds=()):
    body = json.dumps(message).encode()
    socket.send_fds(sock, [struct.pack(">I", len(body))], list(fds))
    sock.sendall(body)


def recv_message(sock):
    """(message, [fds]) or (None, []) when the peer closed the socket."""
    head, fds, _, _ = socket.recv_fds(sock, 4, MAX_FDS)
    if not head:
        return None, []
    while len(head) < 4:
        more = sock.recv(4 - len(head))
        if not more:
            return None, fds
        head += more
    (size,) = struct.unpack(">I", head)
    body = bytearray()
    while len(body) < size:
        chunk = sock.recv(size - len(body))
        if not chunk:
            return None, fds
        body += chunk
    return json.loads(body), fds


# --- the server process -----------------------------------------------------


def _reap(*_):
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _sandbox(request, keep_fds):
    from .sandbox import Sandbox, enter

    box = dict(request["box"])
    box["readonly"] = tuple(box.get("readonly", ()))
    box["files"] = {k: base64.b64decode(v) for k, v in request.get("files", {}).items()}
    box["env"] = {**box.get("env", {}), **{name: "1" for name in THREAD_VARIABLES}}
    box = Sandbox(**box)
    enter(box, keep_fds=keep_fds)
    return box


def _become_kernel(request, fds, base_path):
    (oracle_fd,) = fds
    box = _sandbox(request, keep_fds=[oracle_fd])
    connection_file = os.path.join(box.runtime, "connection.json")
    with open(connection_file, "w") as f:
        json.dump(request["connection"], f)
    os.environ["AUTOGRADER_ORACLE_FD"] = str(oracle_fd)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    sys.path[:] = base_path
    import numpy

    numpy.random.seed()  # a fresh kernel draws its own seed; a fork would share the server's
    from ipykernel.kernelapp import IPKernelApp

    app = IPKernelApp.instance()
    app.initialize(["-f", connection_file, *request["argv"]])
    app.start()


def _become_judge(request, fds, base_path):
    control_fd, oracle_fd = fds
    _sandbox(request, keep_fds=[control_fd, oracle_fd])
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    sys.path[:] = base_path
    from autograder.judge.runner import main

    main(control_fd, oracle_fd, timeout=request.get("timeout"))


def _child(request, fds, base_path):
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    os.setsid()
    try:
        if request["kind"] == "kernel":
            _become_kernel(request, fds, base_path)
        else:
            _become_judge(request, fds, base_path)
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        os._exit(1)


def serve(fd):
    base_path = [p for p in sys.path if p not in ("", os.getcwd())]
    for name in PRELOAD:
        try:
            __import__(name)
        except ImportError:  # an optional part (debugpy, psutil) absent: kernels import less
            pass
    signal.signal(signal.SIGCHLD, _reap)
    sock = socket.socket(fileno=fd)
    children = []
    send_message(sock, {"ready": True})
    while True:
        try:
            request, fds = recv_message(sock)
        except (OSError, ValueError):
            break
        if request is None:
            break
        if len(fds) != (1 if request.get("kind") == "kernel" else 2):
            for fd in fds:
                os.close(fd)
            send_message(sock, {"error": "wrong number of file descriptors"})
            continue
        try:
            pid = os.fork()
        except OSError as exc:  # e.g. a process limit reached: the grader retries
            send_message(sock, {"error": f"fork failed: {exc}"})
            for fd in fds:
                os.close(fd)
            continue
        if pid == 0:
            sock.close()
            _child(request, fds, base_path)
        for fd in fds:
            os.close(fd)
        children.append(pid)
        send_message(sock, {"pid": pid})
    for pid in children:
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass


# --- the client, in the grading process -----------------------------------


class ForkServer:
    """A running fork server; `spawn_kernel` and `spawn_judge` return a pid.

    With `wrap`, it runs inside bubblewrap when bwrap is installed (see
    sandbox.outer_command); `mode` says which: "bubblewrap", "namespaces"
    (unwrapped; each fork still enters its own sandbox) or "none".
    """

    def __init__(self, wrap=True, readonly=()):
        from . import sandbox

        self.mode = "namespaces" if wrap else "none"
        if wrap:
            try:
                self._start(sandbox, outer=True, readonly=readonly)
                self.mode = "bubblewrap"
                return
            except RuntimeError:
                pass  # no bwrap, or it cannot run here: the inner sandboxes alone
        self._start(sandbox, outer=False, readonly=readonly)

    def _start(self, sandbox, outer, readonly):
        ours, theirs = socket.socketpair()
        env = dict(os.environ, **{name: "1" for name in THREAD_VARIABLES})
        env["MPLBACKEND"] = "Agg"
        command = [sys.executable, "-m", "autograder.grading.forkserver", str(theirs.fileno())]
        if outer:
            wrapped = {name: "1" for name in THREAD_VARIABLES}
            command = sandbox.outer_command(command, readonly, dict(wrapped, MPLBACKEND="Agg"))
            if command is None:
                raise RuntimeError("bwrap is not installed")
        self.process = subprocess.Popen(
            command,
            pass_fds=[theirs.fileno()],
            env=env,
            cwd="/tmp" if outer else os.path.expanduser("~"),
            preexec_fn=sandbox.drop_privileges_if_root if outer else None,
            stderr=subprocess.DEVNULL if outer else None,
        )
        theirs.close()
        self.sock = ours
        self.lock = threading.Lock()
        ready, _ = recv_message(self.sock)
        if not ready:
            self.process.wait()
            raise RuntimeError("the kernel fork server did not start")

    def _spawn(self, request, fds):
        with self.lock:
            send_message(self.sock, request, fds)
            reply, _ = recv_message(self.sock)
        if reply is None:
            raise RuntimeError("the kernel fork server stopped")
        if "error" in reply:
            raise OSError(reply["error"])
        return reply["pid"]

    def spawn_kernel(self, argv, connection, box, files, oracle_fd):
        files = {k: base64.b64encode(v).decode() for k, v in files.items()}
        request = {
            "kind": "kernel",
            "argv": argv,
            "connection": connection,
            "box": box,
            "files": files,
        }
        return self._spawn(request, [oracle_fd])

    def spawn_judge(self, box, control_fd, oracle_fd, timeout=None):
        request = {"kind": "judge", "box": box, "timeout": timeout}
        return self._spawn(request, [control_fd, oracle_fd])

    def close(self):
        try:
            self.sock.close()
            self.process.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            self.process.kill()


class ForkedProcess:
    """Enough of `subprocess.Popen` for jupyter_client's local provisioner,
    for a process that is the fork server's child, not ours."""

    stdin = stdout = stderr = None

    def __init__(self, pid):
        self.pid = pid
        self.returncode = None

    def poll(self):
        if self.returncode is None:
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                self.returncode = -signal.SIGKILL
        return self.returncode

    def wait(self, timeout=None):
        import time

        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(str(self.pid), timeout)
            time.sleep(0.01)
        return self.returncode

    def send_signal(self, signum):
        try:
            os.kill(self.pid, signum)
        except ProcessLookupError:
            pass

    def kill(self):
        self.send_signal(signal.SIGKILL)

    def terminate(self):
        self.send_signal(signal.SIGTERM)


if __name__ == "__main__":
    serve(int(sys.argv[1]))
