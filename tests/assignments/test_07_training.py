"""Assignment 07 (training): the hidden tests catch common mistakes and accept correct variants.

* the source notebook (with solutions) earns full marks, and the untouched release earns zero;
* realistic wrong implementations fail the matching hidden test cell, with a diagnostic that
  says what is wrong, and cost no points in other exercises (partial credit);
* other correct formulations (the cross-entropy form of the loss, the residual form of the
  gradient, loops, `loss.zero_grad()`, in-place updates, a numpy array of losses) pass every cell.

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
TOTAL_POINTS = 20

# solution cell -> the hidden test cells that grade it
HIDDEN = {
    "nll_logistic": {"test_nll_logistic_hidden"},
    "nll_gradient": {"test_nll_gradient_hidden"},
    "accuracy": {"test_accuracy_hidden"},
    "mlp_forward": {"test_mlp_forward_hidden"},
    "train": {"test_train_hidden", "test_train_fits_hidden"},
}


@dataclass(frozen=True)
class Mistake(CatalogMistake):
    CATALOG = catalog

    name: str  # its wrong solution cell is catalog.MISTAKES[name]
    fails: str  # the hidden test cell that must fail
    says: tuple  # words the failure message must contain
    batch: int


MISTAKES = [
    Mistake("NLL without the minus sign", "test_nll_logistic_hidden", ("minus sign in front",), 1),
    Mistake(
        "labels used as signs (y instead of 2y - 1)",
        "test_nll_logistic_hidden",
        ("in place of 2 y_i - 1", "sign s_i = 2 y_i - 1"),
        2,
    ),
    Mistake(
        "unstable log(sigmoid(z))",
        "test_nll_logistic_hidden",
        ("margins (-1000", "inf", "z.log_sigmoid()"),
        3,
    ),
    Mistake(
        "mean instead of sum", "test_nll_logistic_hidden", ("mean over the examples", "sum"), 4
    ),
    Mistake(
        "loss computed with numpy and wrapped in a leaf",
        "test_nll_logistic_hidden",
        ("leaf Tensor", "cannot reach"),
        5,
    ),
    Mistake(
        "gradient missing the transpose",
        "test_nll_gradient_hidden",
        ("raised ValueError", "-Phi.T @"),
        1,
    ),
    Mistake(
        "gradient with y instead of 2y - 1", "test_nll_gradient_hidden", ("y_i in place of s_i",), 2
    ),
    Mistake(
        "gradient with sigma(z) instead of sigma(-z)",
        "test_nll_gradient_hidden",
        ("sigma(z) in place of sigma(-z)",),
        3,
    ),
    Mistake("gradient with the wrong sign", "test_nll_gradient_hidden", ("sign is flipped",), 4),
    Mistake(
        "accuracy thresholds the logits at 0.5",
        "test_accuracy_hidden",
        ("threshold 0.5", "logits are log-odds"),
        1,
    ),
    Mistake(
        "accuracy returns the number of correct predictions",
        "test_accuracy_hidden",
        ("NUMBER of correct", "fraction"),
        2,
    ),
    Mistake(
        "accuracy compares np.sign with 0/1 labels",
        "test_accuracy_hidden",
        ("np.sign(logits)", "2 y - 1"),
        3,
    ),
    Mistake("network without the ReLU", "test_mlp_forward_hidden", ("WITHOUT the ReLU",), 1),
    Mistake("ReLU on the output too", "test_mlp_forward_hidden", ("applied to the output",), 2),
    Mistake(
        "network returns probabilities",
        "test_mlp_forward_hidden",
        ("probabilities", "without a sigmoid"),
        3,
    ),
    Mistake(
        "network computed with numpy and wrapped in a leaf",
        "test_mlp_forward_hidden",
        ("leaf Tensor",),
        4,
    ),
    Mistake(
        "gradient ascent", "test_train_hidden", ("gradient ASCENT", "p.value - lr * p.grad"), 1
    ),
    Mistake(
        "no zero_grad (gradients accumulate)",
        "test_train_hidden",
        ("WITHOUT resetting", "zero_grad()"),
        2,
    ),
    Mistake(
        "update before backward",
        "test_train_hidden",
        ("all your losses are equal", "after loss.backward()"),
        3,
    ),
    Mistake(
        "update rebinds a local name (p = p - lr * p.grad)",
        "test_train_hidden",
        ("all your losses are equal", "only rebinds a local name"),
        4,
    ),
    Mistake(
        "losses recorded after the update",
        "test_train_hidden",
        ("shifted by one step", "BEFORE update t"),
        5,
    ),
    Mistake(
        "losses kept as Tensors",
        "test_train_hidden",
        ("float(loss.value)", "a Tensor is not a float"),
        6,
    ),
]
BATCHES = sorted({m.batch for m in MISTAKES})

ALTERNATIVES = catalog.ALTERNATIVES

# ---------------------------------------------------------------- running the notebook


def cells(kind):
    return notebook_cells(ASSIGNMENT, kind)


def solution_cells():
    return cells("solution")


PARTIAL_DONE = {"nll_gradient", "train"}


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


def test_source_earns_full_marks():
    results = run("source")
    assert not failures(results), failures(results)
    assert sum(r.points for r in results.values()) == TOTAL_POINTS


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
    """Only nll_gradient and train done: their hidden tests pass (they bring their own helpers)."""
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
