"""Assignment 04 (VJPs of array operations): the tests grade what they should.

* the source notebook (with solutions) earns full marks on the autograded cells;
* two other correct formulations of every function pass every graded cell;
* realistic wrong answers fail the matching hidden test cell, with a diagnostic that says what
  is wrong (and a hint), and cost no points in cells that do not depend on them (partial credit).

Each notebook run costs a few seconds, so independent wrong answers share one run; a run is
executed once and cached for all the tests that read it.
"""

from dataclasses import dataclass
from functools import cache

import pytest

from demo import mistakes_04_broadcasting_matmul as catalog

from notebook_harness import run_notebook, source_notebook

ASSIGNMENT = "04_broadcasting_matmul"
TOTAL_POINTS = 23  # autograded; the derivation (3 points) is graded by hand

FUNCTIONS = [
    "transpose_vjp",
    "reshape_vjp",
    "where_vjp",
    "outer_vjp",
    "bilinear_vjp",
    "batched_matmul_vjp",
]

RUNS_OF_ALTERNATIVES = {"alt_explicit": "explicit", "alt_einsum": "einsum"}


@dataclass(frozen=True)
class Mistake:
    name: str
    run: str
    fails: str  # the hidden test cell that must fail
    says: tuple  # words its message must contain
    passes: tuple = ()  # cells that must still pass (partial credit)


# fmt: off
MISTAKES = [
    Mistake("transpose_vjp applies the same permutation", "wrong_1",
            "test_transpose_vjp_hidden", ("transpose_vjp is wrong", "inverse permutation", "np.argsort")),
    Mistake("transpose_vjp returns dldf.T whatever the axes", "wrong_2",
            "test_transpose_vjp_hidden", ("it must have x's shape", "transposed or reshaped")),
    Mistake("reshape_vjp transposes instead of reshaping", "wrong_1",
            "test_reshape_vjp_hidden", ("reshape_vjp is wrong", "keeps the row-major order")),
    Mistake("reshape_vjp reshapes to the output shape", "wrong_2",
            "test_reshape_vjp_hidden", ("it must have x's shape",)),
    Mistake("where_vjp without unbroadcast", "wrong_1",
            "test_where_vjp_hidden", ("where_vjp is wrong", "Did you unbroadcast?")),
    Mistake("where_vjp swaps the masks", "wrong_2",
            "test_where_vjp_hidden", ("wrong values", "the masks are swapped")),
    Mistake("where_vjp gives b the whole cotangent", "wrong_3",
            "test_where_vjp_hidden", ("the gradient for b has wrong values", "b received the whole cotangent")),
    Mistake("outer_vjp misses the transpose for b", "wrong_1",
            "test_outer_vjp_hidden", ("the gradient for b has wrong values", "missing transpose")),
    Mistake("bilinear_vjp scales columns instead of rows", "wrong_1",
            "test_bilinear_vjp_hidden", ("the gradient for X has wrong values", "dldf[:, None]")),
    Mistake("bilinear_vjp ignores dldf in dA", "wrong_2",
            "test_bilinear_vjp_hidden", ("the gradient for A has wrong values", "not X^T Y")),
    Mistake("batched_matmul_vjp uses .T on stacks", "wrong_1",
            "test_batched_matmul_vjp_stacks_hidden", ("wrong values", "np.swapaxes(M, -1, -2)")),
    Mistake("batched_matmul_vjp does not sum over broadcast batch axes", "wrong_2",
            "test_batched_matmul_vjp_broadcast_hidden", ("not summed away", "Did you unbroadcast?"),
            passes=("test_batched_matmul_vjp_stacks_hidden",)),
    Mistake("batched_matmul_vjp misses a transpose", "wrong_3",
            "test_batched_matmul_vjp_stacks_hidden", ("the gradient for A has wrong values",
                                                      "a transpose of B is missing")),
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
    # every function has a visible and at least one hidden graded cell
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
