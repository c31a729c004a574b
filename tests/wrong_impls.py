"""Realistic wrong implementations, each with the diagnostic it must get.

Every entry is a mistake students make (or the seeds made). The test runs the
same suite a hidden test would, and asserts that the suite fails at the right
stage with a message that names the mistake.
"""

from dataclasses import dataclass

import numpy as np

import autograder as ag

from reference_impls import relu, sigmoid, unbroadcast


@dataclass
class Mistake:
    name: str
    fn: object
    f: object
    cases: object  # callable(seed) -> list of Case
    stage: str  # stage of the first reported failure
    says: str  # text the message must contain


def binary(f, **kw):
    return lambda seed: ag.binary_cases(f, seed=seed, **kw)


def unary(f, **kw):
    return lambda seed: ag.unary_cases(f, seed=seed, **kw)


def reduction(f=np.sum):
    return lambda seed: ag.reduction_cases(f, seed=seed)


def matmul():
    return lambda seed: ag.matmul_cases(seed=seed)


def square_matmul():
    square = [p for p in ag.checking.cases.MATMUL_PAIRS if all(len(s) >= 2 for s in p)]
    return lambda seed: ag.matmul_cases(seed=seed, pairs=square)


# --- unbroadcast mistakes (through add_vjp) ---------------------------------


def unbroadcast_leading_only(target, g):
    while g.ndim > np.ndim(target):
        g = g.sum(axis=0)
    return g


def unbroadcast_no_keepdims(target, g):
    while g.ndim > np.ndim(target):
        g = g.sum(axis=0)
    for axis, size in reversed(list(enumerate(np.shape(target)))):
        if size == 1:
            g = g.sum(axis=axis)
    return g


def unbroadcast_mean(target, g):
    while g.ndim > np.ndim(target):
        g = g.mean(axis=0)
    for axis, size in enumerate(np.shape(target)):
        if size == 1:
            g = g.mean(axis=axis, keepdims=True)
    return g


def unbroadcast_seed_typo(target, g, axis=0):
    """The seed's version as printed: sums `q`, tests `g`, never updates it."""
    q = g
    while np.ndim(g) > np.ndim(target):
        q = q.sum(axis=axis)
    return q


def add_vjp_no_unbroadcast(dldf, a, b):
    return dldf, dldf


def add_vjp_leading_only(dldf, a, b):
    return unbroadcast_leading_only(a, dldf), unbroadcast_leading_only(b, dldf)


def add_vjp_keepdims_lost(dldf, a, b):
    return unbroadcast_no_keepdims(a, dldf), unbroadcast_no_keepdims(b, dldf)


def add_vjp_mean(dldf, a, b):
    return unbroadcast_mean(a, dldf), unbroadcast_mean(b, dldf)


def add_vjp_ignores_cotangent(dldf, a, b):
    return unbroadcast(a, np.ones_like(dldf)), unbroadcast(b, np.ones_like(dldf))


def add_vjp_one_gradient(dldf, a, b):
    return unbroadcast(a, dldf)


def sub_vjp_sign(dldf, a, b):
    return unbroadcast(a, dldf), unbroadcast(b, dldf)


def mul_vjp_swapped(dldf, a, b):
    return unbroadcast(a, dldf * a), unbroadcast(b, dldf * b)


def mul_vjp_no_unbroadcast(dldf, a, b):
    return dldf * b, dldf * a


def mul_vjp_ignores_cotangent(dldf, a, b):
    return unbroadcast(a, b * np.ones_like(dldf)), unbroadcast(b, a * np.ones_like(dldf))


def mul_vjp_in_place(dldf, a, b):
    dldf *= b
    return unbroadcast(a, dldf), unbroadcast(b, dldf)


def div_vjp_sign(dldf, a, b):
    return unbroadcast(a, dldf / b), unbroadcast(b, dldf * a / b**2)


def maximum_vjp_same_mask(dldf, a, b):
    mask = a > b
    return unbroadcast(a, dldf * mask), unbroadcast(b, dldf * mask)


def maximum_vjp_mask_only(dldf, a, b):
    mask = (a > b).astype(int)
    return unbroadcast(a, mask), unbroadcast(b, 1 - mask)


def maximum_vjp_no_unbroadcast(dldf, a, b):
    return dldf * (a > b), dldf * (a <= b)


# --- unary ---------------------------------------------------------------------


def exp_vjp_times_x(dldf, x):
    return (dldf * x,)


def exp_vjp_bare(dldf, x):
    return dldf * np.exp(x)


def exp_vjp_ignores_cotangent(dldf, x):
    return (np.exp(x),)


def log_vjp_over_log(dldf, x):
    return (dldf / np.log(x),)


def log_vjp_times_x(dldf, x):
    return (dldf * x,)


