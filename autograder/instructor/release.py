"""Generate the student release and prove it grades as it should.

For every assignment: `release/` equals what nbgrader generates from
`source/`; the source notebook (with solutions) earns full marks and the
untouched release zero, both under stock `nbgrader autograde` (test cells in
the student's kernel, as in JupyterLab) and under `grade` (test cells in the
judge, kernels sandboxed), with the same score in every cell.

Cells graded by hand (nbgrader "manually graded answer" cells: a derivation in
markdown, the model answer in `source/`) cannot earn marks automatically: the
model answer must be waiting for a hand grade and the untouched answer must
score 0 without one. The locked question cell right above must hold the rubric
in a mark-scheme region (removed from the release, shown in the formgrader).
"""

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .course import (
    CourseError,
    assignments,
    nbgrader_api,
    notebook_json,
    run,
    scratch_course,
    stamp_language_info,
)

SOLUTION_STUDENT = "solution"
UNTOUCHED_STUDENT = "untouched"
JUDGED = "-judged"  # the same notebooks, graded by `grade`


@dataclass
class Validation:
    assignment: str
    solution_score: float = 0.0
    untouched_score: float = 0.0
    max_score: float = 0.0
    manual_points: float = 0.0  # of max_score, graded by hand
    problems: list = field(default_factory=list)

    @property
    def ok(self):
        return not self.problems


def generate(root, assignment_ids):
    """nbgrader generate_assignment into `root/release/` for each assignment."""
    api = nbgrader_api(root)
    for aid in assignment_ids:
        run(api.generate_assignment(aid, force=True, create=True), f"generate_assignment {aid}")
        stamp_language_info(Path(root) / "release" / aid / f"{aid}.ipynb")
    return [Path(root) / "release" / aid / f"{aid}.ipynb" for aid in assignment_ids]


def _cell_scores(gradebook, aid, student):
    """Submission score, max score and {cell: (score, max_score, needs_manual_grade)}."""
    sub = gradebook.find_submission(aid, student)
    cells = {
        grade.name: (grade.score, grade.max_score, bool(grade.needs_manual_grade))
        for nb in sub.notebooks
        for grade in nb.grades
    }
    return sub.score, sub.max_score, cells


def hand_graded_cells(notebook):
    """{grade_id: source of the cell above} for the cells graded by hand (grade and solution)."""
    import nbformat

    cells = nbformat.read(str(notebook), as_version=4).cells
    return {
        c.metadata.nbgrader["grade_id"]: cells[k - 1].source if k else ""
        for k, c in enumerate(cells)
        if c.metadata.get("nbgrader", {}).get("grade")
        and c.metadata.get("nbgrader", {}).get("solution")
    }


def _has_rubric(question):
    """A mark-scheme region with a line starting "**Rubric" in the question cell's source."""
    begin, end = question.find("BEGIN MARK SCHEME"), question.find("END MARK SCHEME")
    region = question[begin:end] if -1 < begin < end else ""
    return any(line.lstrip().startswith("**Rubric") for line in region.splitlines())


def _check_hand_graded(v, aid, manual, sol, stub):
    """Problems with the cells graded by hand (see the module docstring)."""
    for name, question in sorted(manual.items()):
        v.manual_points += sol[name][1]
        if not _has_rubric(question):
            v.problems.append(
                f"source/{aid}: the hand-graded cell {name} has no rubric: end the question cell "
                "above it with '=== BEGIN MARK SCHEME ===', a line '**Rubric (N points).**', one line "
                "per point, and '=== END MARK SCHEME ==='"
            )
        if not sol[name][2]:
            v.problems.append(
                f"source/{aid}: the model answer in {name} is not left for a hand grade"
            )
        if stub[name][0] or stub[name][2]:
            v.problems.append(
                f"release/{aid}: the untouched answer {name} is not scored 0 automatically"
            )


def _judge(course, aid, sandbox=True):
    """`grade` the two judged copies of `aid` in the scratch course."""
    from ..grading.grader import Grader, Limits, find_submissions

    students = [SOLUTION_STUDENT + JUDGED, UNTOUCHED_STUDENT + JUDGED]
    limits = Limits(sandbox=sandbox)
    Grader(course, limits, force=True, progress=False).grade(
        find_submissions(course, [aid], students)
    )


