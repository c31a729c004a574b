"""Assignment 08 (vector calculus at work): the tests grade what they should.

* the source notebook (with solutions) earns full marks;
* three other correct formulations of every function pass every graded cell — solving the normal
  equations, Cholesky, QR, the push-through form of ridge, pinv / lstsq for least norm, numpy
  object arrays of Fractions, loops;
* realistic wrong answers fail the matching hidden test cell with a diagnostic that says what is
  wrong, and cost no points in cells that do not depend on them (partial credit). In particular
  np.linalg.inv passes the accuracy tests on well-conditioned designs and fails only the
  ill-conditioned one.

Each notebook run costs a few seconds, so independent wrong answers share one run; a run is
executed once and cached for all the tests that read it.
"""

from dataclasses import dataclass
from functools import cache

import pytest

from notebook_harness import run_notebook, source_notebook

ASSIGNMENT = "08_vector_calculus"
TOTAL_POINTS = 33

FUNCTIONS = [
    "quadratic_form_grad",
    "least_squares",
    "weighted_least_squares",
    "ridge",
    "least_norm",
    "bayes_posterior",
    "expectation_and_variance",
    "covariance_matrix",
    "running_mean",
]

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

# Runs: {run name: {solution grade_id: source}}. Cells not listed keep the source's solution.
RUNS = {
    "source": {},
    "alt_textbook": ALT_TEXTBOOK,
    "alt_factor": ALT_FACTOR,
    "alt_qr": ALT_QR,
    "wrong_1": {
        "quadratic_form_grad": QFG_2AX,
        "least_squares": LS_XXT,
        "weighted_least_squares": WLS_IGNORES_WEIGHTS,
        "ridge": RIDGE_LAM_ONES,
        "least_norm": LN_LEAST_SQUARES_FORMULA,
        "bayes_posterior": BAYES_NO_FALSE_POSITIVES,
        "expectation_and_variance": VAR_SIGN,
        "covariance_matrix": COV_BIASED,
        "running_mean": RM_DIVIDES_BY_N,
    },
    "wrong_2": {
        "quadratic_form_grad": QFG_ONE_TERM,
        "least_squares": LS_NO_TRANSPOSE,
        "weighted_least_squares": WLS_ROWS_BY_W,
        "ridge": RIDGE_WRONG_SIDE,
        "least_norm": LN_TRANSPOSED_LSTSQ,
        "bayes_posterior": BAYES_SPECIFICITY_AS_FP_RATE,
        "expectation_and_variance": VAR_SECOND_MOMENT,
        "covariance_matrix": COV_ROWS_AS_VARIABLES,
        "running_mean": RM_CUMSUM_ONLY,
    },
    "wrong_3": {
        "least_squares": LS_INV,
        "weighted_least_squares": WLS_ONLY_X_SCALED,
        "ridge": RIDGE_NO_PENALTY,
        "least_norm": LN_BASIC_SOLUTION,
        "bayes_posterior": BAYES_FLOATS,
    },
    "wrong_4": {"least_norm": LN_FORGETS_AT},
}


@dataclass(frozen=True)
class Mistake:
    name: str
    run: str
    fails: str  # the hidden test cell that must fail
    says: tuple  # words its message must contain
    passes: tuple = ()  # cells that must still pass (partial credit)


