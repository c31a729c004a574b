"""Plain values as JSON trees plus raw buffers, and back.

A tree is a JSON scalar (None, bool, int, float, str) or a tagged list:

    ["t", [items]]  tuple          ["l", [items]]  list
    ["d", [keys], [values]]  dict  ["s", [items]]  set   ["fs", [items]]  frozenset
    ["c", re, im]  complex         ["b", k]  bytes in buffer k
    ["a", k, dtype, shape, writeable]  numpy array in buffer k
    ["n", k, dtype]  numpy scalar  ["nt", name, [fields], [items]]  namedtuple
    ["sl", start, stop, step]  slice   ["e"]  Ellipsis   ["fr", num, den]  Fraction
    ["k", id, type name]  an object that lives in the student's kernel (a handle)
    ["j", id]  a function of the judge that the kernel may call back
    ["r", "numpy.transpose"]  a public function, by name

Encoding never runs code of the value beyond numpy's buffer copy; decoding
only builds plain values (the caller resolves the k/j/r tags) and checks every
tag, type, dtype, shape and size first, so a hostile sender can make it fail
but not run anything.
"""

import keyword
import math
from fractions import Fraction

import numpy as np

from .channel import ProtocolError

MAX_DEPTH = 48
MAX_ITEMS = 2_000_000
MAX_STRING = 16 * 2**20
# Modules whose functions cross by name (the "r" tag), imported again on the other side.
PUBLIC_MODULES = ("numpy", "math", "cmath", "operator", "builtins", "functools")
_ALLOWED = ("?", "i1", "u1", "i2", "u2", "i4", "u4", "i8", "u8", "f2", "f4", "f8", "c8", "c16")
DTYPES = {
    np.dtype(code).newbyteorder("<").str: np.dtype(code).newbyteorder("<") for code in _ALLOWED
}
DTYPES.update({np.dtype(code).str: np.dtype(code) for code in ("?", "i1", "u1")})


class EncodeError(TypeError):
    """A value that cannot be sent."""


class ByReference:
    """Wraps a value to be sent as a handle even if it is plain data."""

    def __init__(self, obj):
        self.obj = obj


def _wire_dtype(dtype):
    """The dtype an array crosses the wire in, or None if it cannot."""
    if dtype.kind not in "biufc" or dtype.fields is not None or dtype.subdtype is not None:
        return None
    wire = dtype.newbyteorder("<") if dtype.byteorder in (">", "=") else dtype
    return wire if wire.str in DTYPES else None


class Encoder:
    """Turns a value into (tree, buffers); `reference(obj)` encodes everything
    that is not plain data (a handle, a callback, a named function) or raises."""

    def __init__(self, reference):
        self.reference = reference

    def encode(self, value):
        self.buffers = []
        self.items = 0
        tree = self._enc(value, 0)
        buffers, self.buffers = self.buffers, None
        return tree, buffers

    def _buffer(self, data):
        self.buffers.append(data)
        return len(self.buffers) - 1

    def _array(self, arr):
        wire = _wire_dtype(arr.dtype)
        if wire is None:
            return None
        data = np.ascontiguousarray(arr, dtype=wire)
        return [
            "a",
            self._buffer(data.tobytes()),
            wire.str,
            list(arr.shape),
            bool(arr.flags.writeable),
        ]

    def _enc(self, v, depth):
        self.items += 1
        if depth > MAX_DEPTH or self.items > MAX_ITEMS:
            raise EncodeError("the value is nested too deeply or has too many items")
        t = type(v)
        if v is None or t is bool or t is int or t is str:
            return v
        if t is ByReference:
            return self.reference(v.obj)
        if t is float:
            return v
        if t is complex:
            return ["c", v.real, v.imag]
        if t is bytes:
            return ["b", self._buffer(v)]
        if isinstance(v, np.ndarray):
            tree = self._array(np.asarray(v))
            return tree if tree is not None else self.reference(v)
        if isinstance(v, np.generic):
            wire = _wire_dtype(v.dtype)
            if wire is None:
                return self.reference(v)
            return ["n", self._buffer(np.asarray(v, dtype=wire).tobytes()), wire.str]
        d = depth + 1
        if t is tuple:
            return ["t", [self._enc(x, d) for x in v]]
        if t is list:
            return ["l", [self._enc(x, d) for x in v]]
        if t is dict:
            return ["d", [self._enc(k, d) for k in v], [self._enc(x, d) for x in v.values()]]
        if t is set or t is frozenset:
            return ["s" if t is set else "fs", [self._enc(x, d) for x in v]]
        if isinstance(v, tuple) and isinstance(getattr(t, "_fields", None), tuple):
            fields = [str(f) for f in t._fields]
            items = [self._enc(x, d) for x in tuple.__iter__(v)]
            return ["nt", t.__name__, fields, items]
        if isinstance(v, tuple):
            return ["t", [self._enc(x, d) for x in tuple.__iter__(v)]]
        if isinstance(v, list):
            return ["l", [self._enc(x, d) for x in list.__iter__(v)]]
        if t is Fraction:
            return ["fr", v.numerator, v.denominator]
        if t is slice:
            return ["sl", self._enc(v.start, d), self._enc(v.stop, d), self._enc(v.step, d)]
        if v is Ellipsis:
            return ["e"]
        return self.reference(v)