def sigmoid_vjp_of_x(dldf, x):
    return (dldf * x * (1 - x),)


def sigmoid_vjp_plus(dldf, x):
    s = sigmoid(x)
    return (dldf * s * (1 + s),)


def relu_vjp_forward_value(dldf, x):
    return (dldf * relu(x),)


def relu_vjp_mask(dldf, x):
    return ((x > 0) * 1,)


def relu_vjp_stub(dldf, x):
    return None


def relu_vjp_float32(dldf, x):
    return ((dldf * (x > 0)).astype(np.float32),)


# --- sum ---------------------------------------------------------------------


def sum_vjp_ignores_axis(dldf, x, axis=None, keepdims=False):
    """Right for axis=None and (by broadcasting luck) axis=-1 with keepdims."""
    return (dldf * np.ones_like(x),)


def sum_vjp_always_expands(dldf, x, axis=None, keepdims=False):
    if axis is not None:
        dldf = np.expand_dims(dldf, axis)
    return (dldf * np.ones_like(x),)


def sum_vjp_int_axis_only(dldf, x, axis=None, keepdims=False):
    if axis is not None and not keepdims:
        dldf = np.expand_dims(dldf, axis if np.isscalar(axis) else axis[0])
    return (dldf * np.ones_like(x),)


def sum_vjp_mean(dldf, x, axis=None, keepdims=False):
    if axis is not None and not keepdims:
        dldf = np.expand_dims(dldf, axis)
    return (np.broadcast_to(dldf, x.shape) / x.size * np.size(dldf),)


def sum_vjp_reduced_shape(dldf, x, axis=None, keepdims=False):
    return (np.asarray(dldf, dtype=float),)


# --- matmul ------------------------------------------------------------------


def matmul_vjp_no_transpose(dldF, A, B):
    """Wrong only for square B: with rectangular B the shapes do not fit."""
    return dldF @ B, A.T @ dldF


def matmul_vjp_square_blind(dldF, A, B):
    """Forgets the transpose of A; shape-correct only when A is square."""
    return dldF @ B.T, A @ dldF


def matmul_vjp_2d_only(dldF, A, B):
    return dldF @ B.T, A.T @ dldF


def _matmul_grads(dldF, A, B, transpose, reduce):
    """matmul_vjp's structure with a pluggable transpose and batch reduction."""
    if A.ndim == 1 and B.ndim == 1:
        return dldF * B, dldF * A
    A2 = A[None, :] if A.ndim == 1 else A
    B2 = B[:, None] if B.ndim == 1 else B
    G = dldF
    if A.ndim == 1:
        G = np.expand_dims(G, -2)
    if B.ndim == 1:
        G = np.expand_dims(G, -1)
    dA, dB = G @ transpose(B2), transpose(A2) @ G
    if A.ndim == 1:
        dA = dA[..., 0, :]
    if B.ndim == 1:
        dB = dB[..., :, 0]
    return reduce(A, dA), reduce(B, dB)


def matmul_vjp_dot_T(dldF, A, B):
    """`.T` reverses all axes of a batched array instead of the last two."""
    return _matmul_grads(dldF, A, B, lambda M: M.T, unbroadcast)


def matmul_vjp_no_batch_reduction(dldF, A, B):
    """Right for every case without broadcast batch axes."""
    return _matmul_grads(dldF, A, B, lambda M: np.swapaxes(M, -1, -2), lambda target, g: g)


def matmul_vjp_swapped_order(dldF, A, B):
    return B.T @ dldF, dldF @ A.T


# --- JVPs, gradients of a whole function, numerical Jacobians ----------------


def mul_jvp_one_term(a, b, da, db):
    return da * b


def exp_jvp_ignores_tangent(x, dx):
    return np.exp(x)


def log_jvp_times(x, dx):
    return dx * x


def grad_overwrites_reused(x):
    """Engine that overwrote grads: f(x) = sum(x * x) reports x, not 2x."""
    return x


def grad_sign(x):
    return -2 * x


def jacobian_forward_tiny_step(f, x, h=1e-10):
    """The seed's Jacobian: forward difference with h = 1e-10."""
    x = np.asarray(x, dtype=float)
    out = np.asarray(f(x))
    jac = np.zeros(out.shape + x.shape)
    for idx in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[idx] = h
        jac[(...,) + idx] = (np.asarray(f(x + e)) - out) / h
    return jac


def jacobian_transposed_layout(f, x, h=1e-6):
    x = np.asarray(x, dtype=float)
    out = np.asarray(f(x))
    jac = np.zeros(x.shape + out.shape)
    for idx in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[idx] = h
        jac[idx] = (np.asarray(f(x + e)) - np.asarray(f(x - e))) / (2 * h)
    return jac


