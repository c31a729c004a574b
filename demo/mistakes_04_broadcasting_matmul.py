"""Assignment 04 (broadcasting and matmul VJPs): realistic mistakes and other correct answers
(see demo/__init__.py)."""

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


MISTAKES = {
    "unbroadcast sums only the leading axes": {"unbroadcast": UNBROADCAST_LEADING_ONLY},
    "unbroadcast loses the size-1 axes (no keepdims)": {"unbroadcast": UNBROADCAST_NO_KEEPDIMS},
    "unbroadcast with the seed's q/g typo loops forever": {"unbroadcast": UNBROADCAST_SEED_TYPO},
    "add_vjp without unbroadcast": {"add_vjp": ADD_NO_UNBROADCAST},
    "mul_vjp multiplies by the wrong factor": {"mul_vjp": MUL_SWAPPED_FACTORS},
    "maximum_vjp gives both inputs the same mask": {"maximum_vjp": MAXIMUM_SAME_MASK},
    "maximum_vjp gives ties to a": {"maximum_vjp": MAXIMUM_TIES_TO_A},
    "maximum_vjp splits ties in half": {"maximum_vjp": MAXIMUM_TIES_SPLIT},
    "maximum_vjp drops the cotangent at ties": {"maximum_vjp": MAXIMUM_TIES_DROPPED},
    "matmul_vjp misses a transpose": {"matmul_vjp": MATMUL_MISSING_TRANSPOSE},
    "matmul_vjp handles 2-D operands only": {"matmul_vjp": MATMUL_2D_ONLY},
    "matmul_vjp uses .T on batched arrays": {"matmul_vjp": MATMUL_DOT_T},
    "matmul_vjp does not sum over broadcast batch axes": {"matmul_vjp": MATMUL_NO_BATCH_REDUCTION},
    "linear_vjp with dW = dldY @ X": {"linear_vjp": LINEAR_DW_SWAPPED},
    "linear_vjp with dW = dldY.T @ X": {"linear_vjp": LINEAR_DW_TRANSPOSED},
    "quadratic_form_grad = 2 A x (right only for symmetric A)": {
        "quadratic_form_grad": QUADRATIC_2AX
    },
    "norm_sq_grads without the factor 2": {"norm_sq_grads": NORM_SQ_NO_FACTOR_2},
    "two_layer_grads forgets the ReLU mask": {"two_layer_grads": TWO_LAYER_NO_RELU_MASK},
}

ALTERNATIVES = {"chained": ALT_CHAINED, "self_contained": ALT_SELF_CONTAINED}

COMMON = [
    "unbroadcast sums only the leading axes",
    "add_vjp without unbroadcast",
    "matmul_vjp misses a transpose",
    "matmul_vjp uses .T on batched arrays",
    "linear_vjp with dW = dldY.T @ X",
    "quadratic_form_grad = 2 A x (right only for symmetric A)",
]

# Solution cells that call others (the source's and the alternatives').
DEPENDS = {
    "add_vjp": {"unbroadcast"},
    "mul_vjp": {"unbroadcast"},
    "maximum_vjp": {"unbroadcast"},
    "matmul_vjp": {"unbroadcast"},
    "linear_vjp": {"matmul_vjp", "unbroadcast"},
    "two_layer_grads": {"matmul_vjp", "maximum_vjp", "unbroadcast"},
}

HOSTILE = {"huge_output": "two_layer_grads"}

# Every cell that calls this unbroadcast waits for its time limit: the notebook would run over
# the grader's time budget, so the demo class leaves it out.
SKIP = {"unbroadcast with the seed's q/g typo loops forever": "over the grading time budget"}
