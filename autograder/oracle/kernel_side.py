"""The oracle: runs inside the student's kernel while a test cell is graded.

The grader gives the kernel one end of a socket (its number in
AUTOGRADER_ORACLE_FD) and, for each test cell, executes `serve()`, which
answers the judge's requests until the judge says the cell is done. Nothing
here is trusted by the judge: a student's code may replace any of it, and the
judge only ever gets plain data back.
"""

import importlib
import itertools
import operator
import os
import signal
import sys
import sysconfig
import threading
import warnings
from contextlib import contextmanager, nullcontext

import numpy as np

from .channel import Channel, ProtocolError
from .codec import PUBLIC_MODULES, ByReference
from .rpc import Endpoint, describe_exception, format_frames

FD_VARIABLE = "AUTOGRADER_ORACLE_FD"
MAX_ITER = 1_000_000
MAX_TEXT = 100_000
_HERE = os.path.dirname(os.path.abspath(__file__))
_PACKAGE = os.path.dirname(_HERE)
_STDLIB = sysconfig.get_paths()["stdlib"]


def _text(fn):
    return lambda *a: fn(*a)[:MAX_TEXT]


APPLY = {
    **{
        name: getattr(operator, name)
        for name in (
            "add sub mul truediv floordiv mod pow matmul and_ or_ xor lshift rshift "
            "neg pos abs invert lt le eq ne gt ge getitem setitem delitem contains index "
            "iadd isub imul itruediv ifloordiv imod ipow imatmul iand ior ixor"
        ).split()
    },
    "len": len,
    "bool": bool,
    "float": float,
    "int": int,
    "complex": complex,
    "hash": hash,
    "round": round,
    "divmod": divmod,
    "isinstance": isinstance,
    "issubclass": issubclass,
    "callable": callable,
    "repr": _text(repr),
    "str": _text(str),
    "format": _text(format),
    "dir": lambda o: sorted(dir(o)),
    "iter": lambda o: list(itertools.islice(iter(o), MAX_ITER)),
    "array": np.asarray,
}


def _hidden_frame(filename):
    return (
        filename.startswith(_PACKAGE)
        or "site-packages" in filename
        or filename.startswith(_STDLIB)
        or filename.startswith("<frozen")
    )


@contextmanager
def _alarm_deferred():
    """Within the block, a SIGALRM (a time limit running out) waits for its end."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    rang = []
    previous = signal.signal(signal.SIGALRM, lambda signum, frame: rang.append(frame))
    try:
        yield
    finally:
        signal.signal(signal.SIGALRM, previous)
        if rang and callable(previous):
            previous(signal.SIGALRM, rang[0])


class JudgeFunction:
    """A function of the judge's, callable from the student's code."""

    def __init__(self, oracle, fid):
        self._oracle, self._fid = oracle, fid

    def __call__(self, *args, **kwargs):
        with _alarm_deferred():  # a time limit must not cut the exchange with the judge in half
            _, value = self._oracle.request({"op": "cb"}, (self, args, kwargs))
        return value

    def __repr__(self):
        return "<function of the tests>"


class Oracle(Endpoint):
    def __init__(self, channel, namespace):
        super().__init__(channel)
        self.namespace = namespace
        self.objects, self.numbers, self.stubs = {}, {}, {}
        self.next_handle = 1

    # --- values ---------------------------------------------------------------

    def reference(self, obj):
        if isinstance(obj, JudgeFunction) and obj._oracle is self:
            return ["j", obj._fid]
        number = self.numbers.get(id(obj))
        if number is None:
            number = self.next_handle
            self.next_handle += 1
            self.numbers[id(obj)] = number
            self.objects[number] = obj
        return ["k", number, type(obj).__name__[:100]]

    def resolve(self, tree):
        tag = tree[0]
        if tag == "k" and len(tree) >= 2 and tree[1] in self.objects:
            return self.objects[tree[1]]
        if tag == "j" and len(tree) == 2 and type(tree[1]) is int:
            return self.stubs.setdefault(tree[1], JudgeFunction(self, tree[1]))
        if tag == "r" and len(tree) == 2 and isinstance(tree[1], str):
            module, _, name = tree[1].rpartition(".")
            if module.split(".")[0] in PUBLIC_MODULES:
                return getattr(importlib.import_module(module), name)
        raise ProtocolError(f"unknown reference {tree!r:.80}")

    def release(self, numbers):
        for number in numbers if isinstance(numbers, list) else ():
            obj = self.objects.pop(number, None)
            if obj is not None:
                self.numbers.pop(id(obj), None)

    def describe(self, exc):
        return describe_exception(exc, format_frames(exc, _hidden_frame))

    # --- requests from the judge ---------------------------------------------

    def serve_request(self, header, value, meta):
        from ..checking.calling import time_limit

        self.release(header.get("rel"))
        with time_limit(header.get("limit")):
            return self._answer(header, value)

    def _answer(self, header, value):
        op = header.get("op")
        if op == "global":
            try:
                return self.namespace[value]
            except KeyError:
                raise NameError(f"name {value!r} is not defined") from None
        if op == "setglobal":
            name, new = value
            self.namespace[name] = new
            return None
        if op == "delglobal":
            self.namespace.pop(value, None)
            return None
        if op == "getattr":
            return getattr(*value)
        if op == "setattr":
            return setattr(*value)
        if op == "delattr":
            return delattr(*value)
        if op == "apply":
            name, args = value
            return APPLY[name](*args)
        if op == "call":
            fn, args, kwargs = value
            return self.call(fn, args, kwargs, header.get("quiet"))
        if op == "keep":
            return ByReference(value)
        if op == "walk":
            from ..checking.graphs import _walk

            root, parents, node_type, fields = value
            return _walk(root, parents, node_type, tuple(fields))
        if op == "nest":
            from ..checking.graphs import _nest

            fn, x, times, args = value
            return _nest(fn, x, times, args)
        if op == "recursionlimit":
            previous = sys.getrecursionlimit()
            sys.setrecursionlimit(value)
            return previous
        raise ProtocolError(f"unknown request {op!r}")

    def call(self, fn, args, kwargs, quiet):
        with warnings.catch_warnings() if quiet else nullcontext():
            if quiet:
                warnings.simplefilter("ignore")
            with np.errstate(all="ignore") if quiet else nullcontext():
                return fn(*args, **kwargs)

    def serve(self):
        """Answer requests until the judge ends the cell."""
        while True:
            header, buffers = self.channel.recv()
            if header.get("op") == "end":
                self.release(header.get("rel"))
                self.stubs.clear()
                return
            self._serve(header, buffers)


_oracle = None


def serve():
    """Serve the judge for one test cell (the grader runs this in the kernel)."""
    global _oracle
    if _oracle is None:
        fd = os.environ.get(FD_VARIABLE)
        if fd is None:
            raise RuntimeError("not a grading kernel: nothing to serve")
        try:
            namespace = get_ipython().user_ns  # noqa: F821 (IPython's builtin)
        except NameError:
            namespace = sys.modules["__main__"].__dict__
        _oracle = Oracle(Channel.from_fd(int(fd)), namespace)
    _oracle.serve()
