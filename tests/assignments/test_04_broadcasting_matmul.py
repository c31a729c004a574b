"""Assignment 04 (broadcasting and matmul VJPs): the tests grade what they should.

* the source notebook (with solutions) earns full marks;
* two other correct formulations of every function pass every graded cell;
* realistic wrong answers fail the matching hidden test cell, with a diagnostic that says what
  is wrong, and cost no points in cells that do not depend on them (partial credit).

Each notebook run costs a few seconds, so independent wrong answers share one run; a run is
executed once and cached for all the tests that read it.
"""

from dataclasses import dataclass
from functools import cache

import pytest

from notebook_harness import run_notebook, source_notebook

ASSIGNMENT = "04_broadcasting_matmul"
TOTAL_POINTS = 37

# --- other correct answers (1): chained VJPs, loops, masks as floats, lists --------------------

ALT_CHAINED = {
    "unbroadcast": """
def unbroadcast(target, g):
    g = np.array(g, dtype=float)
    while g.ndim > np.ndim(target):
        g = g.sum(axis=0)
    for axis, size in enumerate(np.shape(target)):
        if size == 1:
            g = g.sum(axis=axis, keepdims=True)
    return g
""",
    "add_vjp": """
def add_vjp(dldf, a, b):
    return unbroadcast(a, dldf), unbroadcast(b, dldf)
""",
    "mul_vjp": """
def mul_vjp(dldf, a, b):
    return [unbroadcast(a, np.multiply(dldf, b)), unbroadcast(b, np.multiply(a, dldf))]
""",
    "maximum_vjp": """
def maximum_vjp(dldf, a, b):
    mask = np.asarray(a > b).astype(float)
    return unbroadcast(a, dldf * mask), unbroadcast(b, dldf * (1.0 - mask))
""",
    "matmul_vjp": """
def matmul_vjp(dldF, A, B):
    if A.ndim == 1 and B.ndim == 1:
        return dldF * B, dldF * A
    if A.ndim == 1:
        dA, dB = matmul_vjp(np.expand_dims(dldF, -2), A[np.newaxis, :], B)
        return dA[0], dB
    if B.ndim == 1:
        dA, dB = matmul_vjp(np.expand_dims(dldF, -1), A, B[:, np.newaxis])
        return dA, dB[:, 0]
    dA = dldF @ np.swapaxes(B, -1, -2)
    dB = np.swapaxes(A, -1, -2) @ dldF
    return unbroadcast(A, dA), unbroadcast(B, dB)
""",
    "linear_vjp": """
def linear_vjp(dldY, X, W):
    return matmul_vjp(dldY, X, W)
""",
    "quadratic_form_grad": """
def quadratic_form_grad(A, x):
    return A @ x + x @ A
""",
    "norm_sq_grads": """
def norm_sq_grads(W, x):
    q = W @ x
    return [2 * q[:, None] * x[None, :], 2 * (q @ W)]
""",
    "two_layer_grads": """
def two_layer_grads(X, W1, W2):
    Z1 = X @ W1
    H1 = np.maximum(Z1, 0.0)
    Y_hat = H1 @ W2
    dH1, dW2 = matmul_vjp(2 * Y_hat, H1, W2)
    dZ1, _ = maximum_vjp(dH1, Z1, 0.0)
    dX, dW1 = matmul_vjp(dZ1, X, W1)
    return dX, dW1, dW2
""",
}

# --- other correct answers (2): self-contained (no cell calls another), einsum, np.where ------

_SUM_TO = """
def _sum_to(g, shape):
    g = np.asarray(g, dtype=np.float64)
    while g.ndim > len(shape):
        g = np.add.reduce(g, axis=0)
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    return np.add.reduce(g, axis=axes, keepdims=True) if axes else g
"""

