"""Assignment 08 (vector calculus at work): realistic mistakes and other correct answers
(see demo/__init__.py)."""

# --- other correct answers (1): the textbook formulas, solved with np.linalg.solve ----------------

ALT_TEXTBOOK = {
    "quadratic_form_grad": """
def quadratic_form_grad(A, x):
    return A @ x + A.T @ x
""",
    "least_squares": """
def least_squares(X, y):
    return np.linalg.solve(X.T @ X, X.T @ y)
""",
    "weighted_least_squares": """
def weighted_least_squares(X, y, w):
    XtW = X.T * w                       # X^T W without forming W
    return np.linalg.solve(XtW @ X, XtW @ y)
""",
    "ridge": """
def ridge(X, y, lam):
    # push-through identity: (X^T X + lam I_n)^{-1} X^T = X^T (X X^T + lam I_m)^{-1}
    m = X.shape[0]
    return X.T @ np.linalg.solve(X @ X.T + lam * np.eye(m), y)
""",
    "least_norm": """
def least_norm(A, y):
    return np.linalg.pinv(A) @ y
""",
    "bayes_posterior": """
def bayes_posterior(prior, sensitivity, specificity):
    likelihood = sensitivity
    evidence = sensitivity * prior + (1 - specificity) * (1 - prior)
    return likelihood * prior / evidence
""",
    "expectation_and_variance": """
def expectation_and_variance(values, probs):
    mean = 0
    second_moment = 0
    for x, p in zip(values, probs):
        mean += p * x
        second_moment += p * x * x
    return (mean, second_moment - mean ** 2)
""",
    "covariance_matrix": """
def covariance_matrix(samples):
    return np.cov(samples, rowvar=False)
""",
    "running_mean": """
def running_mean(samples):
    out, total = [], 0.0
    for k, s in enumerate(samples, start=1):
        total += s
        out.append(total / k)
    return np.array(out)
""",
}

# --- other correct answers (2): factorisations, einsum, numpy object arrays ------------------------

ALT_FACTOR = {
    "quadratic_form_grad": """
def quadratic_form_grad(A, x):
    return np.einsum("ij,j->i", A, x) + x @ A
""",
    "least_squares": """
def least_squares(X, y):
    L = np.linalg.cholesky(X.T @ X)            # X^T X = L L^T
    return np.linalg.solve(L.T, np.linalg.solve(L, X.T @ y))
""",
    "weighted_least_squares": """
def weighted_least_squares(X, y, w):
    W = np.diag(w)
    return np.linalg.solve(X.T @ W @ X, X.T @ W @ y)
""",
    "ridge": """
def ridge(X, y, lam):
    n = X.shape[1]
    X_aug = np.vstack([X, np.sqrt(lam) * np.eye(n)])
    y_aug = np.concatenate([y, np.zeros((n,) + y.shape[1:])])
    return np.linalg.lstsq(X_aug, y_aug, rcond=None)[0]
""",
    "least_norm": """
def least_norm(A, y):
    return np.linalg.lstsq(A, y, rcond=None)[0]     # minimum-norm solution when it is not unique
""",
    "bayes_posterior": """
def bayes_posterior(prior, sensitivity, specificity):
    joint_ill = prior * sensitivity
    joint_healthy = (1 - prior) * (1 - specificity)
    return joint_ill / (joint_ill + joint_healthy)
""",
    "expectation_and_variance": """
def expectation_and_variance(values, probs):
    v = np.array(values, dtype=object)
    p = np.array(probs, dtype=object)
    mean = np.dot(p, v)
    return mean, np.dot(p, (v - mean) ** 2)
""",
    "covariance_matrix": """
def covariance_matrix(samples):
    N = len(samples)
    c = samples - np.mean(samples, axis=0, keepdims=True)
    return np.einsum("ki,kj->ij", c, c) / (N - 1)
""",
    "running_mean": """
def running_mean(samples):
    return np.cumsum(samples) / (np.arange(len(samples)) + 1.0)
""",
}

# --- other correct answers (3): QR factorisations, lstsq on the normal equations -------------------

