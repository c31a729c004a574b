"""Assignment 01 (chain rule): full marks for the solution, zero for the stubs, and the hidden
tests catch realistic mistakes with a diagnostic that names them, while accepting other correct
formulations.

Each notebook run costs a few seconds, so independent mistakes (one per solution cell, none in a
cell that another mistaken cell depends on) share a run ("batch").
"""

import re
from dataclasses import dataclass
from functools import cache

import nbformat
import pytest

from demo import mistakes_01_chain_rule as catalog

from notebook_harness import CatalogMistake, run_notebook, source_notebook

NOTEBOOK = source_notebook("01_chain_rule")

SIGNATURES = catalog.SIGNATURES
define = catalog.define
# Functions whose tests also fail when `sigmoid` is wrong (their solutions call it).
USES_SIGMOID = {"loss", "dloss_dx", "dloss_dw"}
TOTAL_POINTS = 27


def hidden(name):
    return f"test_{name}_hidden"


@dataclass(frozen=True)
class Mistake(CatalogMistake):
    CATALOG = catalog

    name: str  # its wrong solution cell is catalog.MISTAKES[name]
    batch: str
    says: tuple  # texts the failing hidden test's message must contain


MISTAKES = [
    # batch a: sigmoid is correct
    Mistake("forward_divides_by_2h", "a", ("exactly half", "divide by h, not by 2h")),
    Mistake("central_divides_by_h", "a", ("exactly twice", "divide by 2h, not by h")),
    Mistake("loss_without_minus", "a", ("sign is flipped",)),
    Mistake("stable_loss_is_the_direct_formula", "a", ("rounds to 1.0", "loses every digit")),
    Mistake("dloss_dw_uses_sigmoid_not_sigmoid_minus_1", "a",
            ("used sigmoid(b) where dL/db = sigmoid(b) - 1 is needed",)),
    Mistake("total_derivative_misses_partial_in_x", "a", ("partial derivative df/dx", "is missing")),
    # batch b: sigmoid is correct
    Mistake("forward_is_central", "b", ("that is the central difference",)),
    Mistake("central_uses_f_x_plus_h_minus_f_x", "b", ("(f(x+h) - f(x)) / (2h)", "f(x+h) - f(x-h)")),
    Mistake("stable_loss_log_of_1_plus_exp", "b", ("overflows", "inf")),
    Mistake("dloss_dx_misses_factor_2", "b", ("exactly half", "factor 2 from da/dx = 2x")),
    Mistake("dloss_dw_uses_x_not_x_squared", "b", ("db/dw = a = x**2, not x",)),
    Mistake("total_derivative_misses_path_through_y", "b", ("path through y", "is missing")),
    # batch c: sigmoid is wrong, so loss and dloss_* are left correct (their tests fail anyway)
    Mistake("sigmoid_exponent_sign", "c", ("sigmoid(-x) = 1 / (1 + exp(x))",)),
    Mistake("forward_is_backward", "c", ("backward difference",)),
    Mistake("central_default_step_1e_4", "c", ("default h = 1e-6", "as if h = 0.0001")),
    Mistake("total_derivative_wrong_sign_of_cos", "c", ("sign of the df/dx term",)),
    # batch d: a sigmoid that is right for moderate x (nan only at x = 800)
    Mistake("sigmoid_exp_ratio_nan_at_800", "d", ("sigmoid(800.0) should be 1.0", "nan")),
    Mistake("loss_uses_w_x", "d", ("b = w x**2",)),
    Mistake("dloss_dx_sign_flipped", "d", ("sign is flipped",)),
    Mistake("dloss_dw_is_dloss_dx", "d", ("that is dL/dx",)),
]  # fmt: skip

ALTERNATIVES = catalog.ALTERNATIVES


@cache
def run_batch(batch):
    if batch == "solution":
        return run_notebook(NOTEBOOK)
    if batch == "stubs":
        stub = "# YOUR CODE HERE\nraise NotImplementedError()"
        return run_notebook(NOTEBOOK, {name: define(name, stub) for name in SIGNATURES})
    if batch in ALTERNATIVES:
        return run_notebook(NOTEBOOK, ALTERNATIVES[batch])
    replacements = {m.cell: m.source for m in MISTAKES if m.batch == batch}
    return run_notebook(NOTEBOOK, replacements)


def failing(results):
    return {gid: r.error for gid, r in results.items() if not r.passed}


def test_solution_earns_full_marks():
    results = run_batch("solution")
    assert failing(results) == {}
    assert len(results) == 2 * len(SIGNATURES)
    for name in SIGNATURES:
        assert f"test_{name}_visible" in results and hidden(name) in results
    assert sum(r.points for r in results.values()) == TOTAL_POINTS


def test_header_states_the_total_and_every_exercise_points():
    nb = nbformat.read(str(NOTEBOOK), as_version=4)
    header = nb.cells[0].source
    assert f"**Total: {TOTAL_POINTS} points.**" in header
    points = {}
    for cell in nb.cells:
        meta = cell.metadata["nbgrader"]
        if meta["grade"]:
            name = re.fullmatch(r"test_(\w+)_(visible|hidden)", meta["grade_id"]).group(1)
            points[name] = points.get(name, 0) + meta["points"]
    for name, total in points.items():
        assert re.search(rf"\| `{name}` \| \d \| \d \| {total} \|", header), name
    assert sum(points.values()) == TOTAL_POINTS


def test_stubs_earn_zero():
    results = run_batch("stubs")
    assert all(not r.passed for r in results.values()), [
        gid for gid, r in results.items() if r.passed
    ]
    assert all("NotImplementedError" in r.error for r in results.values())


@pytest.mark.parametrize("mistake", MISTAKES, ids=lambda m: m.name)
def test_mistake_is_caught_with_a_diagnostic(mistake):
    results = run_batch(mistake.batch)
    result = results[hidden(mistake.cell)]
    assert not result.passed, f"{mistake.name} passed {hidden(mistake.cell)}"
    for text in mistake.says:
        assert text in result.error, result.error


@pytest.mark.parametrize("batch", sorted({m.batch for m in MISTAKES}))
def test_mistakes_fail_only_their_own_tests(batch):
    """A mistake costs the points of its function (and of functions that call sigmoid)."""
    mutated = {m.cell for m in MISTAKES if m.batch == batch}
    affected = set(mutated)
    if batch == "c":  # sigmoid wrong for every x
        affected |= USES_SIGMOID
    results = run_batch(batch)
    for name in SIGNATURES:
        if name not in affected:
            assert results[f"test_{name}_visible"].passed, results[f"test_{name}_visible"].error
            assert results[hidden(name)].passed, results[hidden(name)].error


@pytest.mark.parametrize("batch", sorted(ALTERNATIVES))
def test_alternative_correct_answers_pass(batch):
    assert failing(run_batch(batch)) == {}


def test_every_mistake_of_the_catalog_is_checked_here():
    """The demo class draws from the catalog: each of its mistakes is proven caught above."""
    assert sorted(m.name for m in MISTAKES) == sorted(catalog.MISTAKES)
    for style, cells in ALTERNATIVES.items():
        assert set(cells) == set(SIGNATURES), style
