"""Assignment 06 (graph drawing): the hidden tests catch common mistakes and accept correct variants.

* the source notebook (with solutions) earns full marks, and the untouched release earns zero;
* realistic wrong implementations of trace, node_label and draw_dot fail the matching hidden test
  cell with a diagnostic that says what is wrong;
* other correct implementations (Kahn's algorithm, a depth-first search with a stack of iterators,
  other formatting code, rankdir set with dot.attr, another statement order) pass every cell.

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
TOTAL_POINTS = 15

HIDDEN = {
    "trace": {"test_trace_hidden", "test_trace_deep_hidden"},
    "node_label": {"test_node_label_hidden"},
    "draw_dot": {"test_draw_dot_hidden", "test_draw_dot_rankdir_hidden"},
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
        "recursive trace (micrograd's build_topo)",
        "test_trace_deep_hidden",
        ("RecursionError", "explicit stack"),
        1,
    ),
    Mistake("label without the gradient", "test_node_label_hidden", ("no gradient field",), 1),
    Mistake("node names from id()", "test_draw_dot_hidden", ("n0", "never id(node)"), 1),
    Mistake(
        "iterative trace without a visited set",
        "test_trace_hidden",
        ("appears 2 times", "visited set"),
        2,
    ),
    Mistake(
        "label at numpy's default precision", "test_node_label_hidden", ("precision=4", "3.1416"), 2
    ),
    Mistake(
        "draw_dot without op nodes (edges between records)",
        "test_draw_dot_hidden",
        ("no op nodes", "parent -> n<k>_op -> n<k>"),
        5,
    ),
    Mistake(
        "edges reversed (child, parent)",
        "test_trace_hidden",
        ("edges are reversed", "(parent, child)"),
        3,
    ),
    Mistake("label ignores the default name", "test_node_label_hidden", ("{ n4 |",), 3),
    Mistake(
        "rankdir not validated",
        "test_draw_dot_rankdir_hidden",
        ("must raise ValueError", "'LR' and 'TB'"),
        3,
    ),
    Mistake("pre-order trace (root first)", "test_trace_hidden", ("root must come last",), 4),
    Mistake(
        "rankdir ignored (always LR)",
        "test_draw_dot_rankdir_hidden",
        ("rankdir='TB'", "found ['LR']"),
        4,
    ),
    Mistake(
        "rankdir checked with assert (no message)",
        "test_draw_dot_rankdir_hidden",
        ("raised AssertionError", "must raise ValueError", "not an assert"),
        2,
    ),
]

BATCHES = sorted({m.batch for m in MISTAKES})

ALTERNATIVES = catalog.ALTERNATIVES


def cells(kind):
    return notebook_cells(ASSIGNMENT, kind)


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


@pytest.mark.parametrize("mistake", MISTAKES, ids=[m.name for m in MISTAKES])
def test_mistake_costs_nothing_in_the_other_exercises(mistake):
    """A wrong node_label or draw_dot keeps the points of trace; a wrong trace keeps node_label's."""
    results = run(f"batch{mistake.batch}")
    cells_in_batch = {m.cell for m in MISTAKES if m.batch == mistake.batch}
    untouched = {"trace", "node_label", "draw_dot"} - cells_in_batch
    if "trace" in cells_in_batch:  # draw_dot uses the student's trace
        untouched.discard("draw_dot")
    for cell in untouched:
        for gid in HIDDEN[cell]:
            assert results[gid].passed, (
                f"{gid} fails although {cell} is correct: {results[gid].error}"
            )


@pytest.mark.parametrize("name", sorted(ALTERNATIVES))
def test_alternative_correct_answers_pass(name):
    results = run(f"alt:{name}")
    assert not failures(results), failures(results)


def test_every_mistake_of_the_catalog_is_checked_here():
    """The demo class draws from the catalog: each of its mistakes is proven caught above."""
    assert sorted(m.name for m in MISTAKES) == sorted(catalog.MISTAKES)
    for name, cells in ALTERNATIVES.items():
        assert set(cells) == set(HIDDEN), name
