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
