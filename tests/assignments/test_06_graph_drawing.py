"""Assignment 06 (reading and drawing graphs): the hidden tests catch mistakes and accept variants.

* the source notebook (with solutions) earns full marks on the autograded cells, and the untouched
  release earns zero; the derivation is a manually graded markdown cell;
* realistic wrong readings of the drawings and wrong implementations of edge_cotangents and
  draw_gradient_flow fail the matching hidden test cell with a diagnostic that says what is
  wrong, and cost no points in the other exercises;
* other correct answers (lists as pairs, other index bookkeeping, a breadth-first walk, an
  ancestor test per node, another statement order) pass every cell.

Each notebook run costs a few seconds, so one wrong implementation per solution cell is batched
into a run, and every run is cached for the whole module.
"""

from dataclasses import dataclass
from functools import cache

import nbformat
import pytest

from demo import mistakes_06_graph_drawing as catalog

from notebook_harness import (
    CatalogMistake,
    notebook_cells,
    run_notebook,
    source_notebook,
    strip_hidden,
    stub_source,
)

ASSIGNMENT = "06_graph_drawing"
TOTAL_POINTS = 17  # 14 autograded + 3 graded by hand (the derivation cell)
MANUAL_POINTS = 3

HIDDEN = {
    "findings": {f"test_drawing_{k}_hidden" for k in "abcde"},
    "edge_cotangents": {"test_edge_cotangents_hidden", "test_edge_cotangents_cost_hidden"},
    "draw_gradient_flow": {"test_draw_gradient_flow_hidden"},
}
DERIVATIONS = {"derivation_gradient_sum"}


@dataclass(frozen=True)
class Mistake(CatalogMistake):
    CATALOG = catalog

    name: str  # its wrong solution cell is catalog.MISTAKES[name]
    fails: str  # the hidden test cell that must fail
    says: tuple  # words the failure message must contain
    batch: int


EDGE = "test_edge_cotangents_hidden"
FLOW = "test_draw_gradient_flow_hidden"

MISTAKES = [
    Mistake("sigmoid's VJP bug reported at p", "test_drawing_a_hidden", ("dL/dp = 2 (p - t)",), 1),
    Mistake(
        "wrong edge reported at the input it comes from",
        "test_drawing_b_hidden",
        ("the kind is right, but not the record", "op that receives it"),
        2,
    ),
    Mistake(
        "shape bug read as a wrong VJP", "test_drawing_c_hidden", ("shape of the gradient",), 3
    ),
    Mistake(
        "missing accumulation read as a wrong VJP",
        "test_drawing_d_hidden",
        ("the record is right, but not the kind", "two arrows"),
        4,
    ),
    Mistake("wrong axis read as a shape bug", "test_drawing_e_hidden", ("one entry per ROW",), 5),
    Mistake("cotangents overwritten (no accumulation)", EDGE, ("SUM of the contributions",), 1),
    Mistake("one contribution per (parent, child) pair", EDGE, ("x - x", "its own edge"), 2),
    Mistake(
        "contributions sent on path by path (exponential)",
        "test_edge_cotangents_cost_hidden",
        ("did not finish", "VJP once"),
        3,
    ),
    Mistake(
        "edge cotangents read from .grad after backward", EDGE, ("changed .grad", "backward"), 4
    ),
    Mistake("grad of ones for a non-scalar root", EDGE, ("must raise ValueError",), 5),
    Mistake(
        "path walked towards the inputs (ancestors of the source)",
        FLOW,
        ("REACHED from source", "forward"),
        1,
    ),
    Mistake("op node of the source coloured red", FLOW, ("not source itself",), 2),
    Mistake("no ValueError for a source outside the graph", FLOW, ("must raise ValueError",), 3),
    Mistake("edges out of the path left gray", FLOW, ("edge colors", "both on the path"), 4),
]

BATCHES = sorted({m.batch for m in MISTAKES})

ALTERNATIVES = catalog.ALTERNATIVES


def cells(kind):
    """Graded test cells ("grade") or code solution cells ("solution"; the derivation is left out)."""
    found = notebook_cells(ASSIGNMENT, kind)
    return {gid: s for gid, s in found.items() if gid not in DERIVATIONS}


