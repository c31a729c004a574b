"""Step 2 of a check: call the student's function and record what happened.

The student gets read-only copies of the inputs, so in-place modification
raises instead of silently corrupting the check. What comes back is stored as
plain copies (an `Outcome`), which can be pickled and judged elsewhere.
"""

import signal
import sysconfig
import threading
import time
import traceback
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..oracle.proxies import Remote, remote_connection
from ..oracle.proxies import current as current_connection
from ..oracle.rpc import CallTimeout, RemoteError

_PACKAGE_DIR = str(Path(__file__).resolve().parent)
_STDLIB_DIR = sysconfig.get_paths()["stdlib"]


@dataclass(frozen=True)
class Item:
    """One returned value: its Python type name and a numpy copy, if numeric."""

    type_name: str
    array: np.ndarray | None


@dataclass(frozen=True)
class Outcome:
    """What the student's function did: returned `value` or raised `error`.

    `items` holds the elements of a returned tuple or list; `single` a value
    that was not a sequence. `mutated` is set when the function tried to write
    into one of its (read-only) inputs.
    """

    container: str | None = None
    items: tuple | None = None
    single: Item | None = None
    error: str | None = None
    error_type: str | None = None
    student_traceback: str = ""
    mutated: bool = False

    @property
    def raised(self):
        return self.error is not None


def read_only_copy(x):
    """A float64 copy of `x` that raises if written to."""
    arr = np.array(x, dtype=np.float64, copy=True)
    arr.setflags(write=False)
    return arr


def _item(value):
    type_name = type(value).__name__
    if value is None or isinstance(value, (str, bytes, dict, set)):
        return Item(type_name, None)
    try:
        arr = np.array(value, copy=True)
    except Exception:
        return Item(type_name, None)
    if arr.dtype == object:
        return Item(type_name, None)
    return Item(type_name, arr)


def snapshot(value):
    """An `Outcome` holding copies of what the student's function returned."""
    if isinstance(value, (tuple, list)):
        return Outcome(container=type(value).__name__, items=tuple(_item(v) for v in value))
    return Outcome(container=type(value).__name__, single=_item(value))


def _is_library(filename):
    return (
        filename.startswith(_PACKAGE_DIR)
        or "site-packages" in filename
        or (filename.startswith(_STDLIB_DIR))
    )


def _student_frames(exc):
    """The last frames of the traceback that are the student's own code."""
    frames = traceback.extract_tb(exc.__traceback__)
    own = [fr for fr in frames if not _is_library(fr.filename)]
    return "".join(traceback.format_list(own[-3:]))


@contextmanager
def time_limit(seconds):
    """Raise CallTimeout in this thread after `seconds` (main thread, Unix only).

    Limits nest: an outer limit that ends sooner stays in force. Off the main
    thread it does nothing, and nbgrader's per-cell timeout still applies. In
    the judge no alarm is set (it could cut a request to the kernel in half):
    the limit goes with every request made meanwhile, and the kernel applies
    it to the student's code.
    """
    if not seconds:
        yield
        return
    connection = current_connection()
    if connection is not None:
        with connection.time_limit(seconds):
            yield
        return
    if not (hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()):
        yield
        return

    def on_alarm(signum, frame):
        raise CallTimeout(
            f"it did not return within {seconds:g} s: an infinite loop? (e.g. a while "
            "loop whose condition never changes)"
        )

    previous = signal.signal(signal.SIGALRM, on_alarm)
    outer, _ = signal.getitimer(signal.ITIMER_REAL)
    start = time.monotonic()
    signal.setitimer(signal.ITIMER_REAL, min(seconds, outer) if outer else seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer:
            signal.setitimer(signal.ITIMER_REAL, max(outer - (time.monotonic() - start), 1e-3))


DEFAULT_TIME_LIMIT = 10.0


def call_student(fn, *args, time_limit_s=DEFAULT_TIME_LIMIT, **kwargs):
    """Call `fn(*args, **kwargs)` with read-only array arguments; never raises.

    Warnings (numpy RuntimeWarnings included) are silenced: a correct answer
    must not lose points for printing to stderr. A call that runs longer than
    `time_limit_s` seconds is stopped and reported. MemoryError is re-raised:
    a memory bomb makes the notebook ungradable rather than merely wrong.
    When grading, `fn` is a proxy and the call runs in the student's kernel.
    """
    safe_args = tuple(read_only_copy(a) if _is_array_like(a) else a for a in args)
    if isinstance(fn, Remote):
        return _call_remote(fn, safe_args, kwargs, time_limit_s)
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"), time_limit(time_limit_s):
            warnings.simplefilter("ignore")
            value = fn(*safe_args, **kwargs)
    except CallTimeout as exc:
        return Outcome(error=str(exc), error_type="Timeout", student_traceback=_student_frames(exc))
    except MemoryError:
        raise
    except Exception as exc:  # the student's error is the result, not a crash
        message = str(exc)
        mutated = isinstance(exc, ValueError) and "read-only" in message
        return Outcome(
            error=message,
            error_type=type(exc).__name__,
            student_traceback=_student_frames(exc),
            mutated=mutated,
        )
    return snapshot(value)


def _call_remote(fn, args, kwargs, time_limit_s):
    try:
        value, _ = remote_connection(fn).call(fn, args, kwargs, limit=time_limit_s, quiet=True)
    except CallTimeout as exc:
        return Outcome(
            error=str(exc),
            error_type="Timeout",
            student_traceback=getattr(exc, "remote_traceback", ""),
        )
    except RemoteError as exc:
        if isinstance(exc, MemoryError):
            raise
        message = str(exc)
        return Outcome(
            error=message,
            error_type=exc.remote_type,
            student_traceback=exc.remote_traceback,
            mutated=isinstance(exc, ValueError) and "read-only" in message,
        )
    return snapshot(value)


def _is_array_like(a):
    return isinstance(a, (np.ndarray, np.generic))