ALT_QR = {
    "quadratic_form_grad": """
def quadratic_form_grad(A, x):
    S = (A + A.T) / 2            # only the symmetric part matters
    return 2 * S @ x
""",
    "least_squares": """
def least_squares(X, y):
    Q, R = np.linalg.qr(X)       # X = Q R, R (n, n) upper triangular
    return np.linalg.solve(R, Q.T @ y)
""",
    "weighted_least_squares": """
def weighted_least_squares(X, y, w):
    s = np.sqrt(w)
    Q, R = np.linalg.qr(s[:, None] * X)
    return np.linalg.solve(R, Q.T @ (s * y))
""",
    "ridge": """
def ridge(X, y, lam):
    G = X.T @ X
    G = G + lam * np.eye(len(G))
    L = np.linalg.cholesky(G)
    return np.linalg.solve(L.T, np.linalg.solve(L, X.T @ y))
""",
    "least_norm": """
def least_norm(A, y):
    Q, R = np.linalg.qr(A.T)     # A^T = Q R, so A = R^T Q^T and x = Q R^{-T} y
    return Q @ np.linalg.solve(R.T, y)
""",
    "bayes_posterior": """
def bayes_posterior(prior, sensitivity, specificity):
    p_pos = sensitivity * prior + (1 - specificity) * (1 - prior)   # total probability
    return sensitivity * prior / p_pos
""",
    "expectation_and_variance": """
def expectation_and_variance(values, probs):
    pairs = list(zip(values, probs))
    mean = sum(p * x for x, p in pairs)
    return [mean, sum(p * (x - mean) * (x - mean) for x, p in pairs)]
""",
    "covariance_matrix": """
def covariance_matrix(samples):
    return np.cov(samples.T)
""",
    "running_mean": """
def running_mean(samples):
    n = np.arange(1, samples.shape[0] + 1)
    return np.add.accumulate(samples) / n
""",
}

# --- wrong answers ---------------------------------------------------------------------------------

LS_XXT = """
def least_squares(X, y):
    return np.linalg.solve(X @ X.T, X.T @ y)
"""

LS_NO_TRANSPOSE = """
def least_squares(X, y):
    return np.linalg.solve(X.T @ X, X @ y)
"""

LS_INV = """
def least_squares(X, y):
    return np.linalg.inv(X.T @ X) @ X.T @ y
"""

WLS_IGNORES_WEIGHTS = """
def weighted_least_squares(X, y, w):
    return np.linalg.lstsq(X, y, rcond=None)[0]
"""

WLS_ROWS_BY_W = """
def weighted_least_squares(X, y, w):
    return np.linalg.lstsq(X * w[:, None], y * w, rcond=None)[0]
"""

WLS_ONLY_X_SCALED = """
def weighted_least_squares(X, y, w):
    return np.linalg.lstsq(X * np.sqrt(w)[:, None], y, rcond=None)[0]
"""

RIDGE_LAM_ONES = """
def ridge(X, y, lam):
    n = X.shape[1]
    return np.linalg.solve(X.T @ X + lam * np.ones((n, n)), X.T @ y)
"""

RIDGE_WRONG_SIDE = """
def ridge(X, y, lam):
    m = X.shape[0]
    return np.linalg.solve(X @ X.T + lam * np.eye(m), X.T @ y)
"""

RIDGE_NO_PENALTY = """
def ridge(X, y, lam):
    return np.linalg.lstsq(X, y, rcond=None)[0]
"""

LN_LEAST_SQUARES_FORMULA = """
def least_norm(A, y):
    return np.linalg.solve(A.T @ A, A.T @ y)
"""

LN_TRANSPOSED_LSTSQ = """
def least_norm(A, y):
    return np.linalg.lstsq(A.T, y, rcond=None)[0]
"""

LN_BASIC_SOLUTION = """
def least_norm(A, y):
    m = A.shape[0]
    x = np.zeros((A.shape[1],) + y.shape[1:])
    x[:m] = np.linalg.solve(A[:, :m], y)       # a solution, but not the shortest
    return x
"""

LN_FORGETS_AT = """
def least_norm(A, y):
    return np.linalg.solve(A @ A.T, y)
"""

QFG_2AX = """
def quadratic_form_grad(A, x):
    return 2 * A @ x
"""

QFG_ONE_TERM = """
def quadratic_form_grad(A, x):
    return A @ x
"""

BAYES_NO_FALSE_POSITIVES = """
def bayes_posterior(prior, sensitivity, specificity):
    evidence = sensitivity * prior
    return sensitivity * prior / evidence
"""

BAYES_SPECIFICITY_AS_FP_RATE = """
def bayes_posterior(prior, sensitivity, specificity):
    return sensitivity * prior / (sensitivity * prior + specificity * (1 - prior))
"""