@cache
def run(key):
    """One notebook run, cached: "source", "stubs", "release", "batchN", "alt:<name>"."""
    if key == "source":
        replacements = {}
    elif key == "stubs":
        replacements = {gid: stub_source(s) for gid, s in cells("solution").items()}
    elif key == "release":
        replacements = {gid: stub_source(s) for gid, s in cells("solution").items()}
        replacements.update({gid: strip_hidden(s) for gid, s in cells("grade").items()})
    elif key.startswith("alt:"):
        replacements = ALTERNATIVES[key[4:]]
    else:
        replacements = {m.cell: m.source for m in MISTAKES if f"batch{m.batch}" == key}
    return run_notebook(source_notebook(ASSIGNMENT), replacements)


def failures(results):
    return {gid: r.error for gid, r in results.items() if not r.passed}


def test_every_solution_cell_is_graded_by_a_hidden_test():
    assert set(cells("solution")) == set(HIDDEN)
    assert set(notebook_cells(ASSIGNMENT, "solution")) - set(cells("solution")) == DERIVATIONS
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


def test_every_drawing_is_a_png_that_fits_the_page():
    """The drawings of Exercise 1 are PNG attachments (shown in an untrusted notebook), <= 9.5 in."""
    import base64
    import struct

    nb = nbformat.read(str(source_notebook(ASSIGNMENT)), as_version=4)
    attachments = {}
    for c in nb.cells:
        attachments.update(c.get("attachments", {}))
    assert sorted(attachments) == [f"drawing_{k}.png" for k in "ABCDEW"]
    for name, data in attachments.items():
        png = base64.b64decode(data["image/png"])
        width = struct.unpack(">I", png[16:20])[0]
        assert png[:4] == b"\x89PNG" and width <= 912, (name, width)  # 9.5 in at 96 dpi


def test_source_earns_full_marks():
    """Full marks on every autograded cell (the derivation is graded by hand)."""
    results = run("source")
    assert not failures(results), failures(results)
    assert sum(r.points for r in results.values()) == TOTAL_POINTS - MANUAL_POINTS


@pytest.mark.parametrize("key", ["stubs", "release"])
def test_untouched_release_earns_zero(key):
    passing = [gid for gid, r in run(key).items() if r.passed]
    assert not passing, f"graded cells pass with every solution stubbed out: {passing}"


def test_release_keeps_a_visible_call_in_every_hidden_cell():
    for gid, source in cells("grade").items():
        assert "HIDDEN" not in strip_hidden(source), gid
        if gid.endswith("_hidden"):
            visible = [
                ln for ln in strip_hidden(source).splitlines() if ln and not ln.startswith("#")
            ]
            assert visible, f"{gid} keeps only comments in the release"


@pytest.mark.parametrize("mistake", MISTAKES, ids=[m.name for m in MISTAKES])
def test_mistake_is_caught_with_a_diagnostic(mistake):
    result = run(f"batch{mistake.batch}")[mistake.fails]
    assert not result.passed, f"{mistake.fails} passes the wrong implementation '{mistake.name}'"
    for words in mistake.says:
        assert words in result.error, (
            f"{mistake.fails}: the message lacks {words!r}:\n{result.error}"
        )


@pytest.mark.parametrize("batch", BATCHES)
def test_a_mistake_costs_points_only_in_its_own_exercise(batch):
    """Partial credit: a wrong cell fails only the hidden tests of its own exercise."""
    mistakes = [m for m in MISTAKES if m.batch == batch]
    allowed = set().union(*(HIDDEN[m.cell] for m in mistakes))
    failed = {gid for gid in failures(run(f"batch{batch}")) if gid.endswith("_hidden")}
    assert failed <= allowed, failed - allowed
    assert {m.fails for m in mistakes} <= failed


def test_batches_replace_each_solution_cell_at_most_once():
    for batch in BATCHES:
        replaced = [m.cell for m in MISTAKES if m.batch == batch]
        assert len(replaced) == len(set(replaced)), (batch, replaced)


@pytest.mark.parametrize("name", sorted(ALTERNATIVES))
def test_alternative_correct_answers_pass(name):
    results = run(f"alt:{name}")
    assert not failures(results), failures(results)


def test_every_mistake_of_the_catalog_is_checked_here():
    """The demo class draws from the catalog: each of its mistakes is proven caught above."""
    assert sorted(m.name for m in MISTAKES) == sorted(catalog.MISTAKES)
    for name, cells in ALTERNATIVES.items():
        assert set(cells) == set(HIDDEN), name
