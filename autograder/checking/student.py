"""Talking to the student's code the same way in JupyterLab and when graded.

In JupyterLab a test cell runs in the student's kernel and these act on it
directly. When the course is graded the test cell runs in the judge, the
student's names are proxies, and each of these becomes one request to the
sandboxed kernel; the student never needs to know the difference.

    call_limited(fn, *args, time_limit_s=5, recursion_limit=1000)
    with replaced("topological_order", reference_order): ...
    type_name(obj)
"""

import sys
from contextlib import contextmanager, nullcontext

from ..oracle import proxies
from ..oracle.proxies import Remote, remote_connection
from ..oracle.rpc import RemoteError
from .calling import CallTimeout, time_limit
from .verdicts import GradingError


class RecursionLimitChanged(GradingError):
    """The student's code changed Python's recursion limit during a call."""


def _name(fn):
    return getattr(fn, "__name__", None) or type(fn).__name__


def call_limited(fn, *args, time_limit_s=None, recursion_limit=None, **kwargs):
    """`fn(*args, **kwargs)`, stopped with CallTimeout after `time_limit_s`
    seconds and run with Python's recursion limit at `recursion_limit`.

    Returns what fn returned and raises what it raised (a RecursionError
    included); raises RecursionLimitChanged if fn changed the limit itself.
    """
    if isinstance(fn, Remote):
        try:
            value, meta = remote_connection(fn).call(
                fn, args, kwargs, limit=time_limit_s, recursion=recursion_limit
            )
        except RemoteError as exc:
            if exc.remote_type == "CallTimeout":
                raise CallTimeout(str(exc)) from None
            raise
        changed = meta.get("recursion_changed", False)
    else:
        saved = sys.getrecursionlimit()
        with time_limit(time_limit_s) if time_limit_s else nullcontext():
            if recursion_limit:
                sys.setrecursionlimit(recursion_limit)
            try:
                value = fn(*args, **kwargs)
            finally:
                changed = bool(recursion_limit) and sys.getrecursionlimit() != recursion_limit
                sys.setrecursionlimit(saved)
    if changed:
        raise RecursionLimitChanged(
            f"{_name(fn)} changed Python's recursion limit (sys.setrecursionlimit): that only "
            "postpones the crash (deep recursion can overflow the C stack). Write it without "
            "recursion, with an explicit stack."
        )
    return value


def _notebook_namespace():
    try:
        return get_ipython().user_ns  # noqa: F821 (defined in IPython kernels)
    except NameError:
        return sys.modules["__main__"].__dict__


_ABSENT = object()


@contextmanager
def replaced(name, value):
    """Within the block, the global `name` (of the notebook and of the
    student's code) is `value`; afterwards it is what it was before."""
    connection = proxies.current()
    namespace = connection.namespace if connection else _notebook_namespace()
    before_here = namespace.get(name, _ABSENT) if isinstance(namespace, dict) else _ABSENT
    if connection:
        try:
            before_there = connection.getglobal(name)
        except NameError:
            before_there = _ABSENT
        connection.setglobal(name, value)
    namespace[name] = value
    try:
        yield value
    finally:
        if before_here is _ABSENT:
            namespace.pop(name, None)
        else:
            namespace[name] = before_here
        if connection:
            if before_there is _ABSENT:
                connection.delglobal(name)
            else:
                connection.setglobal(name, before_there)


def type_name(obj):
    """The name of obj's type, also for objects of the student's kernel."""
    return type(obj).__name__