ALT_SELF_CONTAINED = {
    "unbroadcast": """
def unbroadcast(target, g):
    shape = np.shape(target)
    g = np.asarray(g, dtype=np.float64)
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1)
    return np.sum(g, axis=axes, keepdims=True).reshape(shape)
""",
    "add_vjp": _SUM_TO
    + """
def add_vjp(dldf, a, b):
    return _sum_to(dldf, np.shape(a)), _sum_to(dldf, np.shape(b))
""",
    "mul_vjp": _SUM_TO
    + """
def mul_vjp(dldf, a, b):
    return _sum_to(dldf * b, np.shape(a)), _sum_to(a * dldf, np.shape(b))
""",
    "maximum_vjp": _SUM_TO
    + """
def maximum_vjp(dldf, a, b):
    b_wins = b >= a
    return (_sum_to(np.where(b_wins, 0.0, dldf), np.shape(a)),
            _sum_to(np.where(b_wins, dldf, 0.0), np.shape(b)))
""",
    "matmul_vjp": _SUM_TO
    + """
def matmul_vjp(dldF, A, B):
    A2 = A.reshape(1, -1) if A.ndim == 1 else A
    B2 = B.reshape(-1, 1) if B.ndim == 1 else B
    G = np.asarray(dldF, dtype=np.float64)
    if B.ndim == 1:
        G = np.expand_dims(G, -1)
    if A.ndim == 1:
        G = np.expand_dims(G, -2)
    dA = np.einsum("...ij,...kj->...ik", G, B2)
    dB = np.einsum("...ki,...kj->...ij", A2, G)
    return _sum_to(dA, A2.shape).reshape(A.shape), _sum_to(dB, B2.shape).reshape(B.shape)
""",
    "linear_vjp": """
def linear_vjp(dldY, X, W):
    return np.einsum("nm,dm->nd", dldY, W), np.einsum("nd,nm->dm", X, dldY)
""",
    "quadratic_form_grad": """
def quadratic_form_grad(A, x):
    return np.einsum("ij,j->i", A, x) + np.einsum("ji,j->i", A, x)
""",
    "norm_sq_grads": """
def norm_sq_grads(W, x):
    q = W @ x
    return 2 * np.einsum("i,j->ij", q, x), 2 * np.einsum("ij,i->j", W, q)
""",
    "two_layer_grads": """
def two_layer_grads(X, W1, W2):
    H1 = np.maximum(X @ W1, 0.0)
    dY = 2 * (H1 @ W2)
    dZ1 = (dY @ W2.T) * (H1 > 0)   # H1 > 0 exactly where Z1 > 0
    return dZ1 @ W1.T, X.T @ dZ1, H1.T @ dY
""",
}

# --- wrong answers ----------------------------------------------------------------------------

UNBROADCAST_LEADING_ONLY = """
def unbroadcast(target, g):
    while g.ndim > np.ndim(target):
        g = g.sum(axis=0)
    return g
"""

UNBROADCAST_NO_KEEPDIMS = """
def unbroadcast(target, g):
    g = g.sum(axis=tuple(range(g.ndim - np.ndim(target))))
    stretched = tuple(i for i, n in enumerate(np.shape(target)) if n == 1)
    return g.sum(axis=stretched)
"""

# The seed's version: the loop tests g but sums into q, so its condition never changes.
UNBROADCAST_SEED_TYPO = """
def unbroadcast(target, g, axis=0):
    q = g
    while np.ndim(g) > np.ndim(target):
        q = q.sum(axis=axis)
    for axis, size in enumerate(np.shape(target)):
        if size == 1:
            q = q.sum(axis=axis, keepdims=True)
    return q
"""

ADD_NO_UNBROADCAST = """
def add_vjp(dldf, a, b):
    return dldf, dldf
"""

MUL_SWAPPED_FACTORS = """
def mul_vjp(dldf, a, b):
    return unbroadcast(a, dldf * a), unbroadcast(b, dldf * b)
"""

MAXIMUM_SAME_MASK = """
def maximum_vjp(dldf, a, b):
    mask = a > b
    return unbroadcast(a, dldf * mask), unbroadcast(b, dldf * mask)
"""

