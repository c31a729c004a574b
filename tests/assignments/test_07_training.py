"""Assignment 07 (training): the hidden tests catch common mistakes and accept correct variants.

* the source notebook (with solutions) earns full marks on the autograded cells, and the untouched
  release earns zero; the derivation is a manually graded markdown cell;
* realistic wrong implementations fail the matching hidden test cell, with a diagnostic that
  says what is wrong, and cost no points in other exercises (partial credit);
* other correct formulations (a one-hot matrix or indexing, a constant or a differentiated max
  shift, loops, `loss.zero_grad()`, in-place updates, a numpy array of losses) pass every cell.

Each notebook run costs a few seconds, so wrong (or alternative) implementations of different
solution cells are batched into one run, and every run is cached for the whole module. The
exercises are independent (the tests of `train` bring their own losses and accuracy), so a wrong
cell may make only its own hidden tests fail.
"""

from dataclasses import dataclass
from functools import cache

import nbformat
import pytest

from demo import mistakes_07_training as catalog

from notebook_harness import (
    CatalogMistake,
    notebook_cells,
    run_notebook,
    source_notebook,
    strip_hidden,
    stub_source,
)

ASSIGNMENT = "07_training"
TOTAL_POINTS = 18  # 15 autograded + 3 graded by hand (the derivation cell)
MANUAL_POINTS = 3

# solution cell -> the hidden test cells that grade it
HIDDEN = {
    "softmax_cross_entropy": {"test_softmax_cross_entropy_hidden"},
    "softmax_ce_grad": {"test_softmax_ce_grad_hidden"},
    "accuracy": {"test_accuracy_hidden"},
    "train": {"test_train_hidden", "test_train_fits_hidden"},
}
DERIVATIONS = {"derivation_softmax_ce"}


@dataclass(frozen=True)
class Mistake(CatalogMistake):
    CATALOG = catalog

    name: str  # its wrong solution cell is catalog.MISTAKES[name]
    fails: str  # the hidden test cell that must fail
    says: tuple  # words the failure message must contain
    batch: int


CE = "test_softmax_cross_entropy_hidden"
GRAD = "test_softmax_ce_grad_hidden"
ACC = "test_accuracy_hidden"
TRAIN = "test_train_hidden"

MISTAKES = [
    Mistake("cross-entropy without the minus sign", CE, ("minus sign in front",), 1),
    Mistake("cross-entropy summed, not averaged", CE, ("n times", "MEAN"), 2),
    Mistake(
        "cross-entropy without the max shift (overflows)",
        CE,
        ("e^1000 overflows", "its own max"),
        3,
    ),
    Mistake(
        "cross-entropy shifted by the global max",
        CE,
        ("not by the max of the whole array", "own max"),
        4,
    ),
    Mistake(
        "cross-entropy as log(softmax) (underflows)",
        CE,
        ("2000 below", "never as log(softmax)"),
        5,
    ),
    Mistake("softmax over the wrong axis", CE, ("wrong axis", "axis=1"), 6),
    Mistake(
        "cross-entropy computed with numpy and wrapped in a leaf",
        CE,
        ("leaf Tensor", "cannot reach"),
        7,
    ),
    Mistake("labels not checked", CE, ("must raise ValueError",), 8),
    Mistake("gradient not divided by n", GRAD, ("n times", "divide by n"), 1),
    Mistake("gradient Y - P (sign flipped)", GRAD, ("sign is flipped",), 2),
    Mistake("gradient without the max shift (nan)", GRAD, ("inf or nan", "shift each row"), 3),
    Mistake("gradient changes the input in place", GRAD, ("modify its input in place",), 4),
    Mistake(
        "accuracy returns the number of correct predictions",
        ACC,
        ("NUMBER of correct", "fraction"),
        1,
    ),
    Mistake(
        "accuracy counts a tie as correct", ACC, ("tie counts as correct", "smallest index"), 2
    ),
    Mistake("accuracy with the argmax over the examples", ACC, ("wrong axis", "ROW"), 3),
    Mistake("constant learning rate (no schedule)", TRAIN, ("CONSTANT learning rate",), 1),
    Mistake("schedule one step ahead (t + 1)", TRAIN, ("one step ahead",), 2),
    Mistake("schedule over steps - 1", TRAIN, ("steps - 1",), 3),
    Mistake("no zero_grad (gradients accumulate)", TRAIN, ("WITHOUT resetting", "zero_grad()"), 4),
    Mistake("gradient ascent", TRAIN, ("gradient ASCENT", "p.value - lr_t * p.grad"), 5),
    Mistake("losses kept as Tensors", TRAIN, ("float(loss.value)", "a Tensor is not a float"), 6),
]
BATCHES = sorted({m.batch for m in MISTAKES})

ALTERNATIVES = catalog.ALTERNATIVES

# ---------------------------------------------------------------- running the notebook


def cells(kind):
    return notebook_cells(ASSIGNMENT, kind)


def solution_cells():
    """The code solution cells (the derivation is a markdown solution cell, graded by hand)."""
    return {gid: s for gid, s in cells("solution").items() if gid not in DERIVATIONS}


PARTIAL_DONE = {"softmax_ce_grad", "train"}


