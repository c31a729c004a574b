"""Assignment 03 (Jacobians, VJPs and JVPs): the tests grade what they should.

- the source notebook (with solutions) earns full marks;
- realistic wrong answers fail the matching hidden test, whose message names the mistake;
- other correct formulations pass every graded cell.

Each notebook run replaces whole solution cells (by grade_id). Independent mistakes
(at most one per solution cell) share a run, so the file needs only a few runs.
"""

from dataclasses import dataclass
from functools import cache

import pytest

from demo import mistakes_03_jacobians_vjps as catalog

from notebook_harness import CatalogMistake, run_notebook, source_notebook

ASSIGNMENT = "03_jacobians_vjps"
TOTAL_POINTS = 37
SOLUTION_CELLS = [
    "numerical_jacobian",
    "exp_vjp",
    "log_vjp",
    "sigmoid_vjp",
    "relu_vjp",
    "sum_vjp",
    "mul_vjp",
    "exp_jvp",
    "log_jvp",
    "mul_jvp",
]


@cache
def run(replacements):
    """Graded-cell results of one notebook run; `replacements` is a tuple of (grade_id, source)."""
    return run_notebook(source_notebook(ASSIGNMENT), dict(replacements))


@dataclass(frozen=True)
class Mistake(CatalogMistake):
    CATALOG = catalog

    name: str  # its wrong solution cell (the full cell, `def` line included) is catalog.MISTAKES[name]
    test: str  # grade_id of the hidden test that must fail
    says: tuple  # words the failure message must contain
    batch: int  # mistakes in one batch replace different cells and run together


MISTAKES = [
    Mistake(
        "forward difference with h=1e-10",
        "test_numerical_jacobian_hidden",
        ("not accurate enough", "central differences"),
        1,
    ),
    Mistake(
        "transposed Jacobian layout x.shape + f.shape",
        "test_numerical_jacobian_hidden",
        ("transposed layout", "f(x).shape + x.shape"),
        2,
    ),
    Mistake("perturbs x in place (no copy)", "test_numerical_jacobian_hidden", ("in place",), 3),
    Mistake(
        "copies x only when it is read-only (np.require), perturbs the caller's array",
        "test_numerical_jacobian_hidden",
        ("perturbs the caller's x in place", "private float64 copy"),
        4,
    ),
    Mistake("exp_vjp ignores dldf", "test_exp_vjp_hidden", ("ignores dldf",), 1),
    Mistake(
        "exp_vjp returns a bare array instead of a tuple",
        "test_exp_vjp_hidden",
        ("instead of a tuple", "one gradient per input", "return (dldx,)"),
        2,
    ),
    Mistake("log_vjp divides by log(x)", "test_log_vjp_hidden", ("dldf / log(x)", "1/x"), 1),
    Mistake(
        "sigmoid_vjp uses x instead of sigmoid(x)",
        "test_sigmoid_vjp_hidden",
        ("uses x where s = sigmoid(x) belongs",),
        1,
    ),
    Mistake(
        "relu_vjp multiplies by relu(x)",
        "test_relu_vjp_hidden",
        ("dldf * relu(x)", "OUTPUT of relu"),
        1,
    ),
    Mistake(
        "relu_vjp passes the gradient at x == 0 (x >= 0 convention)",
        "test_relu_vjp_hidden",
        ("at the kink", "derivative 0 at x == 0"),
        2,
    ),
    Mistake(
        "sum_vjp ignores axis",
        "test_sum_vjp_hidden",
        ("ignores `axis`", "only cases with keepdims=False fail"),
        1,
    ),
    Mistake(
        "sum_vjp inserts the summed axes again when keepdims=True",
        "test_sum_vjp_hidden",
        ("only cases with keepdims=True fail", "do not insert them again"),
        2,
    ),
    Mistake(
        "sum_vjp returns the gradient of a mean",
        "test_sum_vjp_hidden",
        ("a mean instead of a sum",),
        3,
    ),
    Mistake("mul_vjp returns the two gradients swapped", "test_mul_vjp_hidden", ("swapped",), 3),
    Mistake("exp_jvp ignores the tangent", "test_exp_jvp_hidden", ("multiply by the tangent",), 1),
    Mistake(
        "log_jvp returns a tuple like a VJP", "test_log_jvp_hidden", ("a JVP returns ONE array",), 2
    ),
    Mistake(
        "mul_jvp misses the a * db term",
        "test_mul_jvp_hidden",
        ("change caused by da alone", "terms for db are missing"),
        1,
    ),
]