BAYES_FLOATS = """
def bayes_posterior(prior, sensitivity, specificity):
    prior, sensitivity, specificity = float(prior), float(sensitivity), float(specificity)
    return sensitivity * prior / (sensitivity * prior + (1 - specificity) * (1 - prior))
"""

VAR_SIGN = """
def expectation_and_variance(values, probs):
    mean = sum(p * x for x, p in zip(values, probs))
    second = sum(p * x ** 2 for x, p in zip(values, probs))
    return mean, mean ** 2 - second
"""

VAR_SECOND_MOMENT = """
def expectation_and_variance(values, probs):
    mean = sum(p * x for x, p in zip(values, probs))
    return mean, sum(p * x ** 2 for x, p in zip(values, probs))
"""

COV_BIASED = """
def covariance_matrix(samples):
    c = samples - samples.mean(axis=0)
    return c.T @ c / len(samples)
"""

COV_ROWS_AS_VARIABLES = """
def covariance_matrix(samples):
    return np.cov(samples)
"""

RM_DIVIDES_BY_N = """
def running_mean(samples):
    return np.cumsum(samples) / len(samples)
"""

RM_CUMSUM_ONLY = """
def running_mean(samples):
    return np.cumsum(samples)
"""

MISTAKES = {
    "quadratic_form_grad returns 2 A x": {"quadratic_form_grad": QFG_2AX},
    "quadratic_form_grad keeps only A x": {"quadratic_form_grad": QFG_ONE_TERM},
    "least_squares with X X^T instead of X^T X": {"least_squares": LS_XXT},
    "least_squares forgets the transpose in X^T y": {"least_squares": LS_NO_TRANSPOSE},
    "least_squares multiplies by np.linalg.inv": {"least_squares": LS_INV},
    "weighted_least_squares ignores the weights": {"weighted_least_squares": WLS_IGNORES_WEIGHTS},
    "weighted_least_squares scales rows by w instead of sqrt(w)": {
        "weighted_least_squares": WLS_ROWS_BY_W
    },
    "weighted_least_squares scales X but not y": {"weighted_least_squares": WLS_ONLY_X_SCALED},
    "ridge adds lam * ones instead of lam * I": {"ridge": RIDGE_LAM_ONES},
    "ridge with lam on the wrong side (X X^T + lam I)": {"ridge": RIDGE_WRONG_SIDE},
    "ridge without the penalty": {"ridge": RIDGE_NO_PENALTY},
    "least_norm with the least-squares formula (A^T A)^-1 A^T y": {
        "least_norm": LN_LEAST_SQUARES_FORMULA
    },
    "least_norm by lstsq of the transposed system": {"least_norm": LN_TRANSPOSED_LSTSQ},
    "least_norm returns a solution that is not the shortest": {"least_norm": LN_BASIC_SOLUTION},
    "least_norm forgets the final A^T": {"least_norm": LN_FORGETS_AT},
    "bayes_posterior forgets the false-positive term": {
        "bayes_posterior": BAYES_NO_FALSE_POSITIVES
    },
    "bayes_posterior uses the specificity as false-positive rate": {
        "bayes_posterior": BAYES_SPECIFICITY_AS_FP_RATE
    },
    "bayes_posterior converts to float": {"bayes_posterior": BAYES_FLOATS},
    "variance as E[X]^2 - E[X^2]": {"expectation_and_variance": VAR_SIGN},
    "variance returns E[X^2]": {"expectation_and_variance": VAR_SECOND_MOMENT},
    "covariance divides by N": {"covariance_matrix": COV_BIASED},
    "covariance treats rows as variables": {"covariance_matrix": COV_ROWS_AS_VARIABLES},
    "running mean divides by N": {"running_mean": RM_DIVIDES_BY_N},
    "running mean returns the cumulative sums": {"running_mean": RM_CUMSUM_ONLY},
}

ALTERNATIVES = {"textbook": ALT_TEXTBOOK, "factorisations": ALT_FACTOR, "qr": ALT_QR}

COMMON = [
    "quadratic_form_grad returns 2 A x",
    "least_squares multiplies by np.linalg.inv",
    "weighted_least_squares scales rows by w instead of sqrt(w)",
    "ridge without the penalty",
    "least_norm with the least-squares formula (A^T A)^-1 A^T y",
    "covariance divides by N",
]

DEPENDS = {}

HOSTILE = {"invalid_json": None}
