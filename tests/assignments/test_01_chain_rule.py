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
TOTAL_POINTS = 20  # autograded
HAND_GRADED = {"derivation_five_point_error": 3}  # graded by hand (a markdown answer cell)


def hidden(name):
    return f"test_{name}_hidden"


@dataclass(frozen=True)
class Mistake(CatalogMistake):
    CATALOG = catalog

    name: str  # its wrong solution cell is catalog.MISTAKES[name]
    batch: str
    says: tuple  # texts the failing hidden test's message must contain


MISTAKES = [
    # batch a: one mistake in every exercise
    Mistake("five_point_divides_by_6h", "a", ("exactly twice", "divide by 12h")),
    Mistake("complex_step_returns_complex", "a", ("returned a complex value", "np.imag")),
    Mistake("log_cosh_naive_overflows", "a", ("overflows to inf", "np.logaddexp")),
    Mistake("dloss_dx_misses_path_through_sin", "a", ("path through t = sin x is missing",)),
    Mistake("dloss_dw_is_dloss_dx", "a", ("that is dL/dx",)),
    Mistake("total_derivative_misses_partial_in_x", "a", ("partial derivative df/dx", "is missing")),
    # batch b
    Mistake("five_point_outer_signs_flipped", "b", ("outer terms have the wrong sign",)),
    Mistake("complex_step_real_part", "b", ("real part",)),
    Mistake("log_cosh_forgets_log_2", "b", ("off by log 2",)),
    Mistake("dloss_dx_cos_sign", "b", ("sign of the path through t",)),
    Mistake("dloss_dw_factor_w", "b", ("dp/dw = x",)),
    Mistake("total_derivative_misses_path_through_y", "b", ("path through y", "is missing")),
    # batch c
    Mistake("five_point_is_central", "c", ("that is the central difference",)),
    Mistake("complex_step_real_difference", "c", ("complex point x + 1j * h",)),
    Mistake("log_cosh_asymptote_only", "c", ("only the large-|r| asymptote",)),
    Mistake("dloss_dx_sinh_over_cosh_nan", "c", ("inf / inf", "nan")),
    Mistake("dloss_dw_sinh_over_cosh_nan", "c", ("inf / inf", "nan")),
    Mistake("total_derivative_wrong_sign_of_cos", "c", ("sign of the df/dx term",)),
    # batch d
    Mistake("five_point_weights_swapped", "d", ("weights are swapped",)),
    Mistake("complex_step_default_step_1e_8", "d", ("default h = 1e-20", "as if h = 1e-08")),
    Mistake("log_cosh_abs_missing_in_exp", "d", ("|r| in the exponential",)),
    # batch e
    Mistake("five_point_default_step_1e_6", "e", ("default h = 1e-3", "as if h = 1e-06")),
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
    hand = sum(HAND_GRADED.values())
    assert (
        f"**Total: {TOTAL_POINTS + hand} points** ({TOTAL_POINTS} autograded, {hand} graded by hand)."
        in header
    )
    points, answers = {}, {}
    for cell in nb.cells:
        meta = cell.metadata["nbgrader"]
        if meta["grade"] and meta["solution"]:  # an answer graded by hand
            answers[meta["grade_id"]] = meta["points"]
        elif meta["grade"]:
            name = re.fullmatch(r"test_(\w+)_(visible|hidden)", meta["grade_id"]).group(1)
            points[name] = points.get(name, 0) + meta["points"]
    for name, total in points.items():
        assert re.search(rf"\| `{name}` \| \d \| \d \| {total} \|", header), name
    assert sum(points.values()) == TOTAL_POINTS
    assert answers == HAND_GRADED
    for gid, total in answers.items():
        assert re.search(rf"graded by hand\) \| – \| – \| {total} \|", header), gid


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
    """A mistake costs the points of its own function only."""
    affected = {m.cell for m in MISTAKES if m.batch == batch}
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
