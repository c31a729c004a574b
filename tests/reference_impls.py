"""Correct implementations, some in deliberately different styles.

They live in the tests, not in the package: the checker must accept every
correct formulation, not only the one a solution happens to use.
"""

import numpy as np


def unbroadcast(target, g):
    """Sum `g` down to `np.shape(target)`: leading axes, then size-1 axes."""
    while np.ndim(g) > np.ndim(target):
        g = g.sum(axis=0)
    for axis, size in enumerate(np.shape(target)):
        if size == 1:
            g = g.sum(axis=axis, keepdims=True)
    return g


def unbroadcast_reduce(target, g):
    """The same with one np.add.reduce over all broadcast axes at once."""
    shape = np.shape(target)
    extra = np.ndim(g) - len(shape)
    axes = tuple(range(extra)) + tuple(
        extra + k for k, size in enumerate(shape) if size == 1 and g.shape[extra + k] != 1
    )
    return np.add.reduce(g, axis=axes, keepdims=True).reshape(shape) if axes else g.reshape(shape)


def add_vjp(dldf, a, b):
    return unbroadcast(a, dldf), unbroadcast(b, dldf)


def add_vjp_reduce(dldf, a, b):
    return unbroadcast_reduce(a, dldf), unbroadcast_reduce(b, dldf)


def sub_vjp(dldf, a, b):
    return unbroadcast(a, dldf), unbroadcast(b, -dldf)


def mul_vjp(dldf, a, b):
    return unbroadcast(a, dldf * b), unbroadcast(b, dldf * a)


def div_vjp(dldf, a, b):
    return unbroadcast(a, dldf / b), unbroadcast(b, -dldf * a / b**2)


def maximum_vjp(dldf, a, b):
    """Ties go to `a`."""
    mask = a >= b
    return unbroadcast(a, dldf * mask), unbroadcast(b, dldf * ~mask)


def maximum_vjp_balanced(dldf, a, b):
    """Ties split the gradient equally."""
    share_a = (a > b) + 0.5 * (a == b)
    return unbroadcast(a, dldf * share_a), unbroadcast(b, dldf * (1.0 - share_a))


def exp_vjp(dldf, x):
    return (dldf * np.exp(x),)


def log_vjp(dldf, x):
    return (dldf / x,)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def sigmoid_vjp(dldf, x):
    s = sigmoid(x)
    return (dldf * s * (1 - s),)


def relu(x):
    return np.maximum(x, 0)


def relu_vjp(dldf, x):
    return (dldf * (x > 0),)


def sum_vjp(dldf, x, axis=None, keepdims=False):
    if axis is not None and not keepdims:
        dldf = np.expand_dims(dldf, axis)
    return (np.broadcast_to(dldf, np.shape(x)).astype(np.float64),)


def sum_vjp_ones(dldf, x, axis=None, keepdims=False):
    """Multiplies by ones instead of broadcasting, with axes normalised first."""
    if axis is not None and not keepdims:
        axes = (axis,) if np.isscalar(axis) else axis
        axes = sorted(a % np.ndim(x) for a in axes)
        for a in axes:
            dldf = np.expand_dims(dldf, a)
    return (dldf * np.ones_like(x),)


def matmul_vjp(dldF, A, B):
    """Every np.matmul case: 1-D operands are promoted, then unbroadcast."""
    G = dldF
    if A.ndim == 1 and B.ndim == 1:  # inner product, 0-d cotangent
        return G * B, G * A
    A2 = A[np.newaxis, :] if A.ndim == 1 else A
    B2 = B[:, np.newaxis] if B.ndim == 1 else B
    if A.ndim == 1:
        G = np.expand_dims(G, -2)
    if B.ndim == 1:
        G = np.expand_dims(G, -1)
    dA = G @ np.swapaxes(B2, -1, -2)
    dB = np.swapaxes(A2, -1, -2) @ G
    if A.ndim == 1:
        dA = dA[..., 0, :]
    if B.ndim == 1:
        dB = dB[..., :, 0]
    return unbroadcast(A, dA), unbroadcast(B, dB)


def matmul_vjp_einsum(dldF, A, B):
    """The same through einsum, with promotion written out."""
    a = A if A.ndim > 1 else A[None, :]
    b = B if B.ndim > 1 else B[:, None]
    g = np.asarray(dldF)
    if A.ndim == 1:
        g = g[..., None, :] if g.ndim else g.reshape(1, 1)
    if B.ndim == 1 and A.ndim != 1:
        g = g[..., :, None]
    elif B.ndim == 1:
        g = g.reshape(g.shape[:-1] + (1,))
    dA = np.einsum("...ik,...jk->...ij", g, np.broadcast_to(b, b.shape))
    dB = np.einsum("...ki,...kj->...ij", a, g)
    dA = unbroadcast_reduce(a, dA).reshape(A.shape)
    dB = unbroadcast_reduce(b, dB).reshape(B.shape)
    return dA, dB


def matmul_vjp_tensordot(dldF, A, B):
    """2-D and 1-D cases with tensordot; batched cases fall back to matmul_vjp."""
    if A.ndim > 2 or B.ndim > 2:
        return matmul_vjp(dldF, A, B)
    return _tensordot_2d(dldF, A, B)


def _tensordot_2d(G, A, B):
    if A.ndim == 1 and B.ndim == 1:
        return G * B, G * A
    if A.ndim == 1:  # (n,) @ (n, p) -> (p,)
        return np.tensordot(B, G, axes=([1], [0])), np.multiply.outer(A, G)
    if B.ndim == 1:  # (m, n) @ (n,) -> (m,)
        return np.multiply.outer(G, B), np.tensordot(A, G, axes=([0], [0]))
    return np.tensordot(G, B, axes=([1], [1])), np.tensordot(A, G, axes=([0], [0]))


def broadcast_to_vjp(unbroadcast_fn, shape):
    """The VJP of np.broadcast_to(x, shape) is unbroadcast: a check for it."""

    def vjp(dldf, x):
        return (unbroadcast_fn(x, dldf),)

    return vjp


def exp_jvp(x, dx):
    return np.exp(x) * dx


def log_jvp(x, dx):
    return dx / x


def mul_jvp(a, b, da, db):
    return da * b + a * db


def central_jacobian(f, x, h=1e-6):
    """A student's correct numerical Jacobian (fixed step, no mutation)."""
    x = np.asarray(x, dtype=np.float64)
    out = np.asarray(f(x))
    jac = np.zeros(out.shape + x.shape)
    for idx in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[idx] = h
        jac[(...,) + idx] = (np.asarray(f(x + e)) - np.asarray(f(x - e))) / (2 * h)
    return jac