MAXIMUM_TIES_TO_A = """
def maximum_vjp(dldf, a, b):
    a_wins = a >= b
    return unbroadcast(a, np.where(a_wins, dldf, 0.0)), unbroadcast(b, np.where(a_wins, 0.0, dldf))
"""

MAXIMUM_TIES_SPLIT = """
def maximum_vjp(dldf, a, b):
    theta = np.where(a > b, 1.0, np.where(a == b, 0.5, 0.0))
    return unbroadcast(a, dldf * theta), unbroadcast(b, dldf * (1.0 - theta))
"""

MAXIMUM_TIES_DROPPED = """
def maximum_vjp(dldf, a, b):
    return unbroadcast(a, dldf * (a > b)), unbroadcast(b, dldf * (b > a))
"""

_MATMUL_TEMPLATE = """
def matmul_vjp(dldF, A, B):
    A, B, G = np.asarray(A), np.asarray(B), np.asarray(dldF)
    A2 = A[None, :] if A.ndim == 1 else A
    B2 = B[:, None] if B.ndim == 1 else B
    if B.ndim == 1:
        G = G[..., None]
    if A.ndim == 1:
        G = G[..., None, :]
    dA2 = {dA2}
    dB2 = {dB2}
    return {ret}
"""
_RET = "unbroadcast(A2, dA2).reshape(A.shape), unbroadcast(B2, dB2).reshape(B.shape)"

MATMUL_MISSING_TRANSPOSE = _MATMUL_TEMPLATE.format(
    dA2="G @ B2", dB2="A2.swapaxes(-1, -2) @ G", ret=_RET
)

MATMUL_2D_ONLY = """
def matmul_vjp(dldF, A, B):
    return dldF @ B.T, A.T @ dldF
"""

MATMUL_DOT_T = _MATMUL_TEMPLATE.format(dA2="G @ B2.T", dB2="A2.T @ G", ret=_RET)

MATMUL_NO_BATCH_REDUCTION = _MATMUL_TEMPLATE.format(
    dA2="G @ B2.swapaxes(-1, -2)",
    dB2="A2.swapaxes(-1, -2) @ G",
    ret="dA2.reshape(dA2.shape[:-2] + A.shape[-1:] if A.ndim == 1 else dA2.shape), "
    "dB2.reshape(dB2.shape[:-2] + B.shape[:1] if B.ndim == 1 else dB2.shape)",
)

LINEAR_DW_SWAPPED = """
def linear_vjp(dldY, X, W):
    return dldY @ W.T, dldY @ X
"""

LINEAR_DW_TRANSPOSED = """
def linear_vjp(dldY, X, W):
    return dldY @ W.T, dldY.T @ X
"""

QUADRATIC_2AX = """
def quadratic_form_grad(A, x):
    return 2 * A @ x
"""

NORM_SQ_NO_FACTOR_2 = """
def norm_sq_grads(W, x):
    q = W @ x
    return np.outer(q, x), W.T @ q
"""

TWO_LAYER_NO_RELU_MASK = """
def two_layer_grads(X, W1, W2):
    H1 = np.maximum(X @ W1, 0.0)
    dY = 2 * (H1 @ W2)
    dZ1 = dY @ W2.T
    return dZ1 @ W1.T, X.T @ dZ1, H1.T @ dY
"""

