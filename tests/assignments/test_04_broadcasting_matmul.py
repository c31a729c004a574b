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

from demo import mistakes_04_broadcasting_matmul as catalog

from notebook_harness import run_notebook, source_notebook

ASSIGNMENT = "04_broadcasting_matmul"
TOTAL_POINTS = 37

ALT_CHAINED = catalog.ALTERNATIVES["chained"]
ALT_SELF_CONTAINED = catalog.ALTERNATIVES["self_contained"]
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


def _wrong_cells(run):
    """The solution cells a run replaces: the wrong cells of its mistakes (from the catalog).

    The unbroadcast mistakes run with self-contained correct answers everywhere else, so that
    they fail only unbroadcast's own cells (and the infinite loop costs one time limit per cell).
    """
    cells = dict(ALT_SELF_CONTAINED) if run.startswith("unbroadcast") else {}
    for m in MISTAKES:
        if m.run == run:
            cells.update(catalog.MISTAKES[m.name])
    return cells


# Runs: {run name: {solution grade_id: source}}. Cells not listed keep the source's solution.
RUNS = {
    "source": {},
    "alt_chained": ALT_CHAINED,
    "alt_self_contained": ALT_SELF_CONTAINED,
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


def test_every_mistake_of_the_catalog_is_checked_here():
    """The demo class draws from the catalog: each of its mistakes is proven caught above."""
    assert sorted(m.name for m in MISTAKES) == sorted(catalog.MISTAKES)
    for m in MISTAKES:
        assert len(catalog.MISTAKES[m.name]) == 1, m.name
