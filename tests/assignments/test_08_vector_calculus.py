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

from demo import mistakes_08_vector_calculus as catalog

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

RUNS_OF_ALTERNATIVES = {
    "alt_textbook": "textbook",
    "alt_factor": "factorisations",
    "alt_qr": "qr",
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


def _wrong_cells(run):
    """The solution cells a run replaces: the wrong cells of its mistakes (from the catalog)."""
    cells = {}
    for m in MISTAKES:
        if m.run == run:
            cells.update(catalog.MISTAKES[m.name])
    return cells


# Runs: {run name: {solution grade_id: source}}. Cells not listed keep the source's solution.
RUNS = {
    "source": {},
    **{run: catalog.ALTERNATIVES[style] for run, style in RUNS_OF_ALTERNATIVES.items()},
    **{run: _wrong_cells(run) for run in dict.fromkeys(m.run for m in MISTAKES)},
}


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


@pytest.mark.parametrize("run", list(RUNS_OF_ALTERNATIVES))
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


def test_every_mistake_of_the_catalog_is_checked_here():
    """The demo class draws from the catalog: each of its mistakes is proven caught above."""
    assert sorted(m.name for m in MISTAKES) == sorted(catalog.MISTAKES)
    for m in MISTAKES:
        assert list(catalog.MISTAKES[m.name]) == [_owner(m.fails)], m.name
