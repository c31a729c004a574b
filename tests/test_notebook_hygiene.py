"""Stored notebooks are product: no timings, no memory addresses, no stray outputs."""

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
LECTURES = sorted((ROOT / "notebooks").glob("*.ipynb"))
SOURCES = sorted((ROOT / "source").glob("*/*.ipynb"))
ADDRESS = re.compile(r"\bat 0x[0-9a-f]{6,}")


def _output_text(cell) -> str:
    parts = []
    for out in cell.get("outputs", []):
        parts.append(out.get("text", ""))
        parts.extend(str(v) for v in out.get("data", {}).values())
    return "".join(parts)


@pytest.mark.parametrize("path", LECTURES, ids=lambda p: p.name)
def test_lecture_is_executed_without_timings_or_addresses(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    counts = [c.execution_count for c in code if c.source.strip()]
    assert counts == list(range(1, len(counts) + 1)), "re-run top to bottom in a fresh kernel"
    for cell in code:
        assert "execution" not in cell.metadata, "timestamps: run scripts/execute_lectures.py"
        assert not ADDRESS.search(_output_text(cell)), cell.source[:80]


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.parent.name)
def test_source_notebooks_store_no_outputs(path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, cell.source[:80]


RELEASES = sorted((ROOT / "release").glob("*/*.ipynb"))
# The course speaks for itself: no talk of documents students never saw, no links to solutions.
FOREIGN = re.compile(
    r"\bseed (code|documents?|text)\b|\bin the seed\b|\bthe notes\b|\blecture notes\b|\bslides?\b"
    r"|\bslide deck\b|\bOCR\b|\bcorrections?\b|\breview sheet\b|\btypos?\b",
    re.I,
)
SOURCE_LINK = re.compile(r"(\.\./)*source/\d\d_")


@pytest.mark.parametrize("path", LECTURES + RELEASES, ids=lambda p: p.name)
def test_students_read_no_foreign_documents_and_no_links_to_solutions(path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        for text in (cell.source, _output_text(cell) if cell.cell_type == "code" else ""):
            text = re.sub(r"data:image/[a-z+]+;base64,[A-Za-z0-9+/=]+", "", text)
            found = FOREIGN.search(text) or SOURCE_LINK.search(text)
            assert not found, f"{found.group(0)!r} in: {cell.source[:80]!r}"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.parent.name)
def test_run_all_runs_past_a_failing_test_cell(path):
    """JupyterLab's Run All stops at the first cell that raises, unless the cell is tagged
    raises-exception: a student then sees every failing test's message in one run. nbgrader
    grades a test cell by its error output, whatever its tags."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("grade") and not meta.get("solution"):
            assert "raises-exception" in cell.metadata.get("tags", []), meta["grade_id"]


@pytest.mark.parametrize("path", LECTURES + RELEASES, ids=lambda p: p.name)
def test_every_figure_shows_in_an_untrusted_notebook(path):
    """JupyterLab shows no stored SVG or HTML from an untrusted notebook (a student's copy is
    never trusted), but does show PNG: every SVG output has a PNG beside it, and markdown cells
    embed no SVG."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            assert "<svg" not in cell.source and "image/svg" not in cell.source, cell.source[:80]
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if "image/svg+xml" in data:
                assert "image/png" in data, f"an SVG without a PNG in: {cell.source[:80]!r}"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.parent.name)
def test_every_assignment_has_a_derivation_graded_by_hand(path):
    """A manually graded markdown answer (the model answer, no rubric) right below a locked
    question cell that states its points and holds the rubric, one line per point, in a mark
    scheme (removed from the release, shown in the formgrader)."""
    cells = nbformat.read(path, as_version=4).cells
    found = 0
    for k, answer in enumerate(cells):
        meta = answer.metadata.get("nbgrader", {})
        if not (meta.get("grade") and meta.get("solution")):
            continue
        found += 1
        question, points = cells[k - 1], meta["points"]
        assert answer.cell_type == question.cell_type == "markdown", meta["grade_id"]
        assert (
            question.metadata["nbgrader"]["locked"] and not question.metadata["nbgrader"]["grade"]
        )
        stated = question.source.split("=== BEGIN MARK SCHEME ===")[0]
        assert "graded by hand" in stated and f"{points:g} points" in stated, meta["grade_id"]
        assert answer.source.startswith("**Model answer.**") and "Rubric" not in answer.source
        scheme = question.source.split("=== BEGIN MARK SCHEME ===")[1]
        assert scheme.rstrip().endswith("=== END MARK SCHEME ==="), meta["grade_id"]
        assert f"**Rubric ({points:g} points).**" in scheme, meta["grade_id"]
        assert scheme.count("\n- 1 point") == points, meta["grade_id"]
    assert found, "no derivation graded by hand"


def _code_lines(text):
    """Non-blank lines that are not comments."""
    return [
        ln.rstrip() for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")
    ]


@pytest.mark.parametrize("aid", ["06_graph_drawing", "07_training"])
def test_a_provided_engine_is_the_course_engine(aid):
    """Assignments after 05 carry notebooks/engine.py verbatim in read-only cells: one engine."""
    engine = (ROOT / "notebooks" / "engine.py").read_text()
    engine = engine.split("__all__ = [", 1)[1].split("]\n", 1)[1]
    nb = nbformat.read(ROOT / "source" / aid / f"{aid}.ipynb", as_version=4)
    provided = {
        c.metadata["nbgrader"]["grade_id"]: c.source for c in nb.cells if "nbgrader" in c.metadata
    }
    assert _code_lines(provided["op_table"] + "\n" + provided["engine"]) == _code_lines(engine)


@pytest.mark.parametrize(
    "path", LECTURES + SOURCES + RELEASES, ids=lambda p: f"{p.parent.parent.name}/{p.name}"
)
def test_opening_a_notebook_does_not_mark_it_modified(path):
    """JupyterLab writes the kernel's language_info on open; a stored difference is a change."""
    from autograder.instructor.course import kernel_language_info

    stored = dict(nbformat.read(path, as_version=4).metadata.get("language_info", {}))
    expected = kernel_language_info()
    stored.pop("version", None), expected.pop("version")  # the machine's Python, not the course's
    assert stored == expected, "store it: autograder.instructor.course.stamp_language_info"
    assert nbformat.read(path, as_version=4).metadata.kernelspec.name == "python3"