# Runs: {run name: {solution grade_id: source}}. Cells not listed keep the source's solution.
# The unbroadcast mistakes run with self-contained correct answers everywhere else, so that
# they fail only unbroadcast's own cells (and the infinite loop costs one time limit per cell).
RUNS = {
    "source": {},
    "alt_chained": ALT_CHAINED,
    "alt_self_contained": ALT_SELF_CONTAINED,
    "unbroadcast_leading_only": {
        **ALT_SELF_CONTAINED,
        "unbroadcast": UNBROADCAST_LEADING_ONLY,
        "add_vjp": ADD_NO_UNBROADCAST,
        "quadratic_form_grad": QUADRATIC_2AX,
        "two_layer_grads": TWO_LAYER_NO_RELU_MASK,
    },
    "unbroadcast_no_keepdims": {
        **ALT_SELF_CONTAINED,
        "unbroadcast": UNBROADCAST_NO_KEEPDIMS,
        "norm_sq_grads": NORM_SQ_NO_FACTOR_2,
        "linear_vjp": LINEAR_DW_SWAPPED,
    },
    "unbroadcast_seed_typo": {
        **ALT_SELF_CONTAINED,
        "unbroadcast": UNBROADCAST_SEED_TYPO,
        "linear_vjp": LINEAR_DW_TRANSPOSED,
    },
    "mixed_1": {
        "mul_vjp": MUL_SWAPPED_FACTORS,
        "maximum_vjp": MAXIMUM_SAME_MASK,
        "matmul_vjp": MATMUL_MISSING_TRANSPOSE,
    },
    "mixed_2": {"maximum_vjp": MAXIMUM_TIES_TO_A, "matmul_vjp": MATMUL_2D_ONLY},
    "mixed_3": {"maximum_vjp": MAXIMUM_TIES_SPLIT, "matmul_vjp": MATMUL_DOT_T},
    "mixed_4": {"maximum_vjp": MAXIMUM_TIES_DROPPED, "matmul_vjp": MATMUL_NO_BATCH_REDUCTION},
}

FUNCTIONS = list(ALT_CHAINED)


@dataclass(frozen=True)
class Mistake:
    name: str
    run: str
    fails: str  # the hidden test cell that must fail
    says: tuple  # words its message must contain
    passes: tuple = ()  # cells that must still pass (partial credit)


# fmt: off
MISTAKES = [
    Mistake("unbroadcast sums only the leading axes", "unbroadcast_leading_only",
            "test_unbroadcast_hidden", ("where the input has size 1", "keepdims=True")),
    Mistake("unbroadcast loses the size-1 axes (no keepdims)", "unbroadcast_no_keepdims",
            "test_unbroadcast_hidden", ("the size-1 axes were lost", "keepdims=True")),
    Mistake("unbroadcast with the seed's q/g typo loops forever", "unbroadcast_seed_typo",
            "test_unbroadcast_hidden", ("infinite loop",)),
    Mistake("add_vjp without unbroadcast", "unbroadcast_leading_only",
            "test_add_vjp_hidden", ("Did you unbroadcast?",)),
    Mistake("mul_vjp multiplies by the wrong factor", "mixed_1",
            "test_mul_vjp_hidden", ("arguments or return values swapped",)),
    Mistake("maximum_vjp gives both inputs the same mask", "mixed_1",
            "test_maximum_vjp_hidden", ("wrong values", "not for b")),
    Mistake("maximum_vjp gives ties to a", "mixed_2",
            "test_maximum_vjp_ties_hidden", ("exact ties", "the whole cotangent goes to b"),
            passes=("test_maximum_vjp_hidden",)),
    Mistake("maximum_vjp splits ties in half", "mixed_3",
            "test_maximum_vjp_ties_hidden", ("exact ties", "the whole cotangent goes to b"),
            passes=("test_maximum_vjp_hidden",)),
    Mistake("maximum_vjp drops the cotangent at ties", "mixed_4",
            "test_maximum_vjp_ties_hidden", ("must equal the cotangent", "complementary"),
            passes=("test_maximum_vjp_hidden",)),
    Mistake("matmul_vjp misses a transpose", "mixed_1",
            "test_matmul_vjp_2d_hidden", ("square matrices", "transpose")),
    Mistake("matmul_vjp handles 2-D operands only", "mixed_2",
            "test_matmul_vjp_1d_hidden", ("raised", "(3,) @ (3,)"),
            passes=("test_matmul_vjp_visible", "test_matmul_vjp_2d_hidden")),
    Mistake("matmul_vjp uses .T on batched arrays", "mixed_3",
            "test_matmul_vjp_batched_hidden", ("raised ValueError", "shape mismatch"),
            passes=("test_matmul_vjp_2d_hidden", "test_matmul_vjp_1d_hidden")),
    Mistake("matmul_vjp does not sum over broadcast batch axes", "mixed_4",
            "test_matmul_vjp_batched_hidden", ("not summed away", "Did you unbroadcast?"),
            passes=("test_matmul_vjp_2d_hidden", "test_matmul_vjp_1d_hidden")),
    Mistake("linear_vjp with dW = dldY @ X", "unbroadcast_no_keepdims",
            "test_linear_vjp_hidden", ("the gradient for W has wrong values", "square matrices")),
    Mistake("linear_vjp with dW = dldY.T @ X", "unbroadcast_seed_typo",
            "test_linear_vjp_hidden", ("the gradient for W has wrong values", "the transpose of the correct gradient")),
    Mistake("quadratic_form_grad = 2 A x (right only for symmetric A)", "unbroadcast_leading_only",
            "test_quadratic_form_grad_hidden", ("wrong values",)),
    Mistake("norm_sq_grads without the factor 2", "unbroadcast_no_keepdims",
            "test_norm_sq_grads_hidden", ("exactly half the correct gradient",)),
    Mistake("two_layer_grads forgets the ReLU mask", "unbroadcast_leading_only",
            "test_two_layer_grads_hidden", ("wrong values", "the gradient for W1")),
]
# fmt: on