@cache
def run(key):
    """One notebook run, cached: "source", "stubs", "release", "partial", "batchN", "alt:<name>"."""
    if key == "source":
        replacements = {}
    elif key == "stubs":  # as autograded: the hidden tests are back in place
        replacements = {gid: stub_source(s) for gid, s in solution_cells().items()}
    elif key == "release":  # as the students get it: stubs, and no hidden tests
        replacements = {gid: stub_source(s) for gid, s in solution_cells().items()}
        replacements.update({gid: strip_hidden(s) for gid, s in cells("grade").items()})
    elif key == "partial":  # only some exercises done
        replacements = {
            gid: stub_source(s) for gid, s in solution_cells().items() if gid not in PARTIAL_DONE
        }
    elif key.startswith("alt:"):
        replacements = ALTERNATIVES[key[4:]]
    else:
        replacements = {m.cell: m.source for m in MISTAKES if f"batch{m.batch}" == key}
    return run_notebook(source_notebook(ASSIGNMENT), replacements)


def failures(results):
    return {gid: r.error for gid, r in results.items() if not r.passed}


# ---------------------------------------------------------------- tests


def test_batches_replace_each_solution_cell_at_most_once():
    for batch in BATCHES:
        replaced = [m.cell for m in MISTAKES if m.batch == batch]
        assert len(replaced) == len(set(replaced)), (batch, replaced)


def test_every_solution_cell_is_graded_by_a_hidden_test():
    assert set(solution_cells()) == set(HIDDEN)
    assert set(cells("solution")) - set(solution_cells()) == DERIVATIONS
    hidden = {gid for gid in cells("grade") if gid.endswith("_hidden")}
    assert hidden == set().union(*HIDDEN.values())


def test_points_add_up_to_the_total_in_the_header():
    nb = nbformat.read(str(source_notebook(ASSIGNMENT)), as_version=4)
    points = [
        c.metadata["nbgrader"]["points"]
        for c in nb.cells
        if c.metadata.get("nbgrader", {}).get("grade")
    ]
    assert sum(points) == TOTAL_POINTS
    assert f"**{TOTAL_POINTS}**" in nb.cells[0].source
    manual = [
        c.metadata["nbgrader"]
        for c in nb.cells
        if c.cell_type == "markdown" and c.metadata.get("nbgrader", {}).get("grade")
    ]
    assert {m["grade_id"] for m in manual} == DERIVATIONS
    assert sum(m["points"] for m in manual) == MANUAL_POINTS
    assert all(m["solution"] and not m["locked"] for m in manual)


def test_source_earns_full_marks():
    """Full marks on every autograded cell (the derivation is graded by hand)."""
    results = run("source")
    assert not failures(results), failures(results)
    assert sum(r.points for r in results.values()) == TOTAL_POINTS - MANUAL_POINTS


@pytest.mark.parametrize("key", ["stubs", "release"])
def test_untouched_release_earns_zero(key):
    """No test cell passes on the stubs: neither when autograded nor in the student's copy."""
    results = run(key)
    passing = [gid for gid, r in results.items() if r.passed]
    assert not passing, f"graded cells pass with every solution stubbed out: {passing}"


def test_release_has_no_hidden_tests_left():
    for gid, source in cells("grade").items():
        assert "HIDDEN" not in strip_hidden(source), gid
        # a visible line calls the student's code before the hidden block
        if gid.endswith("_hidden"):
            visible = [
                ln for ln in strip_hidden(source).splitlines() if ln and not ln.startswith("#")
            ]
            assert visible, f"{gid} keeps only comments in the release"


def test_exercises_are_independent_of_unfinished_ones():
    """Only softmax_ce_grad and train done: their hidden tests pass (they bring their own helpers)."""
    results = run("partial")
    done = set().union(*(HIDDEN[c] for c in PARTIAL_DONE))
    for gid in done:
        assert results[gid].passed, (gid, results[gid].error)
    for gid in set().union(*HIDDEN.values()) - done:
        assert not results[gid].passed, gid


@pytest.mark.parametrize("mistake", MISTAKES, ids=lambda m: m.name.replace(" ", "_"))
def test_mistake_is_caught_with_a_diagnostic(mistake):
    assert mistake.fails in HIDDEN[mistake.cell]
    result = run(f"batch{mistake.batch}")[mistake.fails]
    assert not result.passed, f"the hidden test accepted: {mistake.name}"
    for word in mistake.says:
        assert word in result.error, f"{word!r} not in the message:\n{result.error}"


@pytest.mark.parametrize("batch", BATCHES)
def test_a_mistake_costs_points_only_in_its_own_exercise(batch):
    """Partial credit: a wrong cell fails only the hidden tests of its own exercise."""
    mistakes = [m for m in MISTAKES if m.batch == batch]
    allowed = set().union(*(HIDDEN[m.cell] for m in mistakes))
    failed_hidden = {gid for gid in failures(run(f"batch{batch}")) if gid.endswith("_hidden")}
    assert failed_hidden <= allowed, failed_hidden - allowed
    assert {m.fails for m in mistakes} <= failed_hidden


@pytest.mark.parametrize("alternative", sorted(ALTERNATIVES))
def test_alternative_correct_answers_pass(alternative):
    results = run(f"alt:{alternative}")
    assert not failures(results), failures(results)


def test_every_mistake_of_the_catalog_is_checked_here():
    """The demo class draws from the catalog: each of its mistakes is proven caught above."""
    assert sorted(m.name for m in MISTAKES) == sorted(catalog.MISTAKES)
    for name, cells in ALTERNATIVES.items():
        assert set(cells) == set(HIDDEN), name
