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
TOTAL_POINTS = 34  # autograded; the derivation cell adds 3 points graded by hand (37 in all)
SOLUTION_CELLS = [
    "numerical_vjp",
    "tanh_vjp",
    "tanh_jvp",
    "mean_vjp",
    "mean_jvp",
    "softmax_vjp",
    "softmax_jvp",
    "logsumexp_vjp",
    "logsumexp_jvp",
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
        "numerical_vjp: forward difference with h=1e-10",
        "test_numerical_vjp_hidden",
        ("not accurate enough", "central differences"),
        1,
    ),
    Mistake(
        "numerical_vjp builds the whole Jacobian first (2n + 1 calls of f)",
        "test_numerical_vjp_hidden",
        ("called f", "exactly 2 * x.size"),
        2,
    ),
    Mistake(
        "numerical_vjp perturbs x in place (no copy)",
        "test_numerical_vjp_hidden",
        ("perturbs the caller's x in place",),
        3,
    ),
    Mistake(
        "numerical_vjp copies x only when it is read-only (np.require), perturbs the caller's array",
        "test_numerical_vjp_hidden",
        ("perturbs the caller's x in place", "private float64 copy"),
        4,
    ),
    Mistake(
        "numerical_vjp ignores dldf (the gradient of sum(f))",
        "test_numerical_vjp_hidden",
        ("ignores dldf", "all-ones cotangent"),
        5,
    ),
    Mistake(
        "numerical_vjp divides the central difference by h",
        "test_numerical_vjp_hidden",
        ("exactly twice", "2h"),
        6,
    ),
    Mistake(
        "tanh_vjp uses x instead of tanh(x)",
        "test_tanh_vjp_hidden",
        ("uses x where t = tanh(x) belongs",),
        1,
    ),
    Mistake("tanh_vjp forgets the square", "test_tanh_vjp_hidden", ("the square is missing",), 2),
    Mistake(
        "tanh_vjp returns a bare array instead of a tuple",
        "test_tanh_vjp_hidden",
        ("instead of a tuple", "return (dldx,)"),
        3,
    ),
    Mistake(
        "tanh_jvp ignores the tangent", "test_tanh_jvp_hidden", ("multiply by the tangent",), 1
    ),
    Mistake(
        "tanh_jvp returns a tuple like a VJP",
        "test_tanh_jvp_hidden",
        ("a JVP returns ONE array",),
        2,
    ),
    Mistake(
        "mean_vjp forgets to divide by the count",
        "test_mean_vjp_hidden",
        ("gradient of a SUM", "forgets to divide"),
        1,
    ),
    Mistake(
        "mean_vjp divides by x.size instead of the count of averaged entries",
        "test_mean_vjp_hidden",
        ("divides by x.size", "reduced axes"),
        2,
    ),
    Mistake("mean_vjp ignores axis", "test_mean_vjp_hidden", ("ignores `axis`",), 3),
    Mistake(
        "mean_vjp inserts the reduced axes again when keepdims=True",
        "test_mean_vjp_hidden",
        ("only cases with keepdims=True fail", "do not insert them again"),
        4,
    ),
    Mistake(
        "mean_vjp returns a read-only broadcast view",
        "test_mean_vjp_hidden",
        ("ordinary writeable array", ".copy()"),
        5,
    ),
    Mistake("mean_jvp sums instead of averaging", "test_mean_jvp_hidden", ("JVP of a SUM",), 1),
    Mistake("mean_jvp ignores keepdims", "test_mean_jvp_hidden", ("the output's shape",), 2),
    Mistake(
        "softmax_vjp uses only the diagonal s * (1 - s)",
        "test_softmax_vjp_hidden",
        ("DIAGONAL of the Jacobian", "is missing"),
        1,
    ),
    Mistake(
        "softmax_vjp takes the inner product over the whole array",
        "test_softmax_vjp_hidden",
        ("over the WHOLE array",),
        2,
    ),
    Mistake(
        "softmax_vjp takes the inner product along the last axis",
        "test_softmax_vjp_hidden",
        ("along the last axis instead of along `axis`",),
        3,
    ),
    Mistake(
        "softmax_vjp computes softmax naively (overflows for large x)",
        "test_softmax_vjp_hidden",
        ("nan or inf for large inputs", "subtract the maximum"),
        4,
    ),
    Mistake(
        "softmax_vjp subtracts in place from dldf",
        "test_softmax_vjp_hidden",
        ("modified one of its input arrays in place",),
        5,
    ),
    Mistake(
        "softmax_jvp misses the subtraction term (s * dx)",
        "test_softmax_jvp_hidden",
        ("is s * dx", "is missing"),
        1,
    ),
    Mistake(
        "softmax_jvp computes softmax naively (overflows for large x)",
        "test_softmax_jvp_hidden",
        ("nan or inf for large inputs",),
        2,
    ),
    Mistake(
        "logsumexp_vjp copies dldf like a sum (no softmax weights)",
        "test_logsumexp_vjp_hidden",
        ("like the VJP of a SUM", "weights are missing"),
        1,
    ),
    Mistake(
        "logsumexp_vjp normalises the weights over all entries",
        "test_logsumexp_vjp_hidden",
        ("over ALL entries",),
        2,
    ),
    Mistake(
        "logsumexp_vjp inserts the reduced axes again when keepdims=True",
        "test_logsumexp_vjp_hidden",
        ("only cases with keepdims=True fail",),
        3,
    ),
    Mistake(
        "logsumexp_vjp computes exp(x) / sum(exp(x)) naively (overflows for large x)",
        "test_logsumexp_vjp_hidden",
        ("nan or inf for large inputs",),
        4,
    ),
    Mistake(
        "logsumexp_jvp sums dx without weights", "test_logsumexp_jvp_hidden", ("JVP of a SUM",), 1
    ),
    Mistake(
        "logsumexp_jvp ignores keepdims", "test_logsumexp_jvp_hidden", ("the output's shape",), 2
    ),
]


# Failures that follow from a mistake in another cell: (mistake name, test, words).
KNOCK_ON = [
    (
        "softmax_vjp uses only the diagonal s * (1 - s)",
        "test_adjoint_hidden",
        ("adjoint identity fails",),
    ),
    ("tanh_vjp uses x instead of tanh(x)", "test_adjoint_visible", ("adjoint identity fails",)),
    ("mean_vjp ignores axis", "test_mean_vjp_visible", ("mean_vjp: 4 of 7 cases failed",)),
    (
        "softmax_vjp takes the inner product along the last axis",
        "test_softmax_vjp_visible",
        ("softmax_vjp is wrong on case '(3, 4) axis=0'", "wrong values"),
    ),
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


def test_mistakes_over_every_exercise():
    assert len(MISTAKES) >= 2 * len(SOLUTION_CELLS)
    assert {m.cell for m in MISTAKES} == set(SOLUTION_CELLS)


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
