"""The course's grades as plain data, read once through nbgrader's Gradebook.

`feedback` and `export` both start here: every assignment in the gradebook
(its notebooks and graded cells, in notebook order), every student, and for
each student x assignment the scores per cell plus what `grade` recorded about
the submission (`autograder.status`): graded, ungradable (with the reason) or
missing. Everything is copied out of the database session, so callers never
touch SQLAlchemy objects.

The gradebook does not store the order of cells in a notebook, so it is taken
from the notebook files (source/, else release/, else the autograded copy);
cells found in none of them come last, by name.
"""

from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from .course import CourseError, load_config
from .status import GRADED, MISSING, read_status

TEST, MANUAL, TASK = "test", "manual", "task"


@dataclass
class CellInfo:
    """A graded cell of an assignment's notebook.

    kind: "test" (an autograded test cell), "manual" (a solution cell or a
    markdown cell that is also graded, scored by hand) or "task"."""

    notebook: str
    name: str
    max_score: float
    kind: str


@dataclass
class AssignmentInfo:
    name: str
    notebooks: list
    cells: list  # CellInfo, notebook by notebook, in notebook order

    @property
    def max_score(self):
        return sum(c.max_score for c in self.cells)

    @property
    def tests(self):
        return [c for c in self.cells if c.kind == TEST]


@dataclass
class CellResult:
    notebook: str
    name: str
    score: float
    max_score: float
    needs_manual_grade: bool
    kind: str

    @property
    def passed(self):
        return self.score == self.max_score


@dataclass
class SubmissionResult:
    student: str
    assignment: str
    status: str  # graded | ungradable | missing
    reason: str = ""
    score: float = 0.0  # raw_score minus the late penalty, as nbgrader's export
    max_score: float = 0.0
    raw_score: float = 0.0
    in_gradebook: bool = False
    recorded: bool = False  # `grade` wrote a status record (autograder.json)
    late_penalty: float = 0.0
    cells: list = field(default_factory=list)  # CellResult, in notebook order

    @property
    def percent(self):
        return 100.0 * self.score / self.max_score if self.max_score else 0.0

    @property
    def needs_manual_grade(self):
        return any(c.needs_manual_grade for c in self.cells)

    @property
    def submitted(self):
        """In the gradebook or recorded by `grade` (even as ungradable or missing)."""
        return self.in_gradebook or self.recorded


@dataclass
class CourseResults:
    root: Path
    course_id: str
    directories: dict  # source, release, autograded, feedback, submitted -> folder name
    assignments: list  # AssignmentInfo, by name
    students: list  # student ids, sorted
    submissions: dict  # (student, assignment) -> SubmissionResult

    def folder(self, which, *parts):
        return self.root.joinpath(self.directories[which], *parts)


def course_settings(root):
    """(db_url, course_id, folder names) from the course's nbgrader_config.py."""
    from nbgrader.coursedir import CourseDirectory

    coursedir = CourseDirectory(config=load_config(root))
    coursedir.root = str(root)
    names = {
        which: getattr(coursedir, f"{which}_directory")
        for which in ("source", "release", "submitted", "autograded", "feedback")
    }
    return coursedir.db_url, coursedir.course_id, names


def _notebook_order(paths):
    """grade_id -> position, from the first notebook file that exists."""
    for path in paths:
        try:
            nb = nbformat.read(str(path), as_version=4)
        except (OSError, ValueError):
            continue
        order = {}
        for cell in nb.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id is not None and grade_id not in order:
                order[grade_id] = len(order)
        return order
    return {}


def _kind(cell, solution_names):
    from nbgrader.api import TaskCell

    if isinstance(cell, TaskCell):
        return TASK
    if cell.name in solution_names or cell.cell_type != "code":
        return MANUAL
    return TEST


def _read_assignment(gb, root, names, aid):
    assignment = gb.find_assignment(aid)
    notebooks, cells = [], []
    for nb in sorted(assignment.notebooks, key=lambda n: n.name):
        notebooks.append(nb.name)
        order = _notebook_order(
            [
                root / names["source"] / aid / f"{nb.name}.ipynb",
                root / names["release"] / aid / f"{nb.name}.ipynb",
            ]
        )
        solution_names = {c.name for c in nb.solution_cells}
        graded = list(nb.grade_cells) + list(nb.task_cells)
        graded.sort(key=lambda c: (order.get(c.name, len(order)), c.name))
        cells += [
            CellInfo(nb.name, c.name, float(c.max_score), _kind(c, solution_names)) for c in graded
        ]
    return AssignmentInfo(aid, notebooks, cells)


def _read_submission(gb, root, info, student):
    from nbgrader.api import MissingEntry

    record = read_status(root, student, info.name)
    result = SubmissionResult(student, info.name, MISSING, max_score=info.max_score)
    try:
        sub = gb.find_submission(info.name, student)
    except MissingEntry:
        sub = None
    if sub is not None:
        grades = {(nb.name, g.name): g for nb in sub.notebooks for g in nb.grades}
        for c in info.cells:
            g = grades.get((c.notebook, c.name))
            result.cells.append(
                CellResult(
                    c.notebook,
                    c.name,
                    float(g.score) if g is not None else 0.0,
                    c.max_score,
                    bool(g.needs_manual_grade) if g is not None else True,
                    c.kind,
                )
            )
        result.in_gradebook = True
        result.status = GRADED
        result.raw_score = float(sub.score)
        result.late_penalty = float(sub.late_submission_penalty or 0.0)
        result.score = max(0.0, result.raw_score - result.late_penalty)
    else:
        result.reason = "no submission"
    if record is not None:
        result.status, result.reason = record.status, record.reason
        result.recorded = True
    return result


def check_known(what, wanted, known):
    """CourseError naming the ids in `wanted` that are not in `known`."""
    unknown = sorted(set(wanted or ()) - set(known))
    if unknown:
        raise CourseError(
            f"no {what} {', '.join(unknown)} in the gradebook (found: {', '.join(known) or 'none'})"
        )


def read_results(root, assignments=None, students=None):
    """Everything `feedback` and `export` need, for the given assignment and
    student ids (default: all in the gradebook); CourseError names unknown ids."""
    from nbgrader.api import Gradebook

    root = Path(root).resolve()
    db_url, course_id, names = course_settings(root)
    if db_url.startswith("sqlite:///") and not Path(db_url[len("sqlite:///") :]).is_file():
        raise CourseError(
            f"no gradebook at {db_url[len('sqlite:///') :]}: grade the submissions first "
            "(python -m autograder grade)."
        )
    with Gradebook(db_url, course_id) as gb:
        aids = sorted(a.name for a in gb.assignments)
        sids = sorted(s.id for s in gb.students)
        check_known("assignment", assignments, aids)
        check_known("student", students, sids)
        aids = [a for a in aids if not assignments or a in set(assignments)]
        sids = [s for s in sids if not students or s in set(students)]
        infos = [_read_assignment(gb, root, names, aid) for aid in aids]
        subs = {
            (sid, info.name): _read_submission(gb, root, info, sid)
            for info in infos
            for sid in sids
        }
    return CourseResults(root, course_id, names, infos, sids, subs)


def fmt(x):
    """A score for people: 3, 2.5, 0.33."""
    x = round(float(x), 2)
    return f"{x:g}"
