"""Assignment 04 (VJPs of array operations): realistic mistakes and other correct answers
(see demo/__init__.py)."""

# --- other correct answers (1): loops, explicit masks, matrix products, the provided unbroadcast --

ALT_EXPLICIT = {
    "transpose_vjp": """
def transpose_vjp(dldf, x, axes=None):
    if axes is None:
        axes = tuple(range(np.ndim(x)))[::-1]
    inverse = [0] * len(axes)
    for k, axis in enumerate(axes):
        inverse[axis] = k
    return (np.transpose(dldf, inverse),)
""",
    "reshape_vjp": """
def reshape_vjp(dldf, x, shape):
    return [np.ravel(dldf).reshape(np.shape(x))]
""",
    "where_vjp": """
def where_vjp(dldf, cond, a, b):
    mask = np.broadcast_to(cond, np.shape(dldf))
    return unbroadcast(a, dldf * mask), unbroadcast(b, dldf * ~mask)
""",
    "outer_vjp": """
def outer_vjp(dldF, a, b):
    return (dldF * b).sum(axis=1), (dldF * a[:, None]).sum(axis=0)
""",
    "bilinear_vjp": """
def bilinear_vjp(dldf, X, A, Y):
    g = dldf[:, None]
    return g * (Y @ A.T), (g * X).T @ Y, g * (X @ A)
""",
    "batched_matmul_vjp": """
def batched_matmul_vjp(dldF, A, B):
    dA = dldF @ B.swapaxes(-1, -2)
    dB = A.swapaxes(-1, -2) @ dldF
    while dA.ndim > A.ndim:
        dA = dA.sum(axis=0)
    while dB.ndim > B.ndim:
        dB = dB.sum(axis=0)
    for axis in range(A.ndim - 2):
        if A.shape[axis] == 1:
            dA = dA.sum(axis=axis, keepdims=True)
    for axis in range(B.ndim - 2):
        if B.shape[axis] == 1:
            dB = dB.sum(axis=axis, keepdims=True)
    return dA, dB
""",
}

# --- other correct answers (2): self-contained, einsum, moveaxis, loops over samples ------------

_SUM_TO = """
def _sum_to(g, shape):
    g = np.asarray(g, dtype=np.float64)
    while g.ndim > len(shape):
        g = np.add.reduce(g, axis=0)
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    return np.add.reduce(g, axis=axes, keepdims=True) if axes else g
"""

ALT_EINSUM = {
    "transpose_vjp": """
def transpose_vjp(dldf, x, axes=None):
    n = np.ndim(x)
    axes = range(n)[::-1] if axes is None else axes
    return (np.moveaxis(np.asarray(dldf, dtype=float), list(range(n)), list(axes)),)
""",
    "reshape_vjp": """
def reshape_vjp(dldf, x, shape):
    return (np.reshape(dldf, np.shape(x)) * 1.0,)
""",
    "where_vjp": _SUM_TO
    + """
def where_vjp(dldf, cond, a, b):
    picked = np.where(cond, 1.0, 0.0)
    return _sum_to(dldf * picked, np.shape(a)), _sum_to(dldf * (1.0 - picked), np.shape(b))
""",
    "outer_vjp": """
def outer_vjp(dldF, a, b):
    return np.einsum("ij,j->i", dldF, b), np.einsum("ij,i->j", dldF, a)
""",
    "bilinear_vjp": """
def bilinear_vjp(dldf, X, A, Y):
    dX, dA, dY = np.zeros(X.shape), np.zeros(A.shape), np.zeros(Y.shape)
    for k in range(X.shape[0]):
        dX[k] = dldf[k] * (A @ Y[k])
        dA += dldf[k] * np.outer(X[k], Y[k])
        dY[k] = dldf[k] * (A.T @ X[k])
    return dX, dA, dY
""",
    "batched_matmul_vjp": _SUM_TO
    + """
def batched_matmul_vjp(dldF, A, B):
    dA = np.einsum("...ij,...kj->...ik", dldF, B)
    dB = np.einsum("...ki,...kj->...ij", A, dldF)
    return _sum_to(dA, A.shape), _sum_to(dB, B.shape)
""",
}

# --- wrong answers ----------------------------------------------------------------------------

TRANSPOSE_SAME_AXES = """
def transpose_vjp(dldf, x, axes=None):
    return (np.transpose(dldf, axes),)
"""

TRANSPOSE_ALWAYS_T = """
def transpose_vjp(dldf, x, axes=None):
    return (dldf.T,)
"""

