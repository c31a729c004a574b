"""Assignment 05 (tensor engine): the hidden tests catch common mistakes and accept correct variants.

* the source notebook (with solutions) earns full marks, and the untouched release earns zero;
* realistic wrong implementations fail the matching hidden test cell, with a diagnostic that
  says what is wrong, and cost no points in other exercises (partial credit);
* other correct engines (composite operators, Kahn's algorithm, an explicit-stack depth-first
  search with iterators, dictionaries keyed by id, lists instead of tuples) pass every cell.

Each notebook run costs a few seconds, so wrong (or alternative) implementations of different
solution cells are batched into one run, and every run is cached for the whole module. The
exercises are designed to be independent (the hidden tests bring their own topological order and
backward pass), so a wrong cell may make only its own hidden tests fail, plus the integration
test of Exercise 6, which checks the whole engine together.
"""

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
TOTAL_POINTS = 27
INTEGRATION = "test_engine_vjps_hidden"

# solution cell -> the hidden test cells that grade it
HIDDEN = {
    "arithmetic_operators": {"test_arithmetic_operators_hidden"},
    "array_methods": {"test_array_methods_hidden"},
    "topological_order": {"test_topological_order_hidden"},
    "backward": {"test_backward_hidden", "test_backward_repeated_hidden"},
    "zero_grad": {"test_zero_grad_hidden"},
    "engine_vjps": {"test_engine_vjps_hidden"},
}


@dataclass(frozen=True)
class Mistake(CatalogMistake):
    CATALOG = catalog

    name: str  # its wrong solution cell is catalog.MISTAKES[name]
    fails: str  # the hidden test cell that must fail
    says: tuple  # words the failure message must contain
    batch: int


MISTAKES = [
    Mistake(
        "__rsub__ computes x - c instead of c - x",
        "test_arithmetic_operators_hidden",
        ("`1.5 - x`", "minus the expected", "x.__rsub__(c)", "other - self"),
        1,
    ),
    Mistake(
        "sum ignores keepdims",
        "test_array_methods_hidden",
        ("keepdims=True", "is keepdims passed on"),
        1,
    ),
    Mistake(
        "topological order by breadth-first search",
        "test_topological_order_hidden",
        ("before its parent", "breadth-first"),
        1,
    ),
    Mistake(
        "backward overwrites the cotangents of reused nodes",
        "test_backward_hidden",
        ("x.grad = 2x", "exactly half", "overwritten instead of added"),
        1,
    ),
    Mistake(
        "zero_grad does nothing",
        "test_zero_grad_hidden",
        ("expected an array of zeros", "EVERY node"),
        1,
    ),
    Mistake(
        "__rtruediv__ computes x / c instead of c / x",
        "test_arithmetic_operators_hidden",
        ("`2 / x`", "reciprocal", "x.__rtruediv__(c)", "other / self"),
        2,
    ),
    Mistake(
        "__rmatmul__ computes x @ A instead of A @ x",
        "test_array_methods_hidden",
        ("`A @ x", "raised ValueError", "x.__rmatmul__(A)", "other @ self"),
        2,
    ),
    Mistake(
        "recursive depth-first topological order",
        "test_topological_order_hidden",
        ("RecursionError", "5000 nodes", "explicit stack"),
        2,
    ),
    Mistake(
        "backward sends a contribution along every path (iteratively)",
        "test_backward_hidden",
        ("random graph", "every path"),
        2,
    ),
    Mistake(
        "zero_grad resets only the root",
        "test_zero_grad_hidden",
        ("the leaf of shape", "not only root"),
        2,
    ),
    Mistake(
        "operators return leaves (no graph recorded)",
        "test_arithmetic_operators_hidden",
        ("returned a leaf", "apply_op"),
        3,
    ),
    Mistake(
        "maximum swaps its operands (ties go to self)",
        "test_array_methods_hidden",
        ("a kink at 0", "SECOND operand", "self first"),
        3,
    ),
    Mistake(
        "topological order that walks every path (no visited set)",
        "test_topological_order_hidden",
        ("did not finish within", "every path", "visited"),
        3,
    ),
    Mistake(
        "the seed's recursive backward (one VJP call per path)",
        "test_backward_hidden",
        ("was stopped", "every path"),
        3,
    ),
    Mistake(
        "power as exp(p log x) (the seed's __pow__)",
        "test_array_methods_hidden",
        ("x ** 2", "nan", 'apply_op("pow", self, p=p)'),
        4,
    ),
    Mistake(
        "topological order: depth-first, appending a node when first reached",
        "test_topological_order_hidden",
        ("before its parent", "first reached"),
        4,
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
        "backward resets the gradients first (Lecture 02's semantics)",
        "test_backward_repeated_hidden",
        ("expected 12, got 6", "must not reset"),
        7,
    ),
    Mistake("engine_vjps ignores dldf (cotangent of ones)", INTEGRATION, ("ignores dldf",), 7),
    Mistake(
        "backward propagates the accumulated node.grad",
        "test_backward_repeated_hidden",
        ("expected 12", "got 24", "THIS pass"),
        8,
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
    return cells("solution")


PARTIAL_DONE = {"array_methods", "backward", "zero_grad"}


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
        if gid.endswith(
            "_hidden"
        ):  # a visible line calls the student's code before the hidden block
            visible = [
                ln for ln in strip_hidden(source).splitlines() if ln and not ln.startswith("#")
            ]
            assert visible, f"{gid} keeps only comments in the release"


def test_exercises_are_independent_of_unfinished_ones():
    """Only Exercises 2, 4 and 5 done: their hidden tests pass (they bring their own helpers)."""
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
    """Partial credit: a wrong cell fails only the hidden tests of its own exercise (and the
    integration test); the other backward cell may pass (e.g. single-call tests of a backward
    that resets the gradients)."""
    mistakes = [m for m in MISTAKES if m.batch == batch]
    allowed = set().union(*(HIDDEN[m.cell] for m in mistakes)) | {INTEGRATION}
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
