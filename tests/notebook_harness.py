"""Run an nbgrader source notebook with some solution cells replaced.

Used to prove that hidden tests fail a wrong answer (and pass the right one)
without going through the gradebook: execute the notebook with nbclient and
read, for each graded test cell, whether it raised.
"""

import re
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class CellResult:
    grade_id: str
    points: float
    passed: bool
    error: str
    stderr: str = ""  # what the cell wrote to stderr (stock nbgrader scores such a cell 0)


def source_notebook(assignment):
    return ROOT / "source" / assignment / f"{assignment}.ipynb"


def _grade_id(cell):
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def run_notebook(path, replacements=None, timeout=120):
    """Execute `path` with solution cells replaced: {grade_id: new source}.

    Returns {grade_id: CellResult} for every graded test cell.
    """
    nb = nbformat.read(str(path), as_version=4)
    replacements = dict(replacements or {})
    for cell in nb.cells:
        gid = _grade_id(cell)
        if gid in replacements:
            cell.source = replacements.pop(gid)
    if replacements:
        raise KeyError(f"no cells with grade_id {sorted(replacements)} in {path}")
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(Path(path).parent)}},
    )
    client.execute()
    results = {}
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("grade") and not meta.get("solution"):
            errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
            text = "\n".join(f"{o['ename']}: {o['evalue']}" for o in errors)
            stderr = "".join(
                o.get("text", "")
                for o in cell.get("outputs", [])
                if o.get("output_type") == "stream" and o.get("name") == "stderr"
            )
            results[meta["grade_id"]] = CellResult(
                meta["grade_id"], meta.get("points", 0), not errors, text, stderr
            )
    return results


_SOLUTION_BLOCK = re.compile(
    r"^([ \t]*)### BEGIN SOLUTION\n.*?^[ \t]*### END SOLUTION[ \t]*$", re.M | re.S
)
_HIDDEN_BLOCK = re.compile(
    r"^[ \t]*### BEGIN HIDDEN TESTS\n.*?^[ \t]*### END HIDDEN TESTS[ \t]*\n?", re.M | re.S
)


def stub_source(source):
    """What nbgrader's release leaves of a solution cell: each solution block becomes a stub."""
    return _SOLUTION_BLOCK.sub(r"\1# YOUR CODE HERE\n\1raise NotImplementedError()", source)


def strip_hidden(source):
    """What the release keeps of a test cell: the hidden block is removed."""
    return _HIDDEN_BLOCK.sub("", source)


def notebook_cells(assignment, kind):
    """{grade_id: source} of the solution cells ("solution") or graded test cells ("grade")."""
    nb = nbformat.read(str(source_notebook(assignment)), as_version=4)
    return {
        c.metadata["nbgrader"]["grade_id"]: c.source
        for c in nb.cells
        if c.metadata.get("nbgrader", {}).get(kind)
        and not (kind == "grade" and c.metadata["nbgrader"]["solution"])
    }


class CatalogMistake:
    """Base of a test module's `Mistake` dataclass whose wrong cell is in a demo/ catalog.

    The subclass sets CATALOG (the demo/mistakes_<assignment>.py module) and has a `name`
    field; the wrong solution cell is CATALOG.MISTAKES[name], one {grade_id: source}.
    """

    CATALOG = None

    @property
    def cell(self):
        """grade_id of the solution cell it replaces."""
        (cell,) = self.CATALOG.MISTAKES[self.name]
        return cell

    @property
    def source(self):
        return self.CATALOG.MISTAKES[self.name][self.cell]
