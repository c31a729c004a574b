"""Where each cell of a notebook runs when it is graded.

* the student's cells, and provided cells marked `"autograder": {"runs_in":
  "kernel"}` in source/ (code the student's program builds on, such as the
  engine's Tensor class): in the student's kernel only;
* the test cells (nbgrader grade cells that are not answers): in the judge
  only, with the kernel serving as an oracle;
* the other provided (locked) code cells (imports, helpers, reference
  functions): in both, so the tests use the judge's own copy and the
  student's code its own.

Roles and the source the judge runs come from the gradebook and source/,
never from a submission, so a submission cannot smuggle code into the judge.
"""

from pathlib import Path

import nbformat

KERNEL, JUDGE, BOTH = "kernel", "judge", "both"
SERVE = '__import__("autograder.oracle.kernel_side", fromlist=["serve"]).serve()'


def runs_in(cell):
    """The `runs_in` an instructor set on a cell of source/ (or None)."""
    return cell.get("metadata", {}).get("autograder", {}).get("runs_in")


def judged_cells(gradebook, root, assignment, notebook):
    """{grade_id: (JUDGE or BOTH, trusted source)} for the judge's cells."""
    nb_row = gradebook.find_notebook(notebook, assignment)
    tests = {c.name for c in nb_row.grade_cells if c.cell_type == "code"}
    answers = {c.name for c in nb_row.solution_cells}
    kernel_only = set()
    path = Path(root) / "source" / assignment / f"{notebook}.ipynb"
    if path.is_file():
        for cell in nbformat.read(str(path), as_version=4).cells:
            if runs_in(cell) == KERNEL:
                kernel_only.add(cell.metadata.get("nbgrader", {}).get("grade_id"))
    roles = {}
    for cell in nb_row.source_cells:
        if cell.cell_type != "code" or cell.name in answers:
            continue
        if cell.name in tests:
            roles[cell.name] = (JUDGE, cell.source)
        elif cell.locked and cell.name not in kernel_only:
            roles[cell.name] = (BOTH, cell.source)
    return roles