class RemoteNamedTuple(tuple):
    """A namedtuple from the other side: a tuple whose fields read by name."""

    __slots__ = ()
    _fields = ()
    _typename = "namedtuple"

    def __getattr__(self, name):
        try:
            return self[type(self)._fields.index(name)]
        except ValueError:
            raise AttributeError(name) from None

    def __repr__(self):
        inner = ", ".join(f"{f}={v!r}" for f, v in zip(self._fields, self))
        return f"{self._typename}({inner})"


_namedtuple_classes = {}


def _namedtuple_class(name, fields):
    key = (name, fields)
    if key not in _namedtuple_classes:
        _namedtuple_classes[key] = type(
            "RemoteNamedTuple",
            (RemoteNamedTuple,),
            {"__slots__": (), "_fields": fields, "_typename": name},
        )
    return _namedtuple_classes[key]


def _fail(what):
    raise ProtocolError(f"invalid value: {what}")


def _is_name(text, limit=200):
    return isinstance(text, str) and 0 < len(text) <= limit and text.isidentifier()


def _is_field(text):
    """A namedtuple field name (the rules of collections.namedtuple)."""
    return _is_name(text) and not text.startswith("_") and not keyword.iskeyword(text)


class Decoder:
    """Builds values from (tree, buffers); `resolve(tree)` turns the k/j/r tags
    into objects (or raises ProtocolError)."""

    def __init__(self, resolve):
        self.resolve = resolve

    def decode(self, tree, buffers):
        self.buffers = buffers
        self.used = set()
        self.items = 0
        try:
            return self._dec(tree, 0)
        finally:
            self.buffers = None

    def _take(self, k):
        if type(k) is not int or not 0 <= k < len(self.buffers) or k in self.used:
            _fail("bad buffer reference")
        self.used.add(k)
        return self.buffers[k]

    def _dtype(self, code):
        if not isinstance(code, str) or code not in DTYPES:
            _fail(f"dtype {code!r} is not allowed")
        return DTYPES[code]

    def _dec(self, t, depth):
        self.items += 1
        if depth > MAX_DEPTH or self.items > MAX_ITEMS:
            _fail("nested too deeply or too many items")
        kind = type(t)
        if t is None or kind is bool or kind is int or kind is float:
            return t
        if kind is str:
            if len(t) > MAX_STRING:
                _fail("string too long")
            return t
        if kind is not list or not t or type(t[0]) is not str:
            _fail("not a tagged value")
        tag, n, d = t[0], len(t), depth + 1
        if tag in ("t", "l", "s", "fs") and n == 2 and type(t[1]) is list:
            items = [self._dec(x, d) for x in t[1]]
            try:
                return {"t": tuple, "l": list, "s": set, "fs": frozenset}[tag](items)
            except TypeError:
                _fail("unhashable set item")
        if tag == "a" and n == 5:
            dtype, shape = self._dtype(t[2]), t[3]
            if (
                type(shape) is not list
                or len(shape) > 32
                or any(type(s) is not int or s < 0 for s in shape)
                or type(t[4]) is not bool
            ):
                _fail("bad array shape")
            data = self._take(t[1])
            if math.prod(shape) * dtype.itemsize != len(data):
                _fail("array size does not match its shape")
            arr = np.frombuffer(data, dtype=dtype).reshape(shape)
            if t[4] and not arr.flags.writeable:
                arr = arr.copy()
            arr.flags.writeable = t[4]
            return arr
        if tag == "n" and n == 3:
            dtype, data = self._dtype(t[2]), self._take(t[1])
            if len(data) != dtype.itemsize:
                _fail("bad scalar size")
            return np.frombuffer(bytes(data), dtype=dtype)[0]
        if tag == "d" and n == 3 and type(t[1]) is list and type(t[2]) is list:
            if len(t[1]) != len(t[2]):
                _fail("dict keys and values differ in number")
            keys = [self._dec(k, d) for k in t[1]]
            values = [self._dec(v, d) for v in t[2]]
            try:
                return dict(zip(keys, values))
            except TypeError:
                _fail("unhashable dict key")
        if tag == "c" and n == 3 and all(type(x) in (int, float) for x in t[1:]):
            return complex(t[1], t[2])
        if tag == "b" and n == 2:
            return bytes(self._take(t[1]))
        if tag == "nt" and n == 4 and _is_name(t[1]) and type(t[2]) is list:
            fields = tuple(t[2])
            if not all(_is_field(f) for f in fields) or type(t[3]) is not list:
                _fail("bad namedtuple")
            if len(fields) != len(t[3]) or len(fields) > 256:
                _fail("namedtuple fields and items differ")
            return _namedtuple_class(t[1], fields)(self._dec(x, d) for x in t[3])
        if tag == "fr" and n == 3 and type(t[1]) is int and type(t[2]) is int and t[2] > 0:
            return Fraction(t[1], t[2])
        if tag == "sl" and n == 4:
            return slice(*(self._dec(x, d) for x in t[1:]))
        if tag == "e" and n == 1:
            return Ellipsis
        if tag in ("k", "j", "r"):
            return self.resolve(t)
        _fail(f"unknown tag {tag!r}")
