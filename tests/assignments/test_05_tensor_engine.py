"""Assignment 05 (tensor engine): the hidden tests catch common mistakes and accept correct variants.

* the source notebook (with solutions) earns full marks, and the untouched release earns zero;
* realistic wrong implementations fail the matching hidden test cell, with a diagnostic that
  says what is wrong, and cost no points in other exercises (partial credit);
* other correct engines (Kahn's algorithm, an explicit-stack depth-first search with iterators,
  dictionaries keyed by id, np.bincount or slicing instead of np.add.at and np.split, an
  explicit inverse permutation, a context-manager class) pass every cell;
* the derivation is a markdown answer cell graded by hand, with a model answer and a rubric.

Each notebook run costs a few seconds, so wrong (or alternative) implementations of different
solution cells are batched into one run, and every run is cached for the whole module. The
exercises are designed to be independent (the hidden tests bring their own topological order and
backward pass), so a wrong cell may make only its own hidden tests fail.
"""

import re
from dataclasses import dataclass
from functools import cache

import nbformat
import pytest

from demo import mistakes_05_tensor_engine as catalog

from notebook_harness import (
    CatalogMistake,
    notebook_cells,
    run_notebook,
    source_notebook,
    strip_hidden,
    stub_source,
)

ASSIGNMENT = "05_tensor_engine"
TOTAL_POINTS = 30  # autograded
HAND_GRADED = {"derivation_getitem": 3}  # a markdown answer cell, graded by hand

# solution cell -> the hidden test cells that grade it
HIDDEN = {
    "topological_order": {"test_topological_order_hidden"},
    "backward": {"test_backward_hidden", "test_backward_repeated_hidden"},
    "zero_grad": {"test_zero_grad_hidden"},
    "getitem": {"test_getitem_hidden"},
    "concatenate": {"test_concatenate_hidden"},
    "shapes": {"test_shapes_hidden"},
    "max": {"test_max_hidden"},
    "no_grad": {"test_no_grad_hidden"},
}


@dataclass(frozen=True)
class Mistake(CatalogMistake):
    CATALOG = catalog

    name: str  # its wrong solution cell is catalog.MISTAKES[name]
    fails: str  # the hidden test cell that must fail
    says: tuple  # words the failure message must contain
    batch: int


MISTAKES = [
    # Exercise 1: topological_order
    Mistake(
        "topological order by breadth-first search",
        "test_topological_order_hidden",
        ("before its parent", "breadth-first"),
        1,
    ),
    Mistake(
        "recursive depth-first topological order",
        "test_topological_order_hidden",
        ("RecursionError", "5000 nodes", "explicit stack"),
        2,
    ),
    Mistake(
        "topological order that walks every path (no visited set)",
        "test_topological_order_hidden",
        ("did not finish within", "every path", "visited"),
        3,
    ),
    Mistake(
        "topological order: depth-first, appending a node when first reached",
        "test_topological_order_hidden",
        ("before its parent", "first reached"),
        4,
    ),
    # Exercise 2: backward
    Mistake(
        "backward overwrites the cotangents of reused nodes",
        "test_backward_hidden",
        ("x.grad = 2x", "exactly half", "overwritten instead of added"),
        1,
    ),
    Mistake(
        "backward sends a contribution along every path (iteratively)",
        "test_backward_hidden",
        ("random graph", "every path"),
        2,
    ),
    Mistake(
        "the lecture's recursive backward (one VJP call per path)",
        "test_backward_hidden",
        ("was stopped", "every path"),
        3,
    ),
    Mistake(
        "backward with a recursive micrograd-style build_topo",
        "test_backward_hidden",
        ("RecursionError", "micrograd"),
        4,
    ),
    Mistake(
        "backward without a default cotangent",
        "test_backward_hidden",
        ("x.backward()", "raised TypeError", "cotangent 1"),
        5,
    ),
    Mistake(
        "backward silently uses ones for a non-scalar output",
        "test_backward_hidden",
        ("returned normally", "shape (3,)", "y.sum()"),
        6,
    ),
    Mistake(
        "backward raises TypeError for a non-scalar output",
        "test_backward_hidden",
        ("raised TypeError", "ValueError"),
        7,
    ),
    Mistake(
        "backward resets the gradients first (Lecture 02's semantics)",
        "test_backward_repeated_hidden",
        ("expected 2, got 1", "must not reset"),
        8,
    ),
    Mistake(
        "backward propagates the accumulated node.grad",
        "test_backward_repeated_hidden",
        ("expected 12", "got 24", "THIS pass"),
        9,
    ),
    # Exercise 3: zero_grad
    Mistake(
        "zero_grad does nothing",
        "test_zero_grad_hidden",
        ("expected an array of zeros", "EVERY node"),
        1,
    ),
    Mistake(
        "zero_grad resets only the root",
        "test_zero_grad_hidden",
        ("the leaf of shape", "not only root"),
        2,
    ),
    # Exercise 4: indexing
    Mistake(
        "getitem_vjp with dldx[index] += dldf (repeated indices lost)",
        "test_getitem_hidden",
        ("x[[1, 3, 1, 1]]", "SUM", "np.add.at"),
        1,
    ),
    Mistake(
        "getitem_vjp returns the bare array",
        "test_getitem_hidden",
        ("returned a ndarray", "(dldx,)"),
        2,
    ),
    Mistake(
        "__getitem__ passes the index as a parent",
        "test_getitem_hidden",
        ("raised TypeError", "keyword argument"),
        3,
    ),
    # Exercise 5: concatenate
    Mistake(
        "concatenate_vjp splits dldf into equal parts",
        "test_concatenate_hidden",
        ("sizes 1, 3, 2", "np.cumsum"),
        1,
    ),
    Mistake(
        "concatenate_vjp cuts at the sizes instead of the offsets",
        "test_concatenate_hidden",
        ("the gradient for b", "expected shape (3, 4)", "offsets"),
        2,
    ),
    # Exercise 6: reshape and transpose
    Mistake(
        "reshape_vjp returns dldf without reshaping it back",
        "test_shapes_hidden",
        ("reshape_vjp", "expected shape (3, 4)", "np.reshape(dldf, np.shape(x))"),
        1,
    ),
    Mistake(
        "transpose_vjp applies the permutation again instead of its inverse",
        "test_shapes_hidden",
        ("(1, 2, 0)", "inverse permutation", "np.argsort(axes)"),
        2,
    ),
    Mistake(
        "transpose_vjp: argsort of negative axes",
        "test_shapes_hidden",
        ("(-1, 0, 1)", "a % ndim"),
        3,
    ),
    # Exercise 7: max
    Mistake(
        "max_vjp gives every tied entry the whole cotangent",
        "test_max_hidden",
        ("tied maxima", "WHOLE cotangent", "dldf / k"),
        1,
    ),
    Mistake(
        "max_vjp sends the cotangent to the first maximum only (argmax)",
        "test_max_hidden",
        ("only the first tied entry", "dldf / k"),
        2,
    ),
    Mistake(
        "max_vjp does not re-insert the reduced axes",
        "test_max_hidden",
        ("max_vjp(g, x, axis=",),
        3,
    ),
    Mistake(
        "Tensor.max ignores keepdims",
        "test_max_hidden",
        ("x.max(axis=-1, keepdims=True)", "keyword argument"),
        4,
    ),
    # Exercise 8: no_grad
    Mistake(
        "no_grad restores True instead of the previous state",
        "test_no_grad_hidden",
        ("nested", "BEFORE the block"),
        1,
    ),
    Mistake(
        "no_grad without try/finally",
        "test_no_grad_hidden",
        ("raises ValueError", "finally"),
        2,
    ),
    Mistake(
        "no_grad swallows the exception",
        "test_no_grad_hidden",
        ("swallowed", "propagate"),
        3,
    ),
    Mistake(
        "no_grad never switches recording off",
        "test_no_grad_hidden",
        ("Tensor.grad_enabled is True, expected False",),
        4,
    ),
]

