"""The judge's side: objects of the student's kernel as `Remote` proxies.

A proxy forwards what test code does to it (call it, read or set an
attribute, apply an operator, iterate, compare) as a request to the kernel
and returns the answer: plain values (numbers, strings, numpy arrays,
containers of them) by value, other objects as further proxies. Functions of
the tests passed to the student's code become callbacks the kernel may call
while the judge waits; public functions (numpy's, the builtins) are sent by
name and run in the kernel itself.
"""

import importlib
import time
import weakref
from contextlib import contextmanager

import numpy as np

from .channel import ChannelClosed, ProtocolError
from .codec import PUBLIC_MODULES, EncodeError
from .rpc import CallTimeout, Endpoint

GRACE = 5.0  # seconds a kernel gets beyond a call's own time limit to answer
# Special names that are never looked up in the kernel (libraries probe for them).
_REMOTE_DUNDERS = {"__name__", "__qualname__", "__doc__", "__module__", "__dict__", "__wrapped__"}

_current = None


def current():
    """The connection to the kernel whose cell is being judged, or None."""
    return _current


def set_current(connection):
    global _current
    _current = connection


class KernelGone(BaseException):
    """The student's kernel stopped answering. A BaseException, so that no
    `except Exception` in a test can mistake it for the student's error."""


def public_name(obj):
    """'numpy.transpose' for a public function the kernel can import itself."""
    name = getattr(obj, "__name__", None)
    if isinstance(obj, np.ufunc):
        return f"numpy.{name}" if getattr(np, name, None) is obj else None
    module = getattr(obj, "__module__", None)
    if not isinstance(module, str) or not isinstance(name, str):
        return None
    # operator.neg lives in _operator, math's functions in math: try the public alias too
    for candidate in (module, module.split(".")[0], module.lstrip("_")):
        if candidate.split(".")[0] in PUBLIC_MODULES:
            try:
                if getattr(importlib.import_module(candidate), name, None) is obj:
                    return f"{candidate}.{name}"
            except ImportError:
                pass
    return None