def _judge_error(course, aid, what, cell):
    """The judged cell's error message, for a validation problem."""
    import nbformat

    student = (SOLUTION_STUDENT if what == "solution" else UNTOUCHED_STUDENT) + JUDGED
    path = Path(course) / "autograded" / student / aid / f"{aid}.ipynb"
    if not path.is_file():
        return "not graded"
    for c in nbformat.read(str(path), as_version=4).cells:
        if c.metadata.get("nbgrader", {}).get("grade_id") == cell:
            errors = [o for o in c.get("outputs", []) if o.get("output_type") == "error"]
            if errors:
                return f"{errors[0].ename}: {errors[0].evalue[:300]}"
    return "no error shown"


def validate(root, assignment_ids, check_release=True, judged=True):
    """Autograde the source and the untouched release in a scratch course."""
    from nbgrader.api import Gradebook

    results = []
    with tempfile.TemporaryDirectory(prefix="autograder-validate-") as tmp:
        with scratch_course(root, tmp) as course:
            api = nbgrader_api(course)
            # stock autograde's kernels on IPC sockets (absolute paths) rather than TCP ports
            (Path(tmp) / "ipc").mkdir()
            api.config.KernelManager.transport = "ipc"
            api.config.KernelManager.ip = str(Path(tmp) / "ipc" / "kernel")
            for aid in assignment_ids:
                v = Validation(aid)
                results.append(v)
                run(api.generate_assignment(aid, force=True, create=True), f"generate {aid}")
                generated = course / "release" / aid / f"{aid}.ipynb"
                stamp_language_info(generated)
                committed = Path(root) / "release" / aid / f"{aid}.ipynb"
                if check_release and (
                    not committed.is_file() or notebook_json(committed) != notebook_json(generated)
                ):
                    v.problems.append(
                        f"release/{aid} does not match what source/{aid} generates: "
                        "run `python -m autograder release` and commit release/."
                    )
                for student, nb in [
                    (SOLUTION_STUDENT, course / "source" / aid / f"{aid}.ipynb"),
                    (UNTOUCHED_STUDENT, generated),
                ]:
                    for name in (student, student + JUDGED):
                        dest = course / "submitted" / name / aid
                        dest.mkdir(parents=True, exist_ok=True)
                        shutil.copy2(nb, dest / f"{aid}.ipynb")
                    run(api.autograde(aid, student, force=True, create=True), f"autograde {aid}")
                if judged:
                    _judge(course, aid)
                with Gradebook(api.coursedir.db_url) as gb:
                    v.solution_score, v.max_score, sol = _cell_scores(gb, aid, SOLUTION_STUDENT)
                    v.untouched_score, _, stub = _cell_scores(gb, aid, UNTOUCHED_STUDENT)
                    if judged:
                        _, _, sol_j = _cell_scores(gb, aid, SOLUTION_STUDENT + JUDGED)
                        _, _, stub_j = _cell_scores(gb, aid, UNTOUCHED_STUDENT + JUDGED)
                    else:
                        sol_j, stub_j = sol, stub
                manual = hand_graded_cells(course / "source" / aid / f"{aid}.ipynb")
                _check_hand_graded(v, aid, manual, sol, stub)
                for name, (score, max_score, _) in sorted(sol.items()):
                    if name not in manual and score != max_score:
                        v.problems.append(
                            f"source/{aid}: the solution earns {score:g}/{max_score:g} on {name}"
                        )
                for name, (score, _, _) in sorted(stub.items()):
                    if score and name not in manual:
                        v.problems.append(
                            f"release/{aid}: the untouched stub earns {score:g} points on {name}"
                        )
                for what, stock, ours in (("solution", sol, sol_j), ("stub", stub, stub_j)):
                    for name in sorted(stock):
                        if stock[name] != ours.get(name):
                            v.problems.append(
                                f"source/{aid}: the {what} earns {stock[name][0]:g} on {name} in the "
                                f"student's kernel but {ours.get(name, (None,))[0]} when judged "
                                f"({_judge_error(course, aid, what, name)})"
                            )
                if v.max_score == 0:
                    v.problems.append(f"source/{aid} has no graded cells with points")
    return results


def release(root, names=None):
    """Generate release/ and validate it; raise CourseError listing every problem."""
    ids = assignments(root, names)
    if not ids:
        raise CourseError(f"no assignments in {Path(root) / 'source'}")
    generate(root, ids)
    return ids, validate(root, ids)
