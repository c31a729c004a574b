"""engine.py: the course's reverse-mode automatic-differentiation engine on numpy arrays.

This is the engine of Lecture 05 together with the solution of Assignment 05; it is released with
Lecture 06, after Assignment 05 is due; the lectures from 06 on import it::

    from engine import Tensor, concatenate, no_grad, topological_order

It has three parts, each small enough to read in one go:

1. the op table: every primitive is a record ``Op(apply, vjp, name, nargs)``; its VJP follows the
   course template ``op_vjp(dldf, *inputs, **kwargs) -> tuple`` (one gradient per array input, each
   of that input's shape), one line per op where possible, in the style of HIPS autograd's
   ``numpy_vjps.py``;
2. the ``Tensor`` class: a float64 array that records the graph as the code runs (``value``,
   ``grad``, ``parents``, ``op``, ``kwargs``); every operator goes through ``apply_op``;
3. the backward pass: an iterative ``topological_order``, ``backward(grad=None)`` (one VJP call per
   op node, contributions added up, gradients accumulate across calls) and ``zero_grad()``.

Conventions at kinks and ties: ``maximum(a, b)`` sends the whole cotangent to ``b`` on a tie, ReLU
has derivative 0 at 0, and the ``max`` reduction splits the cotangent equally among tied maxima.
"""

from collections import namedtuple
from contextlib import contextmanager

import numpy as np

__all__ = [
    "Op", "NoOp", "TABLE", "Tensor", "as_tensor", "apply_op", "concatenate", "no_grad",
    "topological_order", "unbroadcast", "normalize_axes", "sigmoid", "relu", "power",
]


# ------------------------------------------------------------------------------------------------
# 1. The op table
# ------------------------------------------------------------------------------------------------

def unbroadcast(target, g):
    """Sum g (shape of a broadcast result) back to the shape of target."""
    g = np.asarray(g)
    g = g.sum(axis=tuple(range(g.ndim - np.ndim(target))))                 # leading axes added by broadcasting
    stretched = tuple(i for i, n in enumerate(np.shape(target)) if n == 1)  # size-1 axes that were stretched
    return g.sum(axis=stretched, keepdims=True)


