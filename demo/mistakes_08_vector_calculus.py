"""Assignment 08 (new closed forms, Newton's method from Hessian-vector products): realistic
mistakes and other correct answers (see demo/__init__.py)."""

# --- other correct answers (1): stacked least squares, einsum, conjugate gradients -------------

ALT_STACKED = {
    "weighted_least_norm": """
def weighted_least_norm(A, y, Q):
    # the KKT system [[2Q, A^T], [A, 0]] [x; nu] = [0; y]
    m, n = A.shape
    K = np.block([[2 * Q, A.T], [A, np.zeros((m, m))]])
    return np.linalg.solve(K, np.concatenate([np.zeros(n), y]))[:n]
""",
    "weighted_ridge": """
def weighted_ridge(X, y, w, lam):
    n = X.shape[1]
    s = np.sqrt(w)
    X_aug = np.vstack([X * s[:, None], np.sqrt(lam) * np.eye(n)])
    y_aug = np.concatenate([y * s, np.zeros(n)])
    theta, *_ = np.linalg.lstsq(X_aug, y_aug, rcond=None)
    return theta
""",
    "logistic_hvp": """
def logistic_hvp(theta, X, y, lam, v):
    p = sigmoid(np.einsum("ij,j->i", X, theta))
    d = p * (1.0 - p)
    return np.einsum("ij,i->j", X, d * np.einsum("ij,j->i", X, v)) + lam * v
""",
    "newton_step": """
def newton_step(theta, X, y, lam):
    # conjugate gradients on H d = g: at most n Hessian-vector products
    g = logistic_grad(theta, X, y, lam)
    d = np.zeros_like(g)
    r = g.copy()
    p = r.copy()
    for _ in range(len(theta)):
        if np.linalg.norm(r) <= 1e-14 * np.linalg.norm(g):
            break
        Hp = logistic_hvp(theta, X, y, lam, p)
        alpha = (r @ r) / (p @ Hp)
        d = d + alpha * p
        r_new = r - alpha * Hp
        p = r_new + (r_new @ r_new) / (r @ r) * p
        r = r_new
    return theta - d
""",
}

# --- other correct answers (2): Cholesky, QR, loops, a list of columns --------------------------

ALT_FACTOR = {
    "weighted_least_norm": """
def weighted_least_norm(A, y, Q):
    # Q = L L^T; with u = L^T x the problem is the plain least norm of (A L^-T) u = y
    L = np.linalg.cholesky(Q)
    B = np.linalg.solve(L, A.T).T
    u = B.T @ np.linalg.solve(B @ B.T, y)
    return np.linalg.solve(L.T, u)
""",
    "weighted_ridge": """
def weighted_ridge(X, y, w, lam):
    M = X.T @ np.diag(w) @ X + lam * np.eye(X.shape[1])
    L = np.linalg.cholesky(M)
    z = np.linalg.solve(L, X.T @ np.diag(w) @ y)
    return np.linalg.solve(L.T, z)
""",
    "logistic_hvp": """
def logistic_hvp(theta, X, y, lam, v):
    out = lam * np.asarray(v, dtype=float)
    for x_i in X:
        p = 1.0 / (1.0 + np.exp(-(x_i @ theta)))
        out = out + p * (1.0 - p) * (x_i @ v) * x_i
    return out
""",
    "newton_step": """
def newton_step(theta, X, y, lam):
    n = len(theta)
    columns = []
    for j in range(n):
        e = np.zeros(n)
        e[j] = 1.0
        columns.append(logistic_hvp(theta, X, y, lam, e))
    H = np.array(columns).T
    H = (H + H.T) / 2
    L = np.linalg.cholesky(H)
    g = logistic_grad(theta, X, y, lam)
    return theta - np.linalg.solve(L.T, np.linalg.solve(L, g))
""",
}

