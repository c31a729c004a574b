"""Talking to the student's code the same way in JupyterLab and when graded.

In JupyterLab a test cell runs in the student's kernel and these act on it
directly. When the course is graded the test cell runs in the judge, the
student's names are proxies, and each of these becomes one request to the
sandboxed kernel; the student never needs to know the difference.

    call_limited(fn, *args, time_limit_s=5)
    with recursion_limit(1000) as limit: ...      (then limit.changed)
    with replaced("topological_order", reference_order): ...   (or replaced({name: value, ...}))
    x = in_student_kernel(np.array(...))          (changes the student's code makes are seen)
    loss_fn = bind(mean_nll, w, Phi, s)           (a closure that runs where mean_nll lives)
    type_name(obj)
"""

import functools
import sys
from contextlib import ExitStack, contextmanager, nullcontext

from ..oracle import proxies
from ..oracle.proxies import Remote, remote_connection
from .calling import time_limit


def call_limited(fn, *args, time_limit_s=None, **kwargs):
    """`fn(*args, **kwargs)`, stopped with CallTimeout after `time_limit_s` seconds.

    Returns what fn returned and raises what it raised.
    """
    __tracebackhide__ = True  # IPython leaves this frame out of the student's traceback
    if isinstance(fn, Remote):
        return remote_connection(fn).call(fn, args, kwargs, limit=time_limit_s)[0]
    with time_limit(time_limit_s) if time_limit_s else nullcontext():
        return fn(*args, **kwargs)


class recursion_limit:
    """Within the block, Python's recursion limit of the student's code is
    `limit` (as in a fresh Python: 1000). Afterwards `changed` tells whether
    the code in the block changed the limit itself; the old limit is back."""

    def __init__(self, limit=1000):
        self.limit = limit
        self.changed = False

    def __enter__(self):
        self.connection = proxies.current()
        if self.connection:
            self.saved = self.connection.recursion_limit(self.limit)
        else:
            self.saved = sys.getrecursionlimit()
            sys.setrecursionlimit(self.limit)
        return self

    def __exit__(self, *exc):
        if self.connection:
            self.changed = self.connection.recursion_limit(self.saved) != self.limit
        else:
            self.changed = sys.getrecursionlimit() != self.limit
            sys.setrecursionlimit(self.saved)


def _notebook_namespace():
    try:
        return get_ipython().user_ns  # noqa: F821 (defined in IPython kernels)
    except NameError:
        return sys.modules["__main__"].__dict__


_ABSENT = object()


@contextmanager
def replaced(name, value=_ABSENT):
    """Within the block, the global `name` (of the notebook and of the
    student's code) is `value`; afterwards it is what it was before.
    `replaced({name: value, ...})` replaces several at once."""
    if isinstance(name, dict):
        with ExitStack() as stack:
            for one, new in name.items():
                stack.enter_context(replaced(one, new))
            yield name
        return
    connection = proxies.current()
    namespace = connection.namespace if connection else _notebook_namespace()
    before_here = namespace.get(name, _ABSENT)
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


def in_student_kernel(value):
    """`value` kept where the student's code runs: in JupyterLab the value
    itself; when grading, a proxy to the kernel's copy, so that what the
    student's code does to it in place (even while a test's callback runs)
    can be seen: np.array(x) reads it as it is now."""
    connection = proxies.current()
    return connection.value("keep", value) if connection else value


def bind(fn, *args, **kwargs):
    """functools.partial(fn, *args, **kwargs), made where `fn` lives: when
    grading and `fn` is the kernel's, the student's code can call the result
    without a round trip to the judge (e.g. a loss function for `train`)."""
    if isinstance(fn, Remote):
        return remote_connection(fn).call(functools.partial, (fn, *args), kwargs)[0]
    return functools.partial(fn, *args, **kwargs)


def type_name(obj):
    """The name of obj's type, also for objects of the student's kernel."""
    return type(obj).__name__