def normalize_axes(axis, ndim):
    """axis: None, int or tuple of ints (negative allowed) -> tuple of non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, int):
        axis = (axis,)
    return tuple(a % ndim for a in axis)


# forward functions that numpy does not have under a usable name
def sigmoid(x):
    """1 / (1 + exp(-x)) computed as exp(-log(1 + exp(-x))), which never overflows."""
    return np.exp(-np.logaddexp(0.0, -x))


def relu(x):
    return np.maximum(x, 0.0)


def power(x, p):
    """x ** p for a constant exponent p."""
    return x ** p


def getitem(x, index):
    """x[index]: basic indexing (ints, slices, None, Ellipsis) and integer-array indexing."""
    return np.asarray(x)[index]


def concatenate_arrays(*xs, axis=0):
    """np.concatenate(xs, axis) with the arrays as separate arguments (one per parent)."""
    return np.concatenate(xs, axis=axis)


# VJPs: op_vjp(dldf, *inputs, **kwargs) -> one gradient per array input, shaped like that input
def add_vjp(dldf, a, b):  return unbroadcast(a, dldf), unbroadcast(b, dldf)
def sub_vjp(dldf, a, b):  return unbroadcast(a, dldf), unbroadcast(b, -dldf)
def mul_vjp(dldf, a, b):  return unbroadcast(a, dldf * b), unbroadcast(b, dldf * a)
def div_vjp(dldf, a, b):  return unbroadcast(a, dldf / b), unbroadcast(b, -dldf * a / b**2)
def neg_vjp(dldf, x):     return (-dldf,)
def exp_vjp(dldf, x):     return (dldf * np.exp(x),)
def log_vjp(dldf, x):     return (dldf / x,)
def relu_vjp(dldf, x):    return (np.where(x > 0, dldf, 0.0),)          # derivative 0 at the kink
def sigmoid_vjp(dldf, x): return (dldf * sigmoid(x) * sigmoid(-x),)     # sigma' = sigma(x) (1 - sigma(x))
def pow_vjp(dldf, x, p):  return (dldf * p * x ** (p - 1),)
def reshape_vjp(dldf, x, shape):      return (np.reshape(dldf, np.shape(x)),)          # undo the reshape
def transpose_vjp(dldf, x, axes=None): return (np.transpose(dldf, inverse_axes(axes, np.ndim(x))),)


def inverse_axes(axes, ndim):
    """The permutation that undoes np.transpose(., axes); axes=None reverses all axes."""
    axes = tuple(reversed(range(ndim))) if axes is None else normalize_axes(tuple(axes), ndim)
    return tuple(np.argsort(axes))


def maximum_vjp(dldf, a, b):
    """f = np.maximum(a, b) (broadcast). On ties a == b the whole cotangent goes to b."""
    a_wins = a > b
    return unbroadcast(a, np.where(a_wins, dldf, 0.0)), unbroadcast(b, np.where(a_wins, 0.0, dldf))


def sum_vjp(dldf, x, axis=None, keepdims=False):
    """f = x.sum(axis=axis, keepdims=keepdims): copy dldf back along the summed axes."""
    dldf = np.asarray(dldf)
    if not keepdims:
        dldf = np.expand_dims(dldf, normalize_axes(axis, np.ndim(x)))
    return (np.broadcast_to(dldf, np.shape(x)).copy(),)


def max_vjp(dldf, x, axis=None, keepdims=False):
    """f = x.max(axis=axis, keepdims=keepdims). Tie rule: the cotangent is split EQUALLY among the
    entries that attain the maximum (k tied entries get dldf / k each)."""
    dldf = np.asarray(dldf)
    axes = normalize_axes(axis, np.ndim(x))
    if not keepdims:
        dldf = np.expand_dims(dldf, axes)
    winners = x == np.max(x, axis=axes, keepdims=True)
    return (winners * dldf / winners.sum(axis=axes, keepdims=True),)


def matmul_vjp(dldF, A, B):
    """VJP of F = A @ B for every np.matmul case (1-D, 2-D, batched, broadcast batches)."""
    A, B, G = np.asarray(A), np.asarray(B), np.asarray(dldF)
    A2 = A[None, :] if A.ndim == 1 else A        # (n,) -> (1, n)
    B2 = B[:, None] if B.ndim == 1 else B        # (n,) -> (n, 1)
    if B.ndim == 1:
        G = G[..., None]
    if A.ndim == 1:
        G = G[..., None, :]
    dA2 = G @ B2.swapaxes(-1, -2)                # transpose only the two matrix axes
    dB2 = A2.swapaxes(-1, -2) @ G
    return unbroadcast(A2, dA2).reshape(A.shape), unbroadcast(B2, dB2).reshape(B.shape)


def getitem_vjp(dldf, x, index):
    """f = x[index]: scatter dldf back into zeros of x's shape. np.add.at ADDS at repeated
    indices (x[[0, 0]] uses x[0] twice, so x[0] gets both contributions); `out[index] += dldf`
    would keep only one of them."""
    out = np.zeros(np.shape(x))
    np.add.at(out, index, dldf)
    return (out,)


def concatenate_vjp(dldf, *xs, axis=0):
    """f = np.concatenate(xs, axis): cut dldf at the offsets where the inputs were joined."""
    ends = np.cumsum([np.shape(x)[axis] for x in xs])
    return tuple(np.split(np.asarray(dldf), ends[:-1], axis=axis))


Op = namedtuple("Op", ["apply", "vjp", "name", "nargs"])     # nargs: number of array inputs (None: any)
NoOp = Op(apply=None, vjp=None, name="", nargs=0)            # the "operation" of a leaf

TABLE = {
    "add":       Op(apply=np.add,             vjp=add_vjp,         name="+",         nargs=2),
    "sub":       Op(apply=np.subtract,        vjp=sub_vjp,         name="-",         nargs=2),
    "mul":       Op(apply=np.multiply,        vjp=mul_vjp,         name="*",         nargs=2),
    "div":       Op(apply=np.divide,          vjp=div_vjp,         name="/",         nargs=2),
    "neg":       Op(apply=np.negative,        vjp=neg_vjp,         name="neg",       nargs=1),
    "matmul":    Op(apply=np.matmul,          vjp=matmul_vjp,      name="@",         nargs=2),
    "exp":       Op(apply=np.exp,             vjp=exp_vjp,         name="exp",       nargs=1),
    "log":       Op(apply=np.log,             vjp=log_vjp,         name="log",       nargs=1),
    "sum":       Op(apply=np.sum,             vjp=sum_vjp,         name="sum",       nargs=1),     # axis, keepdims
    "maximum":   Op(apply=np.maximum,         vjp=maximum_vjp,     name="maximum",   nargs=2),     # ties -> b
    "relu":      Op(apply=relu,               vjp=relu_vjp,        name="relu",      nargs=1),     # 0 at 0
    "sigmoid":   Op(apply=sigmoid,            vjp=sigmoid_vjp,     name="sigmoid",   nargs=1),
    "pow":       Op(apply=power,              vjp=pow_vjp,         name="**",        nargs=1),     # p
    "getitem":   Op(apply=getitem,            vjp=getitem_vjp,     name="[]",        nargs=1),     # index
    "concatenate": Op(apply=concatenate_arrays, vjp=concatenate_vjp, name="concat",  nargs=None),  # axis
    "reshape":   Op(apply=np.reshape,         vjp=reshape_vjp,     name="reshape",   nargs=1),     # shape
    "transpose": Op(apply=np.transpose,       vjp=transpose_vjp,   name="transpose", nargs=1),     # axes
    "max":       Op(apply=np.max,             vjp=max_vjp,         name="max",       nargs=1),     # axis, keepdims
}


# ------------------------------------------------------------------------------------------------
# 2. The Tensor class
# ------------------------------------------------------------------------------------------------

class Tensor:
    """A node of the computational graph: a float64 numpy array plus what is needed to differentiate it.

    value:   np.ndarray (float64), the result of the forward computation
    grad:    np.ndarray of value's shape, the accumulated adjoint dl/d(value) (zeros at creation)
    parents: tuple of Tensors, the array inputs of op (empty for a leaf)
    op:      an Op from TABLE, or NoOp for a leaf
    kwargs:  dict of non-differentiable arguments of op (axis, keepdims, p, index, shape, axes)
    """

    __array_priority__ = 100     # ndarray (priority 0.0) defers `arr + x` etc. to our reflected methods
    vjp_calls = 0                # counts VJP evaluations in backward passes
    grad_enabled = True          # False inside `with no_grad():` -- operations then record no graph

    def __init__(self, value, parents=(), op=NoOp, kwargs=None):
        self.value = np.asarray(value, dtype=np.float64)
        self.grad = np.zeros_like(self.value)
        self.parents = tuple(parents)
        self.op = op
        self.kwargs = {} if kwargs is None else dict(kwargs)

    shape = property(lambda self: self.value.shape)
    ndim = property(lambda self: self.value.ndim)
    size = property(lambda self: self.value.size)
    T = property(lambda self: self.transpose())

    def __repr__(self):
        return f"Tensor(value={self.value}, op={self.op.name or 'leaf'})"

    def __add__(self, other):      return apply_op("add", self, other)
    def __radd__(self, other):     return apply_op("add", other, self)
    def __sub__(self, other):      return apply_op("sub", self, other)
    def __rsub__(self, other):     return apply_op("sub", other, self)
    def __mul__(self, other):      return apply_op("mul", self, other)
    def __rmul__(self, other):     return apply_op("mul", other, self)
    def __truediv__(self, other):  return apply_op("div", self, other)
    def __rtruediv__(self, other): return apply_op("div", other, self)
    def __matmul__(self, other):   return apply_op("matmul", self, other)
    def __rmatmul__(self, other):  return apply_op("matmul", other, self)
    def __neg__(self):             return apply_op("neg", self)
    def exp(self):                 return apply_op("exp", self)
    def log(self):                 return apply_op("log", self)
    def relu(self):                return apply_op("relu", self)
    def sigmoid(self):             return apply_op("sigmoid", self)
    def maximum(self, other):      return apply_op("maximum", self, other)
    def __getitem__(self, index):  return apply_op("getitem", self, index=index)

    def sum(self, axis=None, keepdims=False):
        return apply_op("sum", self, axis=axis, keepdims=keepdims)

    def max(self, axis=None, keepdims=False):
        """Largest entry along axis; on ties the gradient is split equally among the maxima."""
        return apply_op("max", self, axis=axis, keepdims=keepdims)

    def reshape(self, shape, *more):
        """x.reshape((2, 3)) or x.reshape(2, 3); one entry may be -1, as in numpy."""
        shape = (shape, *more) if more else shape
        return apply_op("reshape", self, shape=(shape,) if isinstance(shape, int) else tuple(shape))

    def transpose(self, axes=None, *more):
        """x.transpose() reverses the axes; x.transpose((1, 0, 2)) or x.transpose(1, 0, 2) permutes them."""
        axes = (axes, *more) if more else axes
        return apply_op("transpose", self, axes=None if axes is None else tuple(axes))

    def __pow__(self, p):
        if isinstance(p, Tensor):
            raise TypeError("only constant exponents are supported; for x > 0 write (y * x.log()).exp()")
        return apply_op("pow", self, p=p)

    # backward and zero_grad are in part 3
    def backward(self, grad=None):
        return backward(self, grad)

    def zero_grad(self):
        return zero_grad(self)


def as_tensor(x):
    """Tensors pass through; numbers, lists and arrays become constant leaves."""
    return x if isinstance(x, Tensor) else Tensor(x)


def apply_op(key, *args, **kwargs):
    """Evaluate TABLE[key] on args (Tensors, numbers or arrays) and record the new node.

    key may also be an Op that is not in TABLE. Inside `with no_grad():` the result is a leaf.
    """
    op = key if isinstance(key, Op) else TABLE[key]
    parents = tuple(as_tensor(a) for a in args)
    if op.nargs is not None and len(parents) != op.nargs:
        raise TypeError(f"{op.name!r} takes {op.nargs} array input(s), got {len(parents)}: pass "
                        "non-differentiable arguments (axis, keepdims, p, ...) as keywords")
    value = op.apply(*(p.value for p in parents), **kwargs)
    if not Tensor.grad_enabled:
        return Tensor(value)                   # no graph: a leaf without parents
    return Tensor(value, parents=parents, op=op, kwargs=kwargs)


def concatenate(tensors, axis=0):
    """Join a sequence of Tensors (or arrays) along an existing axis, like np.concatenate."""
    return apply_op("concatenate", *tensors, axis=axis)


@contextmanager
def no_grad():
    """Inside `with no_grad():` operations compute values but record no graph (their results are
    leaves). The previous state is restored on exit, also when the block raises an exception."""
    previous = Tensor.grad_enabled
    Tensor.grad_enabled = False
    try:
        yield
    finally:
        Tensor.grad_enabled = previous


# ------------------------------------------------------------------------------------------------
# 3. The backward pass
# ------------------------------------------------------------------------------------------------

def topological_order(root):
    """All Tensors that root depends on (root included), parents before children.

    Iterative depth-first search with an explicit stack: no recursion, so any depth works.
    """
    order, visited = [], set()
    stack = [(root, False)]
    while stack:
        node, parents_done = stack.pop()
        if parents_done:                       # all parents are already in `order`
            order.append(node)
            continue
        if node in visited:
            continue
        visited.add(node)
        stack.append((node, True))             # emit this node after its parents ...
        for parent in node.parents:            # ... which are pushed on top of it
            if parent not in visited:
                stack.append((parent, False))
    return order


def backward(self, grad=None):
    """Add d<grad, self>/dv to v.grad for every node v that self depends on.

    grad: array of self's shape (the cotangent dl/dself); may be omitted when self has a single
    entry (it is then 1). Gradients accumulate across calls until zero_grad().
    Raises ValueError for a non-scalar output without grad, or a grad of the wrong shape.
    """
    if grad is None:
        if self.value.size != 1:
            raise ValueError(f"backward() needs grad for a non-scalar output (shape {self.shape}): "
                             f"pass the cotangent dl/dout, an array of shape {self.shape}")
        grad = np.ones_like(self.value)
    grad = np.asarray(grad, dtype=np.float64)
    if grad.shape != self.shape:
        raise ValueError(f"grad has shape {grad.shape}, but the output has shape {self.shape}")

    cotangents = {self: grad}                  # adjoints of this pass only
    for node in reversed(topological_order(self)):
        g = cotangents.pop(node)               # complete: all consumers were processed before
        node.grad = node.grad + g              # accumulate across calls (never reset here)
        if node.parents:
            Tensor.vjp_calls += 1
            parent_grads = node.op.vjp(g, *(p.value for p in node.parents), **node.kwargs)
            for parent, pg in zip(node.parents, parent_grads):
                cotangents[parent] = cotangents[parent] + pg if parent in cotangents else pg


def zero_grad(self):
    """Reset .grad to zeros in every node that self depends on."""
    for node in topological_order(self):
        node.grad = np.zeros_like(node.value)