BATCHES = sorted({m.batch for m in MISTAKES})


def _no_two_mistakes_share_a_cell_in_a_batch():
    seen = set()
    for m in MISTAKES:
        assert (m.batch, m.cell) not in seen, (m.batch, m.cell)
        seen.add((m.batch, m.cell))


_no_two_mistakes_share_a_cell_in_a_batch()

ALTERNATIVES = catalog.ALTERNATIVES

# ---------------------------------------------------------------- running the notebook


def cells(kind):
    return notebook_cells(ASSIGNMENT, kind)


def solution_cells():
    """The code solution cells (the derivation is a markdown solution cell, graded by hand)."""
    return {gid: s for gid, s in cells("solution").items() if gid not in HAND_GRADED}


PARTIAL_DONE = {"backward", "zero_grad", "getitem", "max"}


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


def test_every_solution_cell_is_graded_by_a_hidden_test():
    assert set(solution_cells()) == set(HIDDEN)
    hidden = {gid for gid in cells("grade") if gid.endswith("_hidden")}
    assert hidden == set().union(*HIDDEN.values())


def test_points_add_up_to_the_total_in_the_header():
    nb = nbformat.read(str(source_notebook(ASSIGNMENT)), as_version=4)
    points = [
        c.metadata["nbgrader"]["points"]
        for c in nb.cells
        if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "code"
    ]
    assert sum(points) == TOTAL_POINTS
    assert f"**{TOTAL_POINTS + sum(HAND_GRADED.values())}**" in nb.cells[0].source
    for gid, total in HAND_GRADED.items():
        assert re.search(rf"graded by hand \| {total} \|", nb.cells[0].source), gid


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
        if gid.endswith(
            "_hidden"
        ):  # a visible line calls the student's code before the hidden block
            visible = [
                ln for ln in strip_hidden(source).splitlines() if ln and not ln.startswith("#")
            ]
            assert visible, f"{gid} keeps only comments in the release"


def test_exercises_are_independent_of_unfinished_ones():
    """Only Exercises 2, 3, 4 and 7 done: their hidden tests pass (they bring their own helpers)."""
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
    """Partial credit: a wrong cell fails only the hidden tests of its own exercise; the other
    backward cell may pass (e.g. single-call tests of a backward that resets the gradients)."""
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
