"""Assignment 02 (scalar autodiff): the hidden tests catch common mistakes and accept correct variants.

Each notebook run costs a few seconds, so wrong (or alternative) implementations of different
solution cells are batched into one run, and every run is cached for the whole module. The
exercises are independent, so a wrong cell makes only its own hidden test fail.
"""

from dataclasses import dataclass
from functools import cache

import nbformat
import pytest

from demo import mistakes_02_scalar_autodiff as catalog

from notebook_harness import (
    CatalogMistake,
    notebook_cells,
    run_notebook,
    source_notebook,
    strip_hidden,
    stub_source,
)

ASSIGNMENT = "02_scalar_autodiff"
TOTAL_POINTS = 24  # autograded
HAND_GRADED = {"derivation_logaddexp": 3}  # graded by hand (a markdown answer cell)

# solution cell -> the hidden test cell that grades it
HIDDEN = {
    "forward_unary": "test_forward_unary_hidden",
    "forward_reflected": "test_forward_reflected_hidden",
    "reverse_unary": "test_reverse_unary_hidden",
    "reverse_logaddexp": "test_reverse_logaddexp_hidden",
    "topological_order": "test_topological_order_hidden",
    "jacobian_forward": "test_jacobian_forward_hidden",
    "jacobian_reverse": "test_jacobian_reverse_hidden",
}


# ---------------------------------------------------------------- the mistakes


@dataclass(frozen=True)
class Mistake(CatalogMistake):
    CATALOG = catalog

    name: str  # its wrong solution cell is catalog.MISTAKES[name]
    says: tuple  # words the failing hidden test's message must contain
    batch: int


MISTAKES = [
    Mistake("tanh rule uses the input instead of tanh(a)", ("tanh_jvp", "1 - a**2", "output"), 1),
    Mistake(
        "__rtruediv__ computes x / c instead of c / x",
        ("forward_rtruediv computes self / other", "return other / self"),
        1,
    ),
    Mistake(
        "_tanh grads uses the input a instead of tanh(a)",
        ("_tanh.grads", "1 - a**2", "self.value"),
        1,
    ),
    Mistake(
        "logaddexp partials by the literal softmax (overflow)", ("OverflowError", "exp(a - v)"), 1
    ),
    Mistake(
        "recursive depth-first topological order (the pseudocode as is)",
        ("RecursionError", "5000 nodes", "explicit stack"),
        1,
    ),
    Mistake("jacobian_forward seeds every input at once", ("seed input j with tangent 1.0",), 1),
    Mistake(
        "jacobian_reverse keeps stale grads of leaves outside the graph",
        ("leftover", "Set every leaf's grad to 0.0"),
        1,
    ),
    Mistake("sqrt rule without the factor 1/2", ("sqrt_jvp", "1 / (2 sqrt(a))"), 2),
    Mistake(
        "__rpow__ computes x ** c instead of c ** x",
        ("forward_rpow computes self ** other", "return other ** self"),
        2,
    ),
    Mistake("_sqrt grads is 1 / (2a)", ("_sqrt.grads", "1 / (2a)"), 2),
    Mistake("logaddexp partials swapped", ("_logaddexp.grads",), 2),
    Mistake(
        "iterative order that explores the parents last to first",
        ("valid topological order", "last to first"),
        2,
    ),
    Mistake(
        "jacobian_forward puts the passes in rows (transposed)",
        ("transpose", "row i belongs to output i"),
        2,
    ),
    Mistake("jacobian_reverse calls f once per output", ("called f", "record the graph once"), 2),
    Mistake("sin rule ignores the tangent", ("sin_jvp",), 3),
    Mistake("abs keeps the tangent's sign for negative x", ("for x < 0", "sign(x)"), 3),
    Mistake(
        "_sin grads returns a bare number instead of a 1-tuple",
        ("_sin.grads", "1-tuple", "comma"),
        3,
    ),
    Mistake(
        "Kahn's algorithm (a valid order, but not the recursive one)",
        ("not the list topological_order_recursive(root) returns", "order of node.parents"),
        3,
    ),
    Mistake(
        "jacobian_forward reads .deriv of a constant output", ("AttributeError", "plain number"), 3
    ),
    Mistake(
        "jacobian_reverse calls backward() on a constant output",
        ("AttributeError", "plain number"),
        3,
    ),
    Mistake("abs uses copysign at the kink", ("kink", "tangent 0.0"), 4),
    Mistake("_sin grads with the wrong sign", ("_sin.grads", "sign is flipped"), 4),
    Mistake(
        "iterative topological order without a visited set (walks every path)",
        ("did not finish within", "every path", "visited"),
        4,
    ),
    Mistake(
        "jacobian_forward calls f once more to count the outputs",
        ("called f", "one forward pass per input"),
        4,
    ),
    Mistake("reflected operators ignore the input's tangent", ("tangent of", "ignores dx"), 5),
    Mistake(
        "topological order = reversed breadth-first order",
        ("before its", "parent", "breadth-first"),
        5,
    ),
    Mistake("abs changes x in place", ("changed x itself", "return a new ForwardValue"), 6),
    Mistake("jacobian_forward returns nested lists", ("returned a list", "numpy array"), 6),
    Mistake(
        "recursive topological order that raises the recursion limit",
        ("changed Python's recursion limit", "explicit stack"),
        6,
    ),
]