def jacobian_perturbs_input(f, x, h=1e-6):
    out = np.asarray(f(x))
    jac = np.zeros(out.shape + x.shape)
    for idx in np.ndindex(x.shape):
        x[idx] += h
        f_plus = np.asarray(f(x))
        x[idx] -= 2 * h
        f_minus = np.asarray(f(x))
        x[idx] += h
        jac[(...,) + idx] = (f_plus - f_minus) / (2 * h)
    return jac


def jacobian_divides_by_h(f, x, h=1e-6):
    x = np.asarray(x, dtype=float)
    out = np.asarray(f(x))
    jac = np.zeros(out.shape + x.shape)
    for idx in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[idx] = h
        jac[(...,) + idx] = (np.asarray(f(x + e)) - np.asarray(f(x - e))) / h
    return jac


def broadcast_to(shape):
    return lambda x: np.broadcast_to(x, shape)


def wrap_unbroadcast(fn):
    def unbroadcast_vjp(dldf, x):
        return (fn(x, dldf),)

    return unbroadcast_vjp


def unbroadcast_cases(seed):
    """np.broadcast_to(x, (2, 3, 4)) for every shape that broadcasts to it."""
    out = []
    for i, shape in enumerate([(), (4,), (1, 4), (3, 1), (3, 4), (2, 1, 4), (1, 3, 1)]):
        f = broadcast_to((2, 3, 4))
        out.append(ag.make_case(f, [shape], 1000 * seed + i, name=f"{shape} -> (2, 3, 4)"))
    return out


def broadcast_f(x):
    return np.broadcast_to(x, (2, 3, 4))


# Smooth test functions: square non-symmetric Jacobian, rectangular Jacobian,
# and a scalar output (where the transposed layout has the same shape).
SMOOTH = [
    lambda x: np.cumsum(np.sin(x) * np.exp(0.3 * x)),
    lambda x: np.outer(x, np.cos(x)).ravel(),
    lambda x: np.tanh(x) @ np.arange(1.0, 1.0 + x.shape[-1]),
]


