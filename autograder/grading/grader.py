"""Grade a whole class into nbgrader's gradebook, several kernels at a time.

Per notebook this runs the pipeline of stock `nbgrader autograde` with
nbgrader's own preprocessors (sanitize: ClearOutput, DeduplicateIds,
OverwriteKernelspec, OverwriteCells, CheckCellMetadata; then Execute,
IgnorePattern, LimitOutput, SaveAutoGrades, AssignLatePenalties), so honest
submissions get the cell scores stock nbgrader gives. Deliberate differences:

1. test cells run in a trusted judge process, the student's kernel serving
   only as an oracle (execution.py, autograder.judge), so no submission can
   change a verdict;
2. kernels and judges run in OS sandboxes (sandbox.py) under memory, CPU,
   process, file and disk limits, with no network and no view of the course;
3. output on stderr (a warning) does not turn a passing test cell into 0;
4. a notebook that cannot be graded (not a notebook, cells deleted or
   duplicated, kernel crash, over its time budget or memory limit) is
   recorded as ungradable with the reason (score 0, every cell flagged for
   manual grading) instead of stopping or half-grading the run;
5. each notebook has a time budget as a whole, on top of the per-cell timeout;
6. what a kernel displayed is kept as plain text and images only (sanitize.py).

The coordinator is one process with one asyncio loop: kernels run in
parallel, while gradebook writes stay sequential (SQLite has one writer).
"""

import asyncio
import hashlib
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbconvert.preprocessors import ClearMetadataPreprocessor
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.preprocessors import (
    AssignLatePenalties,
    CheckCellMetadata,
    ClearOutput,
    DeduplicateIds,
    IgnorePattern,
    LimitOutput,
    OverwriteCells,
    OverwriteKernelspec,
    SaveAutoGrades,
)

from .. import __version__
from ..instructor.course import CourseError, load_config, nbgrader_api
from ..instructor.progress import Progress
from ..instructor.status import (
    GRADED,
    MISSING,
    UNGRADABLE,
    Status,
    read_status,
    status_path,
    write_status,
)
from . import sandbox
from .execution import execute
from .kernels import grading_processes
from .limits import Limits
from .nbgrader_speed import speed_up_nbgrader
from .roles import judged_cells
from .sanitize import sanitize_outputs

MAX_NOTEBOOK_MIB = 50
MAX_FILES_MIB = 50
PACKAGE = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Submission:
    student: str
    assignment: str

    def __str__(self):
        return f"{self.student}/{self.assignment}"


def find_submissions(root, assignments=None, students=None):
    """Every `submitted/<student>/<assignment>/` folder, sorted."""
    submitted = Path(root) / "submitted"
    found = []
    if submitted.is_dir():
        for student_dir in sorted(submitted.iterdir()):
            if not student_dir.is_dir() or (students and student_dir.name not in students):
                continue
            for folder in sorted(student_dir.iterdir()):
                if folder.is_dir() and (not assignments or folder.name in assignments):
                    found.append(Submission(student_dir.name, folder.name))
    return found


def _hash_files(digest, folder, pattern="*"):
    for path in sorted(Path(folder).rglob(pattern)):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(folder)).encode() + b"\0")
            digest.update(path.read_bytes())


