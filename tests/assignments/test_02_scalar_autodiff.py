"""Assignment 02 (scalar autodiff): the hidden tests catch common mistakes and accept correct variants.

Each notebook run costs a few seconds, so wrong (or alternative) implementations of different
solution cells are batched into one run, and every run is cached for the whole module. The
exercises are designed to be independent, so a wrong cell may make only its own hidden test fail
(plus the integration test of Exercise 10, which checks everything together).
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
TOTAL_POINTS = 34
INTEGRATION = "test_forward_grad_hidden"

# solution cell -> the hidden test cell that grades it
HIDDEN = {
    "forward_mul_div": "test_forward_mul_div_hidden",
    "forward_pow": "test_forward_pow_hidden",
    "forward_exp_log_sigmoid": "test_forward_exp_log_sigmoid_hidden",
    "forward_reflected": "test_forward_reflected_hidden",
    "reverse_mul_div": "test_reverse_mul_div_hidden",
    "reverse_pow": "test_reverse_pow_hidden",
    "reverse_exp_log_sigmoid": "test_reverse_exp_log_sigmoid_hidden",
    "topological_order": "test_topological_order_hidden",
    "backward": "test_backward_hidden",
    "forward_grad": "test_forward_grad_hidden",
}


# ---------------------------------------------------------------- the mistakes


@dataclass(frozen=True)
class Mistake(CatalogMistake):
    CATALOG = catalog

    name: str  # its wrong solution cell is catalog.MISTAKES[name]
    says: tuple  # words the failing hidden test's message must contain
    batch: int


MISTAKES = [
    Mistake("product rule missing a term", ("mul_jvp", "terms for db are missing"), 1),
    Mistake("forward pow ignores a varying exponent", ("pow_jvp", "terms for db are missing"), 1),
    Mistake(
        "forward sigmoid rule uses the input instead of sigma(a)",
        ("sigmoid_jvp", "a * (1 - a)", "sigmoid_float(a)"),
        1,
    ),
    Mistake(
        "__rsub__ computes x - c instead of c - x",
        ("forward_rsub computes self - other", "return other - self"),
        1,
    ),
    Mistake(
        "_div partial for the denominator with the wrong sign",
        ("_div.grads", "gradient for b", "sign is flipped"),
        1,
    ),
    Mistake("_pow ignores the exponent's partial", ("2 ** x", "exponent's partial is 0"), 1),
    Mistake(
        "_sigmoid grads uses the input a instead of sigma(a)",
        ("_sigmoid.grads", "a * (1 - a)", "self.value"),
        1,
    ),
    Mistake(
        "topological order = reversed breadth-first order",
        ("before its", "parent", "breadth-first"),
        1,
    ),
    Mistake(
        "backward overwrites instead of accumulating",
        ("a.grad = dc/da", "overwrote", "accumulate", "+="),
        1,
    ),
    Mistake("quotient rule with the wrong sign", ("div_jvp", "wrong values"), 2),
    Mistake(
        "forward pow takes log(a) even for a constant exponent",
        ("x ** 2 at x = -1.5", "ValueError", "db == 0"),
        2,
    ),
    Mistake("exp rule ignores the tangent", ("exp_jvp", "multiply by the tangent"), 2),
    Mistake(
        "__rtruediv__ computes x / c instead of c / x",
        ("forward_rtruediv computes self / other", "return other / self"),
        2,
    ),
    Mistake("_mul partials in the wrong order", ("_mul.grads", "swapped"), 2),
    Mistake(
        "_pow takes log(a) of a negative base",
        ("x ** 2 at x = -1.5", "raised ValueError", "a <= 0"),
        2,
    ),
    Mistake(
        "_exp grads returns a bare number instead of a 1-tuple",
        ("_exp.grads", "1-tuple", "comma"),
        2,
    ),
    Mistake(
        "recursive depth-first topological order",
        ("RecursionError", "5000 nodes", "explicit stack"),
        2,
    ),
    Mistake(
        "naive recursive backward (one call per path)",
        ("y = y + y repeated 60 times", "was stopped", "every path"),
        2,
    ),
    Mistake(
        "forward_grad seeds every input at once", ("df/dx", "seed input i with tangent 1.0"), 2
    ),
    Mistake(
        "__rpow__ computes x ** c instead of c ** x",
        ("forward_rpow computes self ** other", "return other ** self"),
        3,
    ),
    Mistake(
        "iterative topological order without a visited set (walks every path)",
        ("did not finish within", "every path", "visited"),
        3,
    ),
    Mistake(
        "backward in breadth-first order",
        ("x.grad = dc/dx", "before all of its consumers", "reversed(topological_order"),
        3,
    ),
    Mistake("reflected operators ignore the input's tangent", ("tangent of", "ignores dx"), 4),
    Mistake(
        "topological order with the root first", ("before its parent", "starts with the root"), 4
    ),
    Mistake("backward does not reset the gradients", ("backward() twice", "reset grad = 0.0"), 4),
    Mistake(
        "backward seeds the output before resetting (the seed is lost)",
        ("the seed", "self.grad = 1.0"),
        5,
    ),
    Mistake(
        "recursive topological order that raises the recursion limit",
        ("changed Python's recursion limit", "explicit stack"),
        5,
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
        keep = {"forward_reflected", "backward"}
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


def test_every_solution_cell_is_graded_by_a_hidden_test():
    assert set(solution_cells()) == set(HIDDEN)


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


def test_exercises_are_independent_of_unfinished_ones():
    """Only Exercises 4 and 9 done: their hidden tests pass (they use their own helpers)."""
    results = run("partial")
    for gid in ("test_forward_reflected_hidden", "test_backward_hidden"):
        assert results[gid].passed, results[gid].error
    for gid in ("test_forward_mul_div_hidden", "test_topological_order_hidden", INTEGRATION):
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
    assert failed_hidden - {INTEGRATION} == targeted - {INTEGRATION}


@pytest.mark.parametrize("alternative", sorted(ALTERNATIVES))
def test_alternative_correct_answers_pass(alternative):
    results = run(f"alt{alternative}")
    assert not failures(results), failures(results)


def test_every_mistake_of_the_catalog_is_checked_here():
    """The demo class draws from the catalog: each of its mistakes is proven caught above."""
    assert sorted(m.name for m in MISTAKES) == sorted(catalog.MISTAKES)
    for style, cells in ALTERNATIVES.items():
        assert set(cells) == set(HIDDEN), style