# fmt: off
MISTAKES = [
    # broadcasting / unbroadcast
    Mistake("add: no unbroadcast", add_vjp_no_unbroadcast, np.add, binary(np.add), "shape", "Did you unbroadcast?"),
    Mistake("add: only leading axes summed", add_vjp_leading_only, np.add, binary(np.add), "shape", "where the input has size 1"),
    Mistake("add: keepdims lost", add_vjp_keepdims_lost, np.add, binary(np.add), "shape", "size-1 axes were lost"),
    Mistake("add: mean instead of sum", add_vjp_mean, np.add, binary(np.add), "values", "a mean instead of a sum?"),
    Mistake("add: ignores cotangent", add_vjp_ignores_cotangent, np.add, binary(np.add), "values", "ignores dldf"),
    Mistake("add: one gradient for two inputs", add_vjp_one_gradient, np.add, binary(np.add), "type", "one gradient per input"),
    Mistake("unbroadcast: the seed's typo loops forever", wrap_unbroadcast(unbroadcast_seed_typo), broadcast_f, unbroadcast_cases, "timeout", "infinite loop?"),
    Mistake("unbroadcast: leading only", wrap_unbroadcast(unbroadcast_leading_only), broadcast_f, unbroadcast_cases, "shape", "where the input has size 1"),
    Mistake("sub: b's sign not flipped", sub_vjp_sign, np.subtract, binary(np.subtract), "values", "sign is flipped"),
    Mistake("mul: arguments swapped", mul_vjp_swapped, np.multiply, binary(np.multiply), "values", "arguments or return values swapped"),
    Mistake("mul: no unbroadcast", mul_vjp_no_unbroadcast, np.multiply, binary(np.multiply), "shape", "Did you unbroadcast?"),
    Mistake("mul: ignores cotangent", mul_vjp_ignores_cotangent, np.multiply, binary(np.multiply), "values", "ignores dldf"),
    Mistake("mul: modifies dldf in place", mul_vjp_in_place, np.multiply, binary(np.multiply), "raised", "modified one of its input arrays in place"),
    Mistake("div: wrong sign for b", div_vjp_sign, np.divide, binary(np.divide, domain=("normal", "nonzero")), "values", "wrong values"),
    Mistake("maximum: same mask for both", maximum_vjp_same_mask, np.maximum, binary(np.maximum, reject=ag.too_close_to_ties()), "values", "wrong values"),
    Mistake("maximum: returns the 0/1 mask", maximum_vjp_mask_only, np.maximum, binary(np.maximum, reject=ag.too_close_to_ties()), "type", "integer dtype"),
    Mistake("maximum: no unbroadcast", maximum_vjp_no_unbroadcast, np.maximum, binary(np.maximum, reject=ag.too_close_to_ties()), "shape", "Did you unbroadcast?"),
    # unary
    Mistake("exp: dldf * x", exp_vjp_times_x, np.exp, unary(np.exp, domain="bounded"), "values", "wrong values"),
    Mistake("exp: bare array, not a tuple", exp_vjp_bare, np.exp, unary(np.exp, domain="bounded"), "type", "return (dldx,)"),
    Mistake("exp: ignores cotangent", exp_vjp_ignores_cotangent, np.exp, unary(np.exp, domain="bounded"), "values", "ignores dldf"),
    Mistake("log: divides by log x", log_vjp_over_log, np.log, unary(np.log, domain="positive"), "values", "wrong values"),
    Mistake("log: dldf * x", log_vjp_times_x, np.log, unary(np.log, domain="positive"), "values", "wrong values"),
    Mistake("sigmoid: derivative taken at x, not sigma(x)", sigmoid_vjp_of_x, sigmoid, unary(sigmoid), "values", "wrong values"),
    Mistake("sigmoid: s(1+s)", sigmoid_vjp_plus, sigmoid, unary(sigmoid), "values", "wrong values"),
    Mistake("relu: multiplies by relu(x)", relu_vjp_forward_value, relu, unary(relu, reject=ag.too_close_to_zero()), "values", "wrong values"),
    Mistake("relu: integer mask, no cotangent", relu_vjp_mask, relu, unary(relu, reject=ag.too_close_to_zero()), "type", "integer dtype"),
    Mistake("relu: stub returns None", relu_vjp_stub, relu, unary(relu, reject=ag.too_close_to_zero()), "type", "missing `return`"),
    Mistake("relu: float32", relu_vjp_float32, relu, unary(relu, reject=ag.too_close_to_zero()), "type", "float32"),
    # sum
    Mistake("sum: ignores axis (breaks on axis=1, wrong on square)", sum_vjp_ignores_axis, np.sum, reduction(), "raised", "shape mismatch"),
    Mistake("sum: expands dims even with keepdims", sum_vjp_always_expands, np.sum, reduction(), "shape", "extra size-1 axes"),
    Mistake("sum: tuple axes unhandled", sum_vjp_int_axis_only, np.sum, reduction(), "raised", "shape mismatch"),
    Mistake("sum: mean instead of sum", sum_vjp_mean, np.sum, reduction(), "values", "a mean instead of a sum?"),
    Mistake("sum: returns the reduced shape", sum_vjp_reduced_shape, np.sum, reduction(), "shape", "it must have x's shape"),
    # matmul
    Mistake("matmul: missing transpose (square only)", matmul_vjp_no_transpose, np.matmul, square_matmul(), "values", "wrong values only in cases with square matrices"),
    Mistake("matmul: A not transposed (square only)", matmul_vjp_square_blind, np.matmul, square_matmul(), "values", "wrong values only in cases with square matrices"),
    Mistake("matmul: 2-D only", matmul_vjp_2d_only, np.matmul, matmul(), "raised", "it raised"),
    Mistake("matmul: .T on batched arrays", matmul_vjp_dot_T, np.matmul, matmul(), "raised", "shape mismatch"),
    Mistake("matmul: no batch-axis reduction", matmul_vjp_no_batch_reduction, np.matmul, matmul(), "shape", "Did you unbroadcast?"),
    Mistake("matmul: gradients in the wrong order", matmul_vjp_swapped_order, np.matmul, square_matmul(), "raised", "shape mismatch"),
]

# Checks through other entry points: (name, callable(seed) -> Verdict, stage, says).
JVP_MISTAKES = [
    ("mul_jvp: one term missing", mul_jvp_one_term, np.multiply, 2, "terms for db are missing"),
    ("exp_jvp: ignores tangent", exp_jvp_ignores_tangent, np.exp, 1, "multiply by the tangent"),
    ("log_jvp: dx * x", log_jvp_times, np.log, 1, "wrong values"),
]

GRAD_MISTAKES = [
    ("engine: reused node overwritten", grad_overwrites_reused, "overwritten instead of accumulated"),
    ("engine: sign flipped", grad_sign, "sign is flipped"),
]

JACOBIAN_MISTAKES = [
    ("jacobian: forward difference, h = 1e-10", jacobian_forward_tiny_step, "values", "central differences"),
    ("jacobian: transposed layout", jacobian_transposed_layout, "shape", "transposed layout"),
    ("jacobian: perturbs the caller's x", jacobian_perturbs_input, "raised", "in place"),
    ("jacobian: divides by h, not 2h", jacobian_divides_by_h, "values", "divide the central difference by 2h"),
]
# fmt: on
