"""A tiny nbgrader course, built in a temporary folder, for CLI tests."""

import shutil
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent

SOLUTION = "def exp_vjp(dldf, x):\n    ### BEGIN SOLUTION\n    return (dldf * np.exp(x),)\n    ### END SOLUTION"
VISIBLE = "ag.assert_vjp(exp_vjp, np.exp, (np.ones(3),))"
HIDDEN = (
    "# Hidden tests for exp_vjp\n### BEGIN HIDDEN TESTS\n"
    "ag.assert_vjp_cases(exp_vjp, np.exp, ag.unary_cases(np.exp, seed=3, domain='bounded'))\n"
    "### END HIDDEN TESTS"
)


def _meta(**kw):
    meta = {"grade": False, "solution": False, "locked": False, "task": False}
    meta.update(kw, schema_version=3)
    return {"nbgrader": meta}


def make_notebook(solution=SOLUTION, visible=VISIBLE, hidden=HIDDEN, extra_test=None):
    nb = nbformat.v4.new_notebook()
    nb.metadata.kernelspec = {
        "name": "python3",
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }
    nb.cells = [
        nbformat.v4.new_code_cell(
            "import numpy as np\nimport autograder as ag",
            metadata=_meta(locked=True, grade_id="setup"),
        ),
        nbformat.v4.new_code_cell(solution, metadata=_meta(solution=True, grade_id="exp_vjp")),
        nbformat.v4.new_code_cell(
            visible, metadata=_meta(grade=True, locked=True, grade_id="test_exp_visible", points=1)
        ),
        nbformat.v4.new_code_cell(
            hidden, metadata=_meta(grade=True, locked=True, grade_id="test_exp_hidden", points=2)
        ),
    ]
    if extra_test:
        nb.cells.append(
            nbformat.v4.new_code_cell(
                extra_test, metadata=_meta(grade=True, locked=True, grade_id="test_extra", points=1)
            )
        )
    return nb


def make_course(tmp_path, notebooks):
    """A course at tmp_path with the project's nbgrader_config.py and `notebooks`."""
    shutil.copy2(ROOT / "nbgrader_config.py", tmp_path / "nbgrader_config.py")
    for aid, nb in notebooks.items():
        folder = tmp_path / "source" / aid
        folder.mkdir(parents=True)
        nbformat.write(nb, str(folder / f"{aid}.ipynb"))
    return tmp_path
