"""Start grading kernels by forking a process that has already imported them.

A fresh `python -m ipykernel_launcher` spends most of a second importing
ipykernel, IPython, numpy and the autograder before running one cell; for
a short notebook that is most of its grading time. The fork server imports
them once; each kernel is then a fork of it (copy-on-write, milliseconds)
that sets its limits, enters its own session and folder, and starts
`IPKernelApp` exactly as `ipykernel_launcher` would.

Protocol, one JSON line each way on the server's stdin/stdout:
    -> {"argv": [...kernel args...], "cwd": ..., "env": {...}, "memory_mib": M, "file_mib": F}
    <- {"pid": 1234}
Closing stdin stops the server and kills every kernel it started.
"""

import json
import os
import signal
import subprocess
import sys
import threading

PRELOAD = ("ipykernel.kernelapp", "numpy", "autograder")


# --- the server process ---------------------------------------------------


def _reap(*_):
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _become_kernel(request, base_path):
    import resource

    from _limited_launch import THREAD_VARIABLES, _limit

    os.setsid()
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    _limit(resource.RLIMIT_AS, request["memory_mib"] * 2**20)
    _limit(resource.RLIMIT_FSIZE, request["file_mib"] * 2**20)
    _limit(resource.RLIMIT_CORE, 0)
    os.environ.clear()
    os.environ.update(request["env"])
    for name in THREAD_VARIABLES:
        os.environ[name] = "1"
    os.chdir(request["cwd"])
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    sys.path[:] = base_path
    import numpy

    numpy.random.seed()  # a fresh kernel draws its own seed; a fork would share the server's
    from ipykernel.kernelapp import IPKernelApp

    app = IPKernelApp.instance()
    app.initialize(request["argv"])
    app.start()


def serve():
    base_path = [p for p in sys.path if p not in ("", os.getcwd())]
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    for name in PRELOAD:
        __import__(name)
    signal.signal(signal.SIGCHLD, _reap)
    children = []
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            try:
                _become_kernel(request, base_path)
            finally:
                os._exit(0)
        children.append(pid)
        print(json.dumps({"pid": pid}), flush=True)
    for pid in children:
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass


# --- the client, in the grading process -----------------------------------


class ForkServer:
    """A running fork server; `spawn` returns the pid of a new kernel."""

    def __init__(self):
        env = dict(
            os.environ,
            **{
                name: "1" for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
            },
        )
        self.process = subprocess.Popen(
            [sys.executable, "-m", "autograder.forkserver"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            cwd=os.path.expanduser("~"),
        )
        self.lock = threading.Lock()
        ready = self.process.stdout.readline()
        if not ready:
            raise RuntimeError("the kernel fork server did not start")

    def spawn(self, argv, cwd, env, memory_mib, file_mib):
        request = {
            "argv": argv,
            "cwd": str(cwd),
            "env": env,
            "memory_mib": memory_mib,
            "file_mib": file_mib,
        }
        with self.lock:
            self.process.stdin.write(json.dumps(request) + "\n")
            self.process.stdin.flush()
            reply = self.process.stdout.readline()
        if not reply:
            raise RuntimeError("the kernel fork server stopped")
        return json.loads(reply)["pid"]

    def close(self):
        try:
            self.process.stdin.close()
            self.process.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            self.process.kill()


class ForkedProcess:
    """Enough of `subprocess.Popen` for jupyter_client's local provisioner,
    for a kernel that is the fork server's child, not ours."""

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
        os.kill(self.pid, signum)

    def kill(self):
        self.send_signal(signal.SIGKILL)

    def terminate(self):
        self.send_signal(signal.SIGTERM)


if __name__ == "__main__":
    serve()