# fmt: off
MISTAKES = [
    Mistake("quadratic_form_grad returns 2 A x", "wrong_1",
            "test_quadratic_form_grad_hidden", ("you returned 2 A x", "only for a symmetric A")),
    Mistake("quadratic_form_grad keeps only A x", "wrong_2",
            "test_quadratic_form_grad_hidden", ("only one of the two contributions",)),
    Mistake("least_squares with X X^T instead of X^T X", "wrong_1",
            "test_least_squares_hidden", ("raised", "X^T X has shape", "X X^T would be")),
    Mistake("least_squares forgets the transpose in X^T y", "wrong_2",
            "test_least_squares_hidden", ("raised", "X^T y", "np.linalg.lstsq")),
    Mistake("least_squares multiplies by np.linalg.inv", "wrong_3",
            "test_least_squares_conditioning_hidden",
            ("fitted values", "kappa(X)", "times too large", "not backward stable"),
            passes=("test_least_squares_visible", "test_least_squares_hidden")),
    Mistake("weighted_least_squares ignores the weights", "wrong_1",
            "test_weighted_least_squares_hidden", ("the weights w are ignored", "gradient of the objective")),
    Mistake("weighted_least_squares scales rows by w instead of sqrt(w)", "wrong_2",
            "test_weighted_least_squares_hidden", ("scaled the rows by w", "sqrt(w)")),
    Mistake("weighted_least_squares scales X but not y", "wrong_3",
            "test_weighted_least_squares_hidden", ("but not y",)),
    Mistake("ridge adds lam * ones instead of lam * I", "wrong_1",
            "test_ridge_hidden", ("lam * np.ones", "diagonal only")),
    Mistake("ridge with lam on the wrong side (X X^T + lam I)", "wrong_2",
            "test_ridge_hidden", ("raised", "X X^T + lam I would be")),
    Mistake("ridge without the penalty", "wrong_3",
            "test_ridge_hidden", ("without the penalty",)),
    Mistake("least_norm with the least-squares formula (A^T A)^-1 A^T y", "wrong_1",
            "test_least_norm_hidden", ("A^T A", "singular")),
    Mistake("least_norm by lstsq of the transposed system", "wrong_2",
            "test_least_norm_hidden", ("raised", "A A^T is")),
    Mistake("least_norm returns a solution that is not the shortest", "wrong_3",
            "test_least_norm_hidden", ("not the shortest solution", "null-space direction", "row space")),
    Mistake("least_norm forgets the final A^T", "wrong_4",
            "test_least_norm_hidden", ("expected shape", "without multiplying by A^T")),
    Mistake("bayes_posterior forgets the false-positive term", "wrong_1",
            "test_bayes_posterior_hidden", ("returned 1", "false-positive term")),
    Mistake("bayes_posterior uses the specificity as false-positive rate", "wrong_2",
            "test_bayes_posterior_hidden", ("used the specificity as the false-positive rate",)),
    Mistake("bayes_posterior converts to float", "wrong_3",
            "test_bayes_posterior_hidden", ("returned the float", "exact Fraction", "right up to rounding")),
    Mistake("variance as E[X]^2 - E[X^2]", "wrong_1",
            "test_expectation_and_variance_hidden", ("the negative of the right one",)),
    Mistake("variance returns E[X^2]", "wrong_2",
            "test_expectation_and_variance_hidden", ("you returned E[X^2]",)),
    Mistake("covariance divides by N", "wrong_1",
            "test_covariance_matrix_hidden", ("you divided by N", "N - 1")),
    Mistake("covariance treats rows as variables", "wrong_2",
            "test_covariance_matrix_hidden", ("expected shape (3, 3)", "rowvar=False")),
    Mistake("running mean divides by N", "wrong_1",
            "test_running_mean_hidden", ("divided every cumulative sum by N",)),
    Mistake("running mean returns the cumulative sums", "wrong_2",
            "test_running_mean_hidden", ("you returned the cumulative sums",)),
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
    for f in FUNCTIONS:
        ids = [gid for gid in res if _owner(gid) == f]
        assert f"test_{f}_visible" in ids and any(i.endswith("_hidden") for i in ids), f


@pytest.mark.parametrize("run", ["alt_textbook", "alt_factor", "alt_qr"])
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


@pytest.mark.parametrize("run", [r for r in RUNS if r.startswith("wrong")])
def test_wrong_answers_cost_only_their_own_cells(run):
    """Partial credit: a wrong function fails only cells testing that function, and every
    replaced function loses at least one hidden cell."""
    failed = _failed(results(run))
    owners = {_owner(gid) for gid in failed}
    assert owners <= set(RUNS[run]), (owners - set(RUNS[run]), failed)
    for f in RUNS[run]:
        assert any(_owner(gid) == f and gid.endswith("_hidden") for gid in failed), (f, failed)