class Grader:
    """Grades submissions of the course at `root` into its gradebook."""

    def __init__(self, root, limits=None, force=False, progress=True):
        self.root = Path(root)
        self.limits = limits or Limits()
        self.force = force
        self.progress = progress
        self.api = nbgrader_api(self.root)
        self.config = load_config(self.root)
        self.db_url = self.api.coursedir.db_url
        self.kernel_box, self.judge_box = sandbox.boxes(
            self.limits.memory_mib, self.limits.time_budget, isolate=self.limits.sandbox
        )
        self.mode = "none"  # set when the fork server starts (see grade)
        self._judged_cache = {}
        self._environment = self._fingerprint_environment()
        speed_up_nbgrader()

    # --- bookkeeping -------------------------------------------------------

    def _fingerprint_environment(self):
        # Workers change how fast, not what: they stay out of the fingerprint.
        limits = f"{self.limits.time_budget} {self.limits.memory_mib} {self.limits.sandbox}"
        digest = hashlib.sha256(f"{__version__} {limits}".encode())
        _hash_files(digest, PACKAGE, "*.py")
        digest.update((self.root / "nbgrader_config.py").read_bytes())
        return digest

    def fingerprint(self, sub):
        digest = self._environment.copy()
        _hash_files(digest, self.root / "submitted" / sub.student / sub.assignment)
        _hash_files(digest, self.root / "source" / sub.assignment)
        return digest.hexdigest()

    def _notebook_ids(self, assignment):
        with Gradebook(self.db_url) as gb:
            try:
                return [nb.name for nb in gb.find_assignment(assignment).notebooks]
            except MissingEntry:
                raise CourseError(
                    f"assignment {assignment} is not in the gradebook: release it first "
                    f"(`python -m autograder release {assignment}`)"
                ) from None

    def _expected_cells(self, assignment, notebook):
        with Gradebook(self.db_url) as gb:
            return [cell.name for cell in gb.find_notebook(notebook, assignment).source_cells]

    def _judged(self, assignment, notebook):
        """The judge's cells of a notebook (read once per grading run)."""
        key = (assignment, notebook)
        if key not in self._judged_cache:
            with Gradebook(self.db_url) as gb:
                self._judged_cache[key] = judged_cells(gb, self.root, assignment, notebook)
        return self._judged_cache[key]

    def _open_submission(self, sub):
        """Student and submission rows, with nbgrader's timestamp rules."""
        folder = self.root / "submitted" / sub.student / sub.assignment
        timestamp = self.api.coursedir.get_existing_timestamp(str(folder))
        with Gradebook(self.db_url) as gb:
            gb.update_or_create_student(sub.student)
            kwargs = {"timestamp": timestamp} if timestamp else {}
            gb.update_or_create_submission(sub.assignment, sub.student, **kwargs)

    def _prepare_output(self, sub):
        """autograded/<student>/<assignment>/ as stock nbgrader makes it:
        the submission's files, then the source's non-notebook files."""
        dest = self.root / "autograded" / sub.student / sub.assignment
        if dest.exists():
            shutil.rmtree(dest)
        shutil.copytree(self.root / "submitted" / sub.student / sub.assignment, dest)
        source = self.root / "source" / sub.assignment
        for path in source.rglob("*"):
            if path.is_file() and path.suffix != ".ipynb" and "__pycache__" not in path.parts:
                target = dest / path.relative_to(source)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target)
        return dest

    # --- one notebook --------------------------------------------------------

    def _resources(self, sub, notebook):
        return {
            "unique_key": notebook,
            "output_files_dir": f"{notebook}_files",
            "nbgrader": {
                "student": sub.student,
                "assignment": sub.assignment,
                "notebook": notebook,
                "db_url": self.db_url,
            },
        }

    def _run_preprocessors(self, classes, nb, resources):
        for cls in classes:
            nb, resources = cls(config=self.config)(nb, resources)
        return nb, resources

    def _load(self, path, sub, notebook):
        """The sanitized notebook, or the reason it cannot be graded."""
        size = path.stat().st_size
        if size > MAX_NOTEBOOK_MIB * 2**20:
            return (
                None,
                f"{path.name} is {size / 2**20:.0f} MiB, over the {MAX_NOTEBOOK_MIB} MiB limit",
            )
        try:
            nb = nbformat.reads(path.read_text(encoding="utf-8"), as_version=4)
        except Exception as exc:
            return None, f"{path.name} is not a readable notebook ({type(exc).__name__}: {exc})"
        problem = _structure_problem(nb, self._expected_cells(sub.assignment, notebook))
        if problem:
            return None, f"{path.name}: {problem}"
        try:
            sanitize = [ClearOutput, DeduplicateIds, OverwriteKernelspec, OverwriteCells]
            nb, _ = self._run_preprocessors(
                [*sanitize, CheckCellMetadata], nb, self._resources(sub, notebook)
            )
        except Exception as exc:
            return None, f"{path.name}: nbgrader could not read its cells ({exc})"
        return nb, None

    def _save(self, nb, sub, notebook):
        """Scores into the gradebook and the autograded notebook onto disk."""
        save = SaveGrades(config=self.config)
        chain = [IgnorePattern, ClearMetadataPreprocessor, LimitOutput]
        resources = self._resources(sub, notebook)
        nb, resources = self._run_preprocessors(chain, nb, resources)
        nb, resources = save(nb, resources)
        nb, resources = self._run_preprocessors(
            [AssignLatePenalties, CheckCellMetadata], nb, resources
        )
        return nb, save.ignored_stderr

    def _mark(self, sub, notebooks, needs_manual_grade):
        """Every cell of these notebooks at 0 (missing or ungradable work)."""
        with Gradebook(self.db_url) as gb:
            for notebook in notebooks:
                submitted = gb.find_submission_notebook(notebook, sub.assignment, sub.student)
                for grade in submitted.grades:
                    grade.auto_score = 0
                    grade.needs_manual_grade = needs_manual_grade
            gb.db.commit()

    def _score(self, sub):
        """(score, max score, points of the cells waiting for a hand grade)."""
        with Gradebook(self.db_url) as gb:
            submission = gb.find_submission(sub.assignment, sub.student)
            waiting = sum(
                g.max_score
                for nb in submission.notebooks
                for g in nb.grades
                if g.needs_manual_grade
            )
            return submission.score, submission.max_score, waiting

    # --- one submission ----------------------------------------------------

    async def grade_one(self, sub):
        start = time.perf_counter()
        fingerprint = self.fingerprint(sub)
        previous = read_status(self.root, sub.student, sub.assignment)
        if not self.force and previous and previous.fingerprint == fingerprint:
            return previous, False
        status_path(self.root, sub.student, sub.assignment).unlink(missing_ok=True)
        notebooks = self._notebook_ids(sub.assignment)
        self._open_submission(sub)
        dest = self._prepare_output(sub)
        status = Status(
            sub.student, sub.assignment, GRADED, fingerprint=fingerprint, sandbox=self.mode
        )
        missing, failures = [], []
        for notebook in notebooks:
            path = dest / f"{notebook}.ipynb"
            if not path.is_file():
                missing.append(notebook)
                continue
            nb, problem = self._load(path, sub, notebook)
            files, too_big = _kernel_files(dest)
            problem = problem or too_big
            if problem is None:
                judged = self._judged(sub.assignment, notebook)
                run = await execute(
                    nb, self.config, self.limits, judged, self.kernel_box, self.judge_box, files
                )
                sanitize_outputs(run.nb)
                status.notes.extend(run.notes)
                status.exchanges += run.exchanges
                problem = run.failure and f"{notebook}.ipynb: {run.failure}"
                if problem is None:
                    nb, stderr_cells = self._save(run.nb, sub, notebook)
                    if stderr_cells:
                        status.notes.append(
                            f"{notebook}: stderr output did not cost points in passing test "
                            f"cells (stock nbgrader scores them 0): {_some(stderr_cells)}"
                        )
                nbformat.write(run.nb if problem else nb, str(path))
            if problem:
                failures.append((notebook, problem))
        if missing:
            self._mark(sub, missing, needs_manual_grade=False)
            status.status = MISSING
            status.reason = "no " + ", ".join(f"{n}.ipynb" for n in missing) + " in the submission"
        if failures:
            self._mark(sub, [n for n, _ in failures], needs_manual_grade=True)
            status.status = UNGRADABLE
            status.reason = "; ".join(problem for _, problem in failures)
        status.score, status.max_score, status.awaiting_hand_grade = self._score(sub)
        status.seconds = round(time.perf_counter() - start, 2)
        write_status(self.root, status)
        return status, True

    # --- the class ---------------------------------------------------------

    async def _grade_all(self, submissions, bar):
        gate = asyncio.Semaphore(self.limits.workers)
        results = {}

        async def one(sub):
            async with gate:
                try:
                    results[sub] = await self.grade_one(sub)
                except CourseError:
                    raise
                except Exception as exc:  # a bug must not cost the rest of the class
                    status = Status(
                        sub.student,
                        sub.assignment,
                        UNGRADABLE,
                        reason=f"internal grading error ({type(exc).__name__}: {exc})",
                    )
                    write_status(self.root, status)
                    results[sub] = status, True
                if bar:
                    bar.done(str(sub))

        await asyncio.gather(*(one(sub) for sub in submissions))
        return [results[sub] for sub in submissions]

    def grade(self, submissions):
        """[(Status, regraded?)] in the order given."""
        for assignment in sorted({s.assignment for s in submissions}):
            self._notebook_ids(assignment)  # fail early, before any kernel starts
        bar = Progress(len(submissions)) if self.progress and submissions else None
        if self.limits.sandbox:
            sandbox.check(self.kernel_box)  # refuse, saying why, before any kernel starts
        previous = os.environ.get("NBGRADER_EXECUTION")
        os.environ["NBGRADER_EXECUTION"] = "autograde"
        try:
            readonly = self.kernel_box["readonly"]
            with grading_processes(self.limits.sandbox, readonly) as server:
                self.mode = server.mode
                return asyncio.run(self._grade_all(submissions, bar))
        finally:
            if previous is None:
                os.environ.pop("NBGRADER_EXECUTION", None)
            else:
                os.environ["NBGRADER_EXECUTION"] = previous


