"""The judge <-> kernel protocol on its own: a kernel-side Oracle in a forked
process, the judge's Connection and proxies here.

What crosses is plain data, validated on arrival; proxies behave like the
objects they stand for; exceptions keep their built-in type; callbacks run
only while the judge waits; a kernel that breaks the protocol ends the
connection with KernelGone, which no `except Exception` catches.
"""

import os
import socket
import struct
from fractions import Fraction

import numpy as np
import pytest

from autograder.oracle.channel import Channel, ProtocolError
from autograder.oracle.codec import Decoder, EncodeError, Encoder
from autograder.oracle.kernel_side import Oracle
from autograder.oracle.proxies import Connection, KernelGone, Remote

KERNEL_CODE = """
import numpy as np
from collections import namedtuple

class Node:
    def __init__(self, value, parents=()):
        self.value = np.asarray(value, dtype=float)
        self.parents = tuple(parents)
        self.grad = np.zeros_like(self.value)
    __array_priority__ = 100
    def __add__(self, other):
        return Node(self.value + getattr(other, "value", other), (self,) + ((other,) if isinstance(other, Node) else ()))
    def __radd__(self, other):
        return Node(other + self.value, (self,))
    def __repr__(self):
        return f"Node({self.value})"

Op = namedtuple("Op", "name nargs")
def double(x):
    return 2 * x
def apply(f, x):
    return f(x) + 1
def raises():
    raise ZeroDivisionError("nope")
def mutate(a):
    a[0] = 99.0
def returns(value):
    return value
def loops(*args):
    while True:
        pass
def calls_back_slowly(f):
    return f()
"""


@pytest.fixture
def kernel():
    """(Connection, pid) with an Oracle serving one cell at a time in a child."""
    ours, theirs = socket.socketpair()
    pid = os.fork()
    if pid == 0:
        ours.close()
        namespace = {}
        exec(KERNEL_CODE, namespace)
        oracle = Oracle(Channel(theirs), namespace)
        try:
            while True:
                oracle.serve()
        except Exception:
            os._exit(0)
    theirs.close()
    conn = Connection(Channel(ours), timeout=30)
    conn.begin_cell(30)
    yield conn
    conn.channel.close()
    os.waitpid(pid, 0)


def test_plain_values_cross_by_value(kernel):
    returns = kernel.getglobal("returns")
    values = [
        None, True, 3, 2.5, float("nan"), complex(1, 2), "text", b"\x00bytes", Fraction(1, 3),
        (1, [2, 3]), {"a": (1,), 2: [None]}, {1, 2}, frozenset({3}), slice(1, 5, 2), Ellipsis,
        np.float32(1.5), np.arange(6).reshape(2, 3), np.zeros((0, 3)), np.array([True, False]),
    ]  # fmt: skip
    for value in values:
        got = returns(value)
        if isinstance(value, np.ndarray):
            assert got.dtype == value.dtype and np.array_equal(got, value)
        elif isinstance(value, float) and value != value:
            assert got != got
        else:
            assert got == value and type(got) is type(value), value


def test_read_only_arrays_stay_read_only(kernel):
    mutate = kernel.getglobal("mutate")
    frozen = np.ones(3)
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        mutate(frozen)
    mutate(np.ones(3))  # a writable copy may change in the kernel; ours does not
    kept = kernel.value("keep", np.ones(3))
    mutate(kept)
    assert np.asarray(kept)[0] == 99.0


def test_proxies_behave_like_the_objects(kernel):
    Node = kernel.getglobal("Node")
    x = Node([1.0, 2.0])
    assert isinstance(x, Remote) and type(x).__name__ == "Node"
    assert isinstance(x, Node) and not isinstance(3.0, Node)
    y = x + 2.0
    z = np.array([10.0, 20.0]) + x  # numpy defers to the proxy: Node.__radd__ in the kernel
    assert np.array_equal(y.value, [3.0, 4.0]) and np.array_equal(z.value, [11.0, 22.0])
    assert y.parents[0] is x and {x, x, y} == {x, y}
    x.grad = np.array([5.0, 6.0])
    assert np.array_equal(x.grad, [5.0, 6.0])
    assert repr(x) == "Node([1. 2.])"
    op = kernel.getglobal("Op")("+", 2)
    assert op.name == "+" and op.nargs == 2 and tuple(op) == ("+", 2)