@cache
def results(run):
    return run_notebook(source_notebook(ASSIGNMENT), RUNS[run])


def _failed(res):
    return {gid: r.error for gid, r in res.items() if not r.passed}


def _owner(test_id):
    """The function a graded cell tests: test_<function>_visible / ..._hidden."""
    return max((f for f in FUNCTIONS if test_id.startswith(f"test_{f}_")), key=len)


def test_source_earns_full_marks():
    res = results("source")
    assert not _failed(res), _failed(res)
    assert sum(r.points for r in res.values()) == TOTAL_POINTS
    # every function has a visible and at least one hidden graded cell
    for f in FUNCTIONS:
        ids = [gid for gid in res if _owner(gid) == f]
        assert f"test_{f}_visible" in ids and any(i.endswith("_hidden") for i in ids), f


@pytest.mark.parametrize("run", ["alt_chained", "alt_self_contained"])
def test_other_correct_answers_earn_full_marks(run):
    res = results(run)
    assert not _failed(res), _failed(res)


@pytest.mark.parametrize("mistake", MISTAKES, ids=lambda m: m.name)
def test_mistake_fails_its_hidden_test_with_a_diagnostic(mistake):
    res = results(mistake.run)
    cell = res[mistake.fails]
    assert not cell.passed, f"{mistake.name}: {mistake.fails} passed"
    for words in mistake.says:
        assert words in cell.error, f"{mistake.name}: {words!r} not in\n{cell.error}"
    for gid in mistake.passes:
        assert res[gid].passed, f"{mistake.name}: {gid} should still pass\n{res[gid].error}"


@pytest.mark.parametrize(
    "run", [r for r in RUNS if r not in ("source",) and not r.startswith("alt")]
)
def test_wrong_answers_cost_only_their_own_cells(run):
    """Partial credit: a wrong function fails only cells testing that function."""
    wrong = {
        f for f, src in RUNS[run].items() if src not in (ALT_CHAINED[f], ALT_SELF_CONTAINED[f])
    }
    owners = {_owner(gid) for gid in _failed(results(run))}
    assert owners <= wrong, (owners - wrong, _failed(results(run)))


def test_the_infinite_loop_is_stopped_quickly():
    """The seed's looping unbroadcast fails its two cells by time limit, not by hanging."""
    res = results("unbroadcast_seed_typo")
    for gid in ("test_unbroadcast_visible", "test_unbroadcast_hidden"):
        assert not res[gid].passed and "did not return within 3 s" in res[gid].error, res[gid].error