def _kernel_files(folder):
    """({name: bytes} of the files beside the notebook, or None), problem."""
    files, total = {}, 0
    for path in sorted(Path(folder).iterdir()):
        if path.is_file() and path.suffix != ".ipynb" and path.name != "autograder.json":
            total += path.stat().st_size
            if total > MAX_FILES_MIB * 2**20:
                return None, f"the files beside the notebook are over {MAX_FILES_MIB} MiB"
            files[path.name] = path.read_bytes()
    return files, None


def _some(names, shown=4):
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


def _structure_problem(nb, expected):
    """Cells the release had that were deleted or duplicated, in words."""
    seen = {}
    for cell in nb.cells:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id:
            seen[grade_id] = seen.get(grade_id, 0) + 1
    duplicated = [name for name, count in seen.items() if count > 1 and name in expected]
    deleted = [name for name in expected if name not in seen]
    if not (deleted or duplicated):
        return None
    parts = []
    if deleted:
        parts.append("cells deleted: " + _some(deleted))
    if duplicated:
        parts.append("cells duplicated: " + _some(duplicated))
    return (
        "; ".join(parts) + " (every cell of the released notebook must stay exactly once: "
        "copy your answers into a fresh copy of the release and resubmit)"
    )


class SaveGrades(SaveAutoGrades):
    """SaveAutoGrades that scores a test cell without its stderr output:
    stock nbgrader gives 0 to a passing test that printed a warning."""

    def preprocess(self, nb, resources):
        self.ignored_stderr = []
        return super().preprocess(nb, resources)

    def _add_score(self, cell, resources):
        if cell.cell_type != "code":
            return super()._add_score(cell, resources)
        kept = [o for o in cell.outputs if not _is_stderr(o)]
        if len(kept) == len(cell.outputs):
            return super()._add_score(cell, resources)
        if not any(o.output_type == "error" for o in kept):
            self.ignored_stderr.append(cell.metadata.nbgrader["grade_id"])
        return super()._add_score(nbformat.from_dict(dict(cell, outputs=kept)), resources)


def _is_stderr(output):
    return output.get("output_type") == "stream" and output.get("name") == "stderr"