# Failures that follow from a mistake in another cell: (mistake name, test, words).
KNOCK_ON = [
    (
        "mul_vjp returns the two gradients swapped",
        "test_adjoint_hidden",
        ("adjoint identity fails",),
    ),
    (
        "relu_vjp passes the gradient at x == 0 (x >= 0 convention)",
        "test_relu_vjp_at_zero",
        ("at x == 0",),
    ),
    ("sum_vjp ignores axis", "test_sum_vjp_visible", ("ignores `axis`",)),
]


def batch_replacements(batch):
    chosen = [m for m in MISTAKES if m.batch == batch]
    cells = [m.cell for m in chosen]
    assert len(cells) == len(set(cells)), f"batch {batch} replaces a cell twice"
    return tuple((m.cell, m.source) for m in chosen)


def results_for(mistake):
    return run(batch_replacements(mistake.batch))


def by_name(name):
    return next(m for m in MISTAKES if m.name == name)


def test_source_earns_full_marks():
    results = run(())
    failed = {gid: r.error for gid, r in results.items() if not r.passed}
    assert not failed, f"the solution fails graded cells: {failed}"
    assert sum(r.points for r in results.values()) == TOTAL_POINTS
    hidden = [gid for gid in results if gid.endswith("_hidden")]
    assert len(hidden) == len(SOLUTION_CELLS) + 1  # one per function, plus the adjoint identity


def test_at_least_eight_mistakes_over_every_vjp_exercise():
    assert len(MISTAKES) >= 8
    assert {m.cell for m in MISTAKES} >= {
        "numerical_jacobian",
        "exp_vjp",
        "log_vjp",
        "sigmoid_vjp",
        "relu_vjp",
        "sum_vjp",
        "mul_jvp",
    }


@pytest.mark.parametrize("mistake", MISTAKES, ids=lambda m: m.name)
def test_hidden_test_catches_and_names_the_mistake(mistake):
    result = results_for(mistake)[mistake.test]
    assert not result.passed, f"{mistake.test} passed the wrong answer '{mistake.name}'"
    assert result.error.startswith(("GradingError", "AssertionError")), result.error
    for words in mistake.says:
        assert words in result.error, f"message lacks {words!r}:\n{result.error}"


@pytest.mark.parametrize("name, test, says", KNOCK_ON, ids=[k[1] for k in KNOCK_ON])
def test_other_cells_also_catch_it(name, test, says):
    result = results_for(by_name(name))[test]
    assert not result.passed, f"{test} passed the wrong answer '{name}'"
    for words in says:
        assert words in result.error, f"message lacks {words!r}:\n{result.error}"


@pytest.mark.parametrize("mistake", MISTAKES, ids=lambda m: m.name)
def test_a_mistake_costs_only_its_own_exercise(mistake):
    """The cells of functions that were not replaced in this run still pass."""
    results = results_for(mistake)
    replaced = {cell for cell, _ in batch_replacements(mistake.batch)}
    for gid, result in results.items():
        if gid.startswith("test_adjoint"):
            continue  # depends on six functions at once
        function = gid.removeprefix("test_").rsplit("_", 1)[0]
        if gid == "test_relu_vjp_at_zero":
            function = "relu_vjp"
        if function not in replaced:
            assert result.passed, f"{gid} fails although {function} is correct:\n{result.error}"


ALTERNATIVES = catalog.ALTERNATIVES


@pytest.mark.parametrize("style", ALTERNATIVES)
def test_alternative_correct_answers_earn_full_marks(style):
    cells = ALTERNATIVES[style]
    assert set(cells) == set(SOLUTION_CELLS)
    results = run(tuple(cells.items()))
    failed = {gid: r.error for gid, r in results.items() if not r.passed}
    assert not failed, f"a correct answer ({style}) fails: {failed}"


def test_every_mistake_of_the_catalog_is_checked_here():
    """The demo class draws from the catalog: each of its mistakes is proven caught above."""
    assert sorted(m.name for m in MISTAKES) == sorted(catalog.MISTAKES)