def test_exceptions_keep_their_builtin_type(kernel):
    with pytest.raises(ZeroDivisionError, match="nope"):
        kernel.getglobal("raises")()
    with pytest.raises(NameError):
        kernel.getglobal("not_defined_anywhere")
    with pytest.raises(AttributeError):
        _ = kernel.getglobal("Node")(1.0).missing


def test_callbacks_and_public_functions(kernel):
    apply = kernel.getglobal("apply")
    calls = []
    assert apply(lambda v: calls.append(v) or v * 10, 2.0) == 21.0 and calls == [2.0]
    assert apply(np.sin, 0.0) == 1.0  # numpy's sin, run in the kernel by name
    kernel.end_cell()
    kernel.begin_cell(30)
    with pytest.raises(EncodeError):
        apply(object(), 1.0)


def test_a_kernel_that_breaks_the_protocol_is_gone():
    ours, theirs = socket.socketpair()
    conn = Connection(Channel(ours), timeout=5)
    theirs.sendall(struct.pack(">II", 1 << 30, 0))  # a header length over the limit
    with pytest.raises(KernelGone):
        conn.getglobal("x")
    with pytest.raises(KernelGone):  # and stays gone
        conn.getglobal("y")
    assert not issubclass(KernelGone, Exception)
    theirs.close()


def test_a_kernel_that_does_not_answer_is_gone():
    ours, theirs = socket.socketpair()
    conn = Connection(Channel(ours), timeout=0.5)
    with pytest.raises(KernelGone, match="stopped answering"):
        conn.getglobal("x")
    theirs.close()


@pytest.mark.parametrize(
    "tree, buffers",
    [
        (["a", 0, "|O", [1], True], [b"12345678"]),  # object dtype
        (["a", 0, "<f8", [2], True], [b"12345678"]),  # size does not match the shape
        (["a", 0, "<f8", [-1], True], [b""]),  # negative dimension
        (["t", [["a", 0, "<f8", [1], True], ["a", 0, "<f8", [1], True]]], [b"12345678"]),  # reused
        (["q", 1], []),  # unknown tag
        (["d", [["l", []]], [1]], []),  # unhashable key
        (["nt", "Op", ["__class__"], [1]], []),  # not a field name
        (["fr", 1, 0], []),  # zero denominator
        (["k", 1, "Node"], []),  # a handle the judge never sent
    ],
)
def test_decoder_refuses_what_is_not_plain_data(tree, buffers):
    def resolve(t):
        raise ProtocolError("no references here")

    with pytest.raises(ProtocolError):
        Decoder(resolve).decode(tree, [bytearray(b) for b in buffers])


def test_decoder_refuses_deep_nesting():
    deep = 1
    for _ in range(60):
        deep = ["t", [deep]]
    with pytest.raises(ProtocolError):
        Decoder(lambda t: None).decode(deep, [])


def test_encoder_sends_handles_for_other_objects():
    seen = []
    encoder = Encoder(lambda obj: seen.append(obj) or ["k", len(seen), type(obj).__name__])
    tree, buffers = encoder.encode((np.ones(2), object(), [1, 2]))
    assert tree[0] == "t" and tree[1][1][0] == "k" and len(buffers) == 1


def test_time_limits_reach_the_kernel_through_the_tests_code(kernel):
    """call_student on a test's own function that calls the student's code: the
    limit goes with the requests, the kernel stops the loop, the connection lives."""
    import time

    from autograder.checking.calling import call_student
    from autograder.oracle import proxies

    loops = kernel.getglobal("loops")
    proxies.set_current(kernel)
    try:
        start = time.monotonic()
        outcome = call_student(lambda x: loops(x), np.ones(2), time_limit_s=0.5)
        assert outcome.error_type == "Timeout" and time.monotonic() - start < 5
        slow = kernel.getglobal("calls_back_slowly")
        outcome = call_student(lambda: slow(lambda: time.sleep(0.8) or 1.0), time_limit_s=0.3)
        assert outcome.error_type == "Timeout"
    finally:
        proxies.set_current(None)
    assert kernel.getglobal("returns")(7) == 7  # still in step after both time-outs