class Connection(Endpoint):
    """The judge's end of one kernel's oracle socket."""

    def __init__(self, channel, timeout=None):
        super().__init__(channel)
        self.default_timeout = timeout
        self.deadlines = []
        self.proxies = weakref.WeakValueDictionary()
        self.released = set()
        self.exports, self.export_ids = {}, {}
        self.next_export = 1
        self.cache = {}
        self.broken = None
        self.limits = []  # deadlines of the time limits in force (see time_limit)

    # --- values ---------------------------------------------------------------

    def reference(self, obj):
        if isinstance(obj, Remote):
            if object.__getattribute__(obj, "_conn") is not self:
                raise EncodeError("a proxy of another kernel")
            return ["k", object.__getattribute__(obj, "_id")]
        name = public_name(obj)
        if name:
            return ["r", name]
        if callable(obj):
            return ["j", self.export(obj)]
        raise EncodeError(f"the tests cannot pass a {type(obj).__name__} to the student's code")

    def export(self, fn):
        fid = self.export_ids.get(id(fn))
        if fid is None or self.exports.get(fid) is not fn:
            fid = self.next_export
            self.next_export += 1
            self.exports[fid], self.export_ids[id(fn)] = fn, fid
        return fid

    def resolve(self, tree):
        if tree[0] == "k" and len(tree) == 3 and type(tree[1]) is int and isinstance(tree[2], str):
            number, type_name = tree[1], tree[2]
            proxy = self.proxies.get(number)
            if proxy is None:
                proxy = object.__new__(proxy_class(type_name))
                object.__setattr__(proxy, "_conn", self)
                object.__setattr__(proxy, "_id", number)
                self.proxies[number] = proxy
            self.released.discard(number)
            return proxy
        if tree[0] == "j" and len(tree) == 2 and tree[1] in self.exports:
            return self.exports[tree[1]]
        raise ProtocolError(f"unexpected reference {tree!r:.60}")

    def serve_request(self, header, value, meta):
        if header.get("op") != "cb" or not (isinstance(value, tuple) and len(value) == 3):
            raise ProtocolError("the kernel may only call back the tests' functions")
        fn, args, kwargs = value
        if not any(fn is f for f in self.exports.values()):
            raise ProtocolError("a callback to a function the tests did not pass")
        if not isinstance(args, tuple) or not isinstance(kwargs, dict):
            raise ProtocolError("bad callback arguments")
        if not all(isinstance(k, str) for k in kwargs):
            raise ProtocolError("bad callback keyword")
        return fn(*args, **kwargs)

    # --- requests -------------------------------------------------------------

    def timeout(self):
        if not self.deadlines:
            return self.default_timeout
        return max(min(self.deadlines) - time.monotonic(), 0.001)

    @contextmanager
    def time_limit(self, seconds):
        """Within the block, every request carries the time left, which the
        kernel enforces on the student's code (CallTimeout when it runs out)."""
        self.limits.append(time.monotonic() + seconds)
        try:
            yield
        finally:
            self.limits.pop()

    def send(self, op, value=None, limit=None, **fields):
        if self.broken:
            raise KernelGone(self.broken)
        if self.limits:
            left = min(self.limits) - time.monotonic()
            if left <= 0:
                raise CallTimeout("it did not return within its time limit: an infinite loop?")
            limit = min(limit or left, left)
        header = {"op": op, **fields}
        if limit:
            header["limit"] = limit
            self.deadlines.append(time.monotonic() + limit + GRACE)
        if self.released:
            header["rel"], self.released = sorted(self.released), set()
        try:
            return self.request(header, value)
        except ChannelClosed:
            self.broken = "the student's kernel stopped (it exited, crashed or was stopped)"
        except TimeoutError:
            self.broken = "the student's kernel stopped answering (an endless loop?)"
        except ProtocolError as exc:
            self.broken = f"the student's kernel sent an invalid answer ({exc})"
        finally:
            if limit:
                self.deadlines.pop()
        self.channel.close()
        raise KernelGone(self.broken)

    def value(self, op, value=None, **fields):
        return self.send(op, value, **fields)[1]

    def getglobal(self, name):
        if name not in self.cache:
            self.cache[name] = self.value("global", name)
        return self.cache[name]

    def setglobal(self, name, value):
        self.cache.pop(name, None)
        self.value("setglobal", (name, value))

    def delglobal(self, name):
        self.cache.pop(name, None)
        self.value("delglobal", name)

    def apply(self, name, *args):
        return self.value("apply", (name, args))

    def recursion_limit(self, limit):
        """Set the kernel's recursion limit; returns the one it had."""
        return self.value("recursionlimit", int(limit))

    def call(self, fn, args, kwargs, limit=None, quiet=False):
        """(value, meta) of fn(*args, **kwargs) in the kernel, under the given limits."""
        header, value = self.send("call", (fn, tuple(args), dict(kwargs)), limit=limit, quiet=quiet)
        return value, header.get("meta") or {}

    # --- cells ----------------------------------------------------------------

    def begin_cell(self, seconds=None):
        self.cache.clear()
        self.deadlines = [time.monotonic() + seconds] if seconds else []

    def end_cell(self):
        """Tell the kernel the cell is done; forget the cell's callbacks."""
        self.exports.clear()
        self.export_ids.clear()
        self.cache.clear()
        self.deadlines = []
        if not self.broken:
            header = {"op": "end", "id": 0}
            if self.released:
                header["rel"], self.released = sorted(self.released), set()
            try:
                self.channel.send(header)
            except ChannelClosed:
                self.broken = "the student's kernel stopped"


_classes = {}


def proxy_class(type_name):
    """A Remote subclass named like the kernel object's type (for messages)."""
    if not (type_name.isidentifier() and len(type_name) <= 100):
        type_name = "Remote"
    if type_name not in _classes:
        _classes[type_name] = type(type_name, (Remote,), {"__slots__": ()})
    return _classes[type_name]


def _conn(proxy):
    return object.__getattribute__(proxy, "_conn")


def remote_connection(proxy):
    """The Connection a proxy belongs to."""
    return _conn(proxy)


