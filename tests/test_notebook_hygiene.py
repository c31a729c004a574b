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