BATCHES = sorted({m.batch for m in MISTAKES})

# ---------------------------------------------------------------- alternative correct answers

ALTERNATIVES = catalog.ALTERNATIVES


# ---------------------------------------------------------------- running the notebook


def cells(kind):
    return notebook_cells(ASSIGNMENT, kind)


def solution_cells():
    return cells("solution")


@cache
def run(key):
    """One notebook run, cached: "source", "stubs", "release", "partial", "batchN", "altX"."""
    if key == "source":
        replacements = {}
    elif key == "stubs":  # as autograded: the hidden tests are back in place
        replacements = {gid: stub_source(s) for gid, s in solution_cells().items()}
    elif key == "release":  # as the students get it: stubs, and no hidden tests
        replacements = {gid: stub_source(s) for gid, s in solution_cells().items()}
        replacements.update({gid: strip_hidden(s) for gid, s in cells("grade").items()})
    elif key == "partial":
        keep = {"forward_reflected", "jacobian_reverse"}
        replacements = {
            gid: stub_source(s) for gid, s in solution_cells().items() if gid not in keep
        }
    elif key.startswith("alt"):
        replacements = ALTERNATIVES[key[3:]]
    else:
        replacements = {m.cell: m.source for m in MISTAKES if f"batch{m.batch}" == key}
    return run_notebook(source_notebook(ASSIGNMENT), replacements)


def failures(results):
    return {gid: r.error for gid, r in results.items() if not r.passed}


# ---------------------------------------------------------------- tests


def test_every_solution_cell_is_graded_by_a_hidden_test_or_by_hand():
    assert set(solution_cells()) == set(HIDDEN) | set(HAND_GRADED)


def test_points_add_up_to_the_total_in_the_header():
    nb = nbformat.read(str(source_notebook(ASSIGNMENT)), as_version=4)
    graded = [
        c.metadata["nbgrader"] for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")
    ]
    assert sum(m["points"] for m in graded if not m["solution"]) == TOTAL_POINTS
    assert {m["grade_id"]: m["points"] for m in graded if m["solution"]} == HAND_GRADED
    hand = sum(HAND_GRADED.values())
    header = nb.cells[0].source
    assert f"**{TOTAL_POINTS + hand}**" in header
    assert (
        f"**{TOTAL_POINTS}** are autograded" in header
        and f"**{hand}** are graded by hand" in header
    )


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


def test_exercises_are_independent_of_unfinished_ones():
    """Only Exercises 2 and 8 done: their tests pass (they bring their own topological order)."""
    results = run("partial")
    for gid in (
        "test_forward_reflected_visible",
        "test_forward_reflected_hidden",
        "test_jacobian_reverse_visible",
        "test_jacobian_reverse_hidden",
    ):
        assert results[gid].passed, results[gid].error
    for gid in (
        "test_forward_unary_hidden",
        "test_topological_order_hidden",
        "test_jacobian_forward_hidden",
    ):
        assert not results[gid].passed


@pytest.mark.parametrize("mistake", MISTAKES, ids=lambda m: m.name.replace(" ", "_"))
def test_mistake_is_caught_with_a_diagnostic(mistake):
    result = run(f"batch{mistake.batch}")[HIDDEN[mistake.cell]]
    assert not result.passed, f"the hidden test accepted: {mistake.name}"
    for word in mistake.says:
        assert word in result.error, f"{word!r} not in the message:\n{result.error}"


@pytest.mark.parametrize("batch", BATCHES)
def test_a_mistake_costs_points_only_in_its_own_exercise(batch):
    targeted = {HIDDEN[m.cell] for m in MISTAKES if m.batch == batch}
    failed_hidden = {gid for gid in failures(run(f"batch{batch}")) if gid.endswith("_hidden")}
    assert failed_hidden == targeted


@pytest.mark.parametrize("alternative", sorted(ALTERNATIVES))
def test_alternative_correct_answers_pass(alternative):
    results = run(f"alt{alternative}")
    assert not failures(results), failures(results)


def test_every_mistake_of_the_catalog_is_checked_here():
    """The demo class draws from the catalog: each of its mistakes is proven caught above."""
    assert sorted(m.name for m in MISTAKES) == sorted(catalog.MISTAKES)
    for style, cells in ALTERNATIVES.items():
        assert set(cells) == set(HIDDEN), style