ALT_QR = {
    "weighted_least_norm": """
def weighted_least_norm(A, y, Q):
    Z = np.linalg.lstsq(Q, A.T, rcond=None)[0]
    nu, *_ = np.linalg.lstsq(A @ Z, y, rcond=None)
    return Z @ nu
""",
    "weighted_ridge": """
def weighted_ridge(X, y, w, lam):
    n = X.shape[1]
    s = np.sqrt(w)
    Q, R = np.linalg.qr(np.vstack([s[:, None] * X, np.sqrt(lam) * np.eye(n)]))
    return np.linalg.solve(R, Q.T @ np.concatenate([s * y, np.zeros(n)]))
""",
    "logistic_hvp": """
def logistic_hvp(theta, X, y, lam, v):
    z = X.dot(theta)
    d = np.exp(-np.logaddexp(0, z) - np.logaddexp(0, -z))   # sigmoid(z) * sigmoid(-z)
    return X.T.dot(d * X.dot(v)) + lam * v
""",
    "newton_step": """
def newton_step(theta, X, y, lam):
    n = theta.size
    H = np.empty((n, n))
    for j in range(n):
        H[:, j] = logistic_hvp(theta, X, y, lam, np.eye(n)[j])
    step, *_ = np.linalg.lstsq(H, logistic_grad(theta, X, y, lam), rcond=None)
    return theta - step
""",
}

# --- wrong answers ----------------------------------------------------------------------------

WR_IGNORES_WEIGHTS = """
def weighted_ridge(X, y, w, lam):
    n = X.shape[1]
    return np.linalg.solve(X.T @ X + lam * np.eye(n), X.T @ y)
"""

WR_NO_PENALTY = """
def weighted_ridge(X, y, w, lam):
    s = np.sqrt(w)
    theta, *_ = np.linalg.lstsq(X * s[:, None], y * s, rcond=None)
    return theta
"""

WR_ROWS_BY_W = """
def weighted_ridge(X, y, w, lam):
    n = X.shape[1]
    X_aug = np.vstack([X * w[:, None], np.sqrt(lam) * np.eye(n)])
    y_aug = np.concatenate([y * w, np.zeros(n)])
    return np.linalg.lstsq(X_aug, y_aug, rcond=None)[0]
"""

WR_LAM_ONES = """
def weighted_ridge(X, y, w, lam):
    n = X.shape[1]
    W = np.diag(w)
    return np.linalg.solve(X.T @ W @ X + lam * np.ones((n, n)), X.T @ W @ y)
"""

WR_LAM_NOT_SQRT = """
def weighted_ridge(X, y, w, lam):
    n = X.shape[1]
    s = np.sqrt(w)
    X_aug = np.vstack([X * s[:, None], lam * np.eye(n)])
    y_aug = np.concatenate([y * s, np.zeros(n)])
    return np.linalg.lstsq(X_aug, y_aug, rcond=None)[0]
"""

WR_INV = """
def weighted_ridge(X, y, w, lam):
    n = X.shape[1]
    W = np.diag(w)
    return np.linalg.inv(X.T @ W @ X + lam * np.eye(n)) @ (X.T @ W @ y)
"""

WLN_IGNORES_Q = """
def weighted_least_norm(A, y, Q):
    return A.T @ np.linalg.solve(A @ A.T, y)
"""

WLN_Q_NOT_INVERSE = """
def weighted_least_norm(A, y, Q):
    return Q @ A.T @ np.linalg.solve(A @ Q @ A.T, y)
"""

WLN_WRONG_SYSTEM = """
def weighted_least_norm(A, y, Q):
    return np.linalg.solve(Q, A.T) @ np.linalg.solve(A @ A.T, y)
"""

WLN_RETURNS_MULTIPLIER = """
def weighted_least_norm(A, y, Q):
    Z = np.linalg.solve(Q, A.T)
    return np.linalg.solve(A @ Z, y)
"""

HVP_NO_DERIVATIVE = """
def logistic_hvp(theta, X, y, lam, v):
    s = sigmoid(X @ theta)
    return X.T @ (s * (X @ v)) + lam * v
"""

HVP_NO_PENALTY = """
def logistic_hvp(theta, X, y, lam, v):
    s = sigmoid(X @ theta)
    return X.T @ (s * (1 - s) * (X @ v))
"""

HVP_RETURNS_H = """
def logistic_hvp(theta, X, y, lam, v):
    s = sigmoid(X @ theta)
    return X.T @ ((s * (1 - s))[:, None] * X) + lam * np.eye(len(theta))
"""

