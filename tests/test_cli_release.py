"""`python -m autograder release/validate` on small courses, with real nbgrader."""

import subprocess
import sys

import nbformat

from autograder.cli import main

from course_fixtures import make_course, make_notebook


def test_release_generates_students_versions_and_validates(tmp_path, capsys):
    course = make_course(tmp_path, {"00_demo": make_notebook()})
    assert main(["--root", str(course), "release"]) == 0
    out = capsys.readouterr().out
    assert "00_demo" in out and "3/3" in out and "0/3" in out
    released = nbformat.read(str(course / "release/00_demo/00_demo.ipynb"), as_version=4)
    text = "\n".join(c.source for c in released.cells)
    assert "raise NotImplementedError()" in text
    assert "np.exp(x)" not in text and "BEGIN HIDDEN TESTS" not in text
    # the gradebook holds the assignment and its graded cells, so the formgrader lists them
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        (notebook,) = gb.find_assignment("00_demo").notebooks
        assert notebook.max_score == 3 and len(notebook.grade_cells) >= 2
    # validate writes nothing and agrees
    assert main(["--root", str(course), "validate"]) == 0


def test_validate_reports_stale_release_wrong_solution_and_free_points(tmp_path, capsys):
    course = make_course(tmp_path, {"00_demo": make_notebook()})
    assert main(["--root", str(course), "release"]) == 0
    wrong = make_notebook(
        solution="def exp_vjp(dldf, x):\n    ### BEGIN SOLUTION\n    return (np.exp(x),)\n    ### END SOLUTION",
        extra_test="assert np.exp(0) == 1  # calls no student code: a free point",
    )
    nbformat.write(wrong, str(course / "source/00_demo/00_demo.ipynb"))
    capsys.readouterr()
    assert main(["--root", str(course), "validate"]) == 1
    out = capsys.readouterr().out
    assert "release/00_demo does not match" in out
    assert "the solution earns 0/2 on test_exp_hidden" in out
    assert "the untouched stub earns 1 points on test_extra" in out


def test_clear_errors_for_missing_course_and_assignment(tmp_path, capsys):
    assert main(["--root", str(tmp_path), "validate"]) == 0  # no source/: nothing to do
    course = make_course(tmp_path, {"00_demo": make_notebook()})
    assert main(["--root", str(course), "validate", "99_nope"]) == 2
    assert "no assignment 99_nope" in capsys.readouterr().err


def test_help_lists_the_commands():
    out = subprocess.run(
        [sys.executable, "-m", "autograder", "--help"], capture_output=True, text=True, check=True
    ).stdout
    for command in ("release", "validate", "demo"):
        assert command in out


def _with_derivation(nb, answer, rubric):
    """`nb` with a question cell (and its rubric) and a hand-graded markdown answer cell."""
    question = nbformat.v4.new_markdown_cell(
        "Derive the VJP of exp (2 points, graded by hand)." + rubric
    )
    question.metadata.nbgrader = {
        "grade": False,
        "solution": False,
        "locked": True,
        "task": False,
        "grade_id": "derivation_exp_md",
        "schema_version": 3,
    }
    cell = nbformat.v4.new_markdown_cell(answer)
    cell.metadata.nbgrader = {
        "grade": True,
        "solution": True,
        "locked": False,
        "task": False,
        "points": 2,
        "grade_id": "derivation_exp",
        "schema_version": 3,
    }
    nb.cells += [question, cell]
    return nb


def test_hand_graded_derivations_wait_for_a_grade_and_need_a_rubric(tmp_path, capsys):
    model = "**Model answer.** $J = \\operatorname{diag}(e^x)$, so $dldx = dldf \\odot e^x$."
    rubric = (
        "\n\n=== BEGIN MARK SCHEME ===\n**Rubric (2 points).**\n- 1 point: the Jacobian is diagonal"
        "\n- 1 point: the result\n=== END MARK SCHEME ==="
    )
    course = make_course(tmp_path, {"00_demo": _with_derivation(make_notebook(), model, rubric)})
    assert main(["--root", str(course), "release"]) == 0
    out = capsys.readouterr().out
    # 3 points autograded, 2 by hand; the untouched answer scores 0 without a hand grade
    assert "3/5 (+2 by hand)" in out and "0/5" in out
    released = nbformat.read(str(course / "release/00_demo/00_demo.ipynb"), as_version=4)
    text = "\n".join(c.source for c in released.cells)
    assert "Rubric" not in text and "Model answer" not in text and "YOUR ANSWER HERE" in text

    # graded, the question cell is restored from the gradebook: the formgrader shows the rubric
    submitted = course / "submitted/alice/00_demo"
    submitted.mkdir(parents=True)
    released.cells[-1].source = "$dldx = dldf \\odot e^x$"
    nbformat.write(released, str(submitted / "00_demo.ipynb"))
    assert main(["--root", str(course), "grade", "--quiet"]) == 0
    graded = nbformat.read(str(course / "autograded/alice/00_demo/00_demo.ipynb"), as_version=4)
    assert "**Rubric (2 points).**" in graded.cells[-2].source
    assert graded.cells[-1].source == "$dldx = dldf \\odot e^x$"

    nb = _with_derivation(make_notebook(), model, "\n\n**Rubric (2 points).** (not hidden)")
    nbformat.write(nb, str(course / "source/00_demo/00_demo.ipynb"))
    assert main(["--root", str(course), "release"]) == 1
    assert "derivation_exp has no rubric" in capsys.readouterr().out