RESHAPE_TRANSPOSES = """
def reshape_vjp(dldf, x, shape):
    return (dldf.T,)
"""

RESHAPE_TO_SHAPE = """
def reshape_vjp(dldf, x, shape):
    return (np.reshape(dldf, shape),)
"""

WHERE_NO_UNBROADCAST = """
def where_vjp(dldf, cond, a, b):
    return np.where(cond, dldf, 0.0), np.where(cond, 0.0, dldf)
"""

WHERE_SWAPPED_MASKS = """
def where_vjp(dldf, cond, a, b):
    return unbroadcast(a, np.where(cond, 0.0, dldf)), unbroadcast(b, np.where(cond, dldf, 0.0))
"""

WHERE_B_GETS_ALL = """
def where_vjp(dldf, cond, a, b):
    return unbroadcast(a, np.where(cond, dldf, 0.0)), unbroadcast(b, dldf)
"""

OUTER_MISSING_TRANSPOSE = """
def outer_vjp(dldF, a, b):
    return dldF @ b, dldF @ a
"""

BILINEAR_COLUMNS = """
def bilinear_vjp(dldf, X, A, Y):
    dX = dldf * (Y @ A.T)
    dA = np.einsum("b,bi,bj->ij", dldf, X, Y)
    dY = np.einsum("b,bi,ij->bj", dldf, X, A)
    return dX, dA, dY
"""

BILINEAR_DA_IGNORES_DLDF = """
def bilinear_vjp(dldf, X, A, Y):
    dX = dldf[:, None] * (Y @ A.T)
    dY = dldf[:, None] * (X @ A)
    return dX, X.T @ Y, dY
"""

BATCHED_DOT_T = """
def batched_matmul_vjp(dldF, A, B):
    return unbroadcast(A, dldF @ B.T), unbroadcast(B, A.T @ dldF)
"""

BATCHED_NO_UNBROADCAST = """
def batched_matmul_vjp(dldF, A, B):
    return dldF @ np.swapaxes(B, -1, -2), np.swapaxes(A, -1, -2) @ dldF
"""

BATCHED_MISSING_TRANSPOSE = """
def batched_matmul_vjp(dldF, A, B):
    return unbroadcast(A, dldF @ B), unbroadcast(B, np.swapaxes(A, -1, -2) @ dldF)
"""

MISTAKES = {
    "transpose_vjp applies the same permutation": {"transpose_vjp": TRANSPOSE_SAME_AXES},
    "transpose_vjp returns dldf.T whatever the axes": {"transpose_vjp": TRANSPOSE_ALWAYS_T},
    "reshape_vjp transposes instead of reshaping": {"reshape_vjp": RESHAPE_TRANSPOSES},
    "reshape_vjp reshapes to the output shape": {"reshape_vjp": RESHAPE_TO_SHAPE},
    "where_vjp without unbroadcast": {"where_vjp": WHERE_NO_UNBROADCAST},
    "where_vjp swaps the masks": {"where_vjp": WHERE_SWAPPED_MASKS},
    "where_vjp gives b the whole cotangent": {"where_vjp": WHERE_B_GETS_ALL},
    "outer_vjp misses the transpose for b": {"outer_vjp": OUTER_MISSING_TRANSPOSE},
    "bilinear_vjp scales columns instead of rows": {"bilinear_vjp": BILINEAR_COLUMNS},
    "bilinear_vjp ignores dldf in dA": {"bilinear_vjp": BILINEAR_DA_IGNORES_DLDF},
    "batched_matmul_vjp uses .T on stacks": {"batched_matmul_vjp": BATCHED_DOT_T},
    "batched_matmul_vjp does not sum over broadcast batch axes": {
        "batched_matmul_vjp": BATCHED_NO_UNBROADCAST
    },
    "batched_matmul_vjp misses a transpose": {"batched_matmul_vjp": BATCHED_MISSING_TRANSPOSE},
}

ALTERNATIVES = {"explicit": ALT_EXPLICIT, "einsum": ALT_EINSUM}

COMMON = [
    "transpose_vjp applies the same permutation",
    "where_vjp without unbroadcast",
    "outer_vjp misses the transpose for b",
    "batched_matmul_vjp uses .T on stacks",
    "batched_matmul_vjp does not sum over broadcast batch axes",
]

# Solution cells that call others (the source's and the alternatives'): none; unbroadcast is a
# provided cell.
DEPENDS = {}

HOSTILE = {"huge_output": "bilinear_vjp"}