HVP_NO_WEIGHTS = """
def logistic_hvp(theta, X, y, lam, v):
    return X.T @ (X @ v) + lam * v
"""

NEWTON_UPHILL = """
def newton_step(theta, X, y, lam):
    H = np.column_stack([logistic_hvp(theta, X, y, lam, e) for e in np.eye(len(theta))])
    return theta + np.linalg.solve(H, logistic_grad(theta, X, y, lam))
"""

NEWTON_GRADIENT_STEP = """
def newton_step(theta, X, y, lam):
    return theta - logistic_grad(theta, X, y, lam)
"""

NEWTON_OWN_HESSIAN = """
def newton_step(theta, X, y, lam):
    s = sigmoid(X @ theta)
    H = X.T @ ((s * (1 - s))[:, None] * X) + lam * np.eye(len(theta))
    return theta - np.linalg.solve(H, logistic_grad(theta, X, y, lam))
"""

NEWTON_MULTIPLIES_BY_H = """
def newton_step(theta, X, y, lam):
    H = np.column_stack([logistic_hvp(theta, X, y, lam, e) for e in np.eye(len(theta))])
    return theta - H @ logistic_grad(theta, X, y, lam)
"""

MISTAKES = {
    "weighted_ridge ignores the weights": {"weighted_ridge": WR_IGNORES_WEIGHTS},
    "weighted_ridge without the penalty": {"weighted_ridge": WR_NO_PENALTY},
    "weighted_ridge scales rows by w instead of sqrt(w)": {"weighted_ridge": WR_ROWS_BY_W},
    "weighted_ridge adds lam * ones instead of lam * I": {"weighted_ridge": WR_LAM_ONES},
    "weighted_ridge stacks lam I instead of sqrt(lam) I": {"weighted_ridge": WR_LAM_NOT_SQRT},
    "weighted_ridge multiplies by np.linalg.inv": {"weighted_ridge": WR_INV},
    "weighted_least_norm ignores Q": {"weighted_least_norm": WLN_IGNORES_Q},
    "weighted_least_norm uses Q instead of its inverse": {"weighted_least_norm": WLN_Q_NOT_INVERSE},
    "weighted_least_norm solves with A A^T": {"weighted_least_norm": WLN_WRONG_SYSTEM},
    "weighted_least_norm returns the multiplier": {"weighted_least_norm": WLN_RETURNS_MULTIPLIER},
    "logistic_hvp uses sigmoid instead of its derivative": {"logistic_hvp": HVP_NO_DERIVATIVE},
    "logistic_hvp forgets the penalty": {"logistic_hvp": HVP_NO_PENALTY},
    "logistic_hvp returns the Hessian matrix": {"logistic_hvp": HVP_RETURNS_H},
    "logistic_hvp leaves out the weights s(1 - s)": {"logistic_hvp": HVP_NO_WEIGHTS},
    "newton_step moves uphill": {"newton_step": NEWTON_UPHILL},
    "newton_step takes a gradient step": {"newton_step": NEWTON_GRADIENT_STEP},
    "newton_step forms the Hessian without logistic_hvp": {"newton_step": NEWTON_OWN_HESSIAN},
    "newton_step multiplies by H instead of solving": {"newton_step": NEWTON_MULTIPLIES_BY_H},
}

ALTERNATIVES = {"stacked": ALT_STACKED, "factorisations": ALT_FACTOR, "qr": ALT_QR}

COMMON = [
    "weighted_ridge ignores the weights",
    "weighted_ridge scales rows by w instead of sqrt(w)",
    "weighted_ridge multiplies by np.linalg.inv",
    "weighted_least_norm ignores Q",
    "logistic_hvp uses sigmoid instead of its derivative",
    "logistic_hvp forgets the penalty",
    "newton_step takes a gradient step",
]

# Solution cells that call others (the source's and the alternatives'). The tests of newton_step
# replace logistic_hvp by their own, so newton_step's cells do not depend on it.
DEPENDS = {}

HOSTILE = {"invalid_json": None}