class Remote:
    """An object of the student's kernel, seen from the judge."""

    __slots__ = ("_conn", "_id", "__weakref__")
    __array_ufunc__ = None  # numpy defers `array + proxy` to our reflected methods

    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__") and name not in _REMOTE_DUNDERS:
            raise AttributeError(name)
        return _conn(self).value("getattr", (self, name))

    def __setattr__(self, name, value):
        _conn(self).value("setattr", (self, name, value))

    def __delattr__(self, name):
        _conn(self).value("delattr", (self, name))

    def __call__(self, *args, **kwargs):
        return _conn(self).call(self, args, kwargs)[0]

    def __del__(self):
        try:
            conn = _conn(self)
            if not conn.broken:
                conn.released.add(object.__getattribute__(self, "_id"))
        except Exception:
            pass

    def __reduce_ex__(self, protocol):
        raise TypeError("an object of the student's kernel cannot be copied or pickled")

    def __hash__(self):
        return hash(("remote", object.__getattribute__(self, "_id")))

    def __eq__(self, other):
        if isinstance(other, Remote):
            return self is other
        return _conn(self).apply("eq", self, other)

    def __ne__(self, other):
        if isinstance(other, Remote):
            return self is not other
        return _conn(self).apply("ne", self, other)

    def __repr__(self):
        try:
            return _conn(self).apply("repr", self)
        except Exception:
            return f"<{type(self).__name__} object of the student's kernel>"

    def __str__(self):
        return _conn(self).apply("str", self)

    def __format__(self, spec):
        return _conn(self).apply("format", self, spec)

    def __dir__(self):
        return _conn(self).apply("dir", self)

    def __iter__(self):
        return iter(_conn(self).apply("iter", self))

    def __array__(self, dtype=None, copy=None):
        arr = _conn(self).apply("array", self)
        if not isinstance(arr, np.ndarray):
            raise TypeError(f"a {type(self).__name__} is not an array of numbers")
        return arr if dtype is None else arr.astype(dtype)

    def __instancecheck__(self, obj):
        # Only the kernel's objects are instances of the kernel's classes. A value of
        # the judge's own (a number, an array, a test's object) is answered here, as a
        # copy of it sent to the kernel would be, without asking.
        if not isinstance(obj, Remote):
            return False
        return _conn(self).apply("isinstance", obj, self)

    def __subclasscheck__(self, cls):
        return _conn(self).apply("issubclass", cls, self)


def _unary(name):
    return lambda self: _conn(self).apply(name, self)


def _binary(name):
    return lambda self, other: _conn(self).apply(name, self, other)


def _reflected(name):
    return lambda self, other: _conn(self).apply(name, other, self)


for _op in "add sub mul truediv floordiv mod pow matmul and_ or_ xor lshift rshift".split():
    _dunder = _op.rstrip("_")
    setattr(Remote, f"__{_dunder}__", _binary(_op))
    setattr(Remote, f"__r{_dunder}__", _reflected(_op))
    setattr(Remote, f"__i{_dunder}__", _binary(f"i{_op.rstrip('_')}"))
for _op in "lt le gt ge".split():
    setattr(Remote, f"__{_op}__", _binary(_op))
for _op, _dunder in [("neg", "neg"), ("pos", "pos"), ("abs", "abs"), ("invert", "invert"),
                     ("bool", "bool"), ("len", "len"), ("float", "float"), ("int", "int"),
                     ("complex", "complex"), ("index", "index")]:  # fmt: skip
    setattr(Remote, f"__{_dunder}__", _unary(_op))
Remote.__contains__ = lambda self, item: _conn(self).apply("contains", self, item)
Remote.__getitem__ = lambda self, key: _conn(self).apply("getitem", self, key)
Remote.__setitem__ = lambda self, key, value: _conn(self).apply("setitem", self, key, value)
Remote.__delitem__ = lambda self, key: _conn(self).apply("delitem", self, key)
Remote.__divmod__ = _binary("divmod")
Remote.__rdivmod__ = _reflected("divmod")
Remote.__round__ = lambda self, n=None: _conn(self).apply("round", self, n)
