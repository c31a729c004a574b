"""Assignment 08 (new closed forms, Newton's method from Hessian-vector products): the tests
grade what they should.

* the source notebook (with solutions) earns full marks on the autograded cells;
* three other correct formulations of every function pass every graded cell — weighted ridge by
  stacked least squares, Cholesky or QR; the weighted least norm by its KKT system, a Cholesky
  change of variables or lstsq; Hessian-vector products with einsum, loops or a stable
  sigmoid product; Newton steps by conjugate gradients, Cholesky or lstsq;
* realistic wrong answers fail the matching hidden test cell with a diagnostic that says what is
  wrong, and cost no points in cells that do not depend on them (partial credit). In particular
  np.linalg.inv passes the accuracy tests on well-conditioned designs and fails only the nearly
  singular one.

Each notebook run costs a few seconds, so independent wrong answers share one run; a run is
executed once and cached for all the tests that read it.
"""

from dataclasses import dataclass
from functools import cache

import pytest

from demo import mistakes_08_vector_calculus as catalog

from notebook_harness import run_notebook, source_notebook

ASSIGNMENT = "08_vector_calculus"
TOTAL_POINTS = 21  # autograded; the derivation (3 points) is graded by hand

FUNCTIONS = ["weighted_ridge", "weighted_least_norm", "logistic_hvp", "newton_step"]

RUNS_OF_ALTERNATIVES = {
    "alt_stacked": "stacked",
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
    Mistake("weighted_ridge ignores the weights", "wrong_1",
            "test_weighted_ridge_hidden", ("the weights w are ignored", "gradient of the objective")),
    Mistake("weighted_ridge without the penalty", "wrong_2",
            "test_weighted_ridge_hidden", ("without the penalty",)),
    Mistake("weighted_ridge scales rows by w instead of sqrt(w)", "wrong_3",
            "test_weighted_ridge_hidden", ("rows scaled by w", "sqrt(w)")),
    Mistake("weighted_ridge adds lam * ones instead of lam * I", "wrong_4",
            "test_weighted_ridge_hidden", ("lam * np.ones", "diagonal only")),
    Mistake("weighted_ridge stacks lam I instead of sqrt(lam) I", "wrong_5",
            "test_weighted_ridge_hidden", ("lam^2 ||theta||^2", "sqrt(lam) I")),
    Mistake("weighted_ridge multiplies by np.linalg.inv", "wrong_6",
            "test_weighted_ridge_conditioning_hidden",
            ("does not vanish", "times too large", "not backward stable"),
            passes=("test_weighted_ridge_visible", "test_weighted_ridge_hidden")),
    Mistake("weighted_least_norm ignores Q", "wrong_1",
            "test_weighted_least_norm_hidden", ("not the minimiser of x^T Q x", "feasible direction", "ignores Q")),
    Mistake("weighted_least_norm uses Q instead of its inverse", "wrong_2",
            "test_weighted_least_norm_hidden", ("not the minimiser", "where Q^-1 belongs")),
    Mistake("weighted_least_norm solves with A A^T", "wrong_3",
            "test_weighted_least_norm_hidden", ("constraint A x = y does not hold", "(A Q^-1 A^T) c = y")),
    Mistake("weighted_least_norm returns the multiplier", "wrong_4",
            "test_weighted_least_norm_hidden", ("expected shape", "the multiplier")),
    Mistake("logistic_hvp uses sigmoid instead of its derivative", "wrong_1",
            "test_logistic_hvp_hidden", ("logistic_hvp", "sigmoid(z) (1 - sigmoid(z))")),
    Mistake("logistic_hvp forgets the penalty", "wrong_2",
            "test_logistic_hvp_hidden", ("contributes lam v",)),
    Mistake("logistic_hvp returns the Hessian matrix", "wrong_3",
            "test_logistic_hvp_hidden", ("expected shape", "the Hessian H itself is (n, n)")),
    Mistake("logistic_hvp leaves out the weights s(1 - s)", "wrong_4",
            "test_logistic_hvp_hidden", ("you left out the weights d",)),
    Mistake("newton_step moves uphill", "wrong_1",
            "test_newton_step_hidden", ("you moved uphill",)),
    Mistake("newton_step takes a gradient step", "wrong_2",
            "test_newton_step_hidden", ("a gradient-descent step",)),
    Mistake("newton_step forms the Hessian without logistic_hvp", "wrong_3",
            "test_newton_step_hidden", ("called logistic_hvp 0 times", "only through logistic_hvp")),
    Mistake("newton_step multiplies by H instead of solving", "wrong_4",
            "test_newton_step_hidden", ("instead of solving with it",)),
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
