"""A realistic class of submissions, synthesized from the course's own notebooks.

    synthesize_class(root, dest, n_students=40, assignments=None, seed=0) -> [Submission]

writes nbgrader's collected layout, `dest/submitted/<student>/<assignment>/<assignment>.ipynb`
plus the `timestamp.txt` that `nbgrader collect` keeps, for every assignment of `root/source`
(or the ones named). Each notebook starts from what students receive, `root/release/...`, and
each solution cell (nbgrader metadata `solution: true`) is

* left as released (the stub `raise NotImplementedError()`): unanswered;
* the solution of `root/source/...`, without the `### BEGIN/END SOLUTION` marker lines: correct;
* a cell of the course's catalog `root/demo/mistakes_<assignment>.py` (see demo/__init__.py):
  a realistic mistake, or the same exercise solved correctly in another style.

Test cells always keep the released source, so no hidden test ever appears in a submission.

This module holds no solution code: it only copies and transforms cells. The solutions are in
`source/` and the mistakes in `demo/`, neither of which is part of the installed package.

Students have personas, so the class looks like a class: strong (everything right, sometimes in
another style), typical (one to three mistakes), struggling (several exercises unanswered, some
mistakes, or the release submitted untouched), absent (skips some assignments: no folder), late
(some submissions after the due date). A few notebooks are broken or hostile, as listed in the
catalogs' HOSTILE (at most a few per assignment): see HOSTILE_KINDS.

Everything is drawn from `random.Random` seeded with strings built from `seed`: the same seed
writes byte-identical files. Each returned `Submission` says what was written and the outcome a
correct grader must report ("full marks", "partial", "zero", or "ungradable" with the reason).
"""

import ast
import importlib.util
import random
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import nbformat

from autograder.instructor.course import CourseError
from autograder.instructor.course import assignments as course_assignments

FULL, PARTIAL, ZERO, UNGRADABLE = "full marks", "partial", "zero", "ungradable"

# Plausible students (first_last); a larger class gets numbered copies.
NAMES = (
    "ada_lovelace alan_turing alonzo_church augustin_cauchy bernhard_riemann blaise_pascal "
    "brook_taylor carl_gauss david_hilbert emmy_noether evariste_galois felix_klein "
    "georg_cantor gottfried_leibniz grace_hopper henri_poincare hermann_weyl isaac_newton "
    "john_napier joseph_fourier joseph_lagrange julia_robinson karl_weierstrass kurt_goedel "
    "leonhard_euler mary_somerville maryam_mirzakhani niels_abel olga_ladyzhenskaya "
    "pafnuty_chebyshev pierre_fermat pierre_laplace rene_descartes richard_dedekind "
    "sofia_kovalevskaya sophie_germain srinivasa_ramanujan john_von_neumann "
    "katherine_johnson dorothy_vaughan norbert_wiener claude_shannon edsger_dijkstra "
    "barbara_liskov donald_knuth john_backus frances_allen seymour_papert"
).split()

# (persona, share of the class); "typical" takes what the others leave.
PERSONAS = (("strong", 0.2), ("struggling", 0.175), ("absent", 0.1), ("late", 0.075))

# kind: (expected outcome, reason when ungradable, what the student did)
HOSTILE_KINDS = {
    "invalid_json": (UNGRADABLE, "invalid notebook", "the file is cut off mid-way (invalid JSON)"),
    "deleted_test_cell": (
        UNGRADABLE,
        "cells deleted",
        "deleted the visible test cell of {cell} (which has a mistake)",
    ),
    "duplicated_solution_cell": (
        UNGRADABLE,
        "cells duplicated",
        "duplicated the solution cell {cell}: a first wrong attempt, then the right answer",
    ),
    "infinite_loop": (
        PARTIAL,
        "",
        "`while True: pass` inside {cell}, which the tests call (their time limit stops it); "
        "everything else correct",
    ),
    "memory_bomb": (
        UNGRADABLE,
        "memory limit",
        "allocates 8 GiB inside {cell}, which the tests call; everything else correct",
    ),
    "kernel_crash": (
        UNGRADABLE,
        "kernel died",
        "`os._exit(1)` inside {cell}, which the tests call; everything else correct",
    ),
    "stderr_warning": (
        FULL,
        "",
        "all correct, but {cell} prints a numpy RuntimeWarning and a debug line to stderr "
        "(stock nbgrader gives 0 to a test cell with stderr output)",
    ),
    "huge_output": (
        FULL,
        "",
        "all correct, but the cell {cell} prints 10**6 lines",
    ),
    "writes_outside": (
        FULL,
        "",
        "all correct, but the cell {cell} first tries to overwrite ../../../gradebook.db "
        "(inside try/except)",
    ),
}

# Code the hostile kinds add to a cell: at the start of its function ("body") or at the top
# level of the cell ("before", "after").
_INJECTIONS = {
    "infinite_loop": ("body", "while True:  # wait until converged\n    pass\n"),
    "memory_bomb": ("body", "scratch = bytearray(8 * 1024**3)  # a big work buffer (8 GiB)\n"),
    "kernel_crash": ("body", "import os\n\nos._exit(1)  # debugging: stop here\n"),
    "stderr_warning": (
        "body",
        "import sys\n\nimport numpy\n\n"
        "numpy.log(numpy.zeros(1))  # RuntimeWarning: divide by zero encountered in log\n"
        'print("debug: called with", type({first_arg}).__name__, file=sys.stderr)\n',
    ),
    "huge_output": ("after", "for step in range(10**6):  # debugging printout\n    print(step)\n"),
    "writes_outside": (
        "before",
        "try:  # keep a copy of my grades\n"
        '    with open("../../../gradebook.db", "w") as backup:\n'
        '        backup.write("")\n'
        "except OSError:\n"
        "    pass\n",
    ),
}

COURSE_START = datetime(
    2025, 1, 6, 23, 59, tzinfo=timezone.utc
)  # assignment k is due k weeks later
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f %Z"  # what `nbgrader submit` writes (and collect keeps)

_SOLUTION_MARKER = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*(\n|$)", re.M)


@dataclass
class Submission:
    """One written submission and the outcome a correct grader must report."""

    student: str
    assignment: str
    persona: str  # strong, typical, struggling, absent, late
    kind: str  # correct, alternative, mistakes, unfinished, untouched, or a HOSTILE_KINDS key
    description: str
    expected: str  # "full marks", "partial", "zero", "ungradable"
    reason: str = ""  # for "ungradable": invalid notebook, cells deleted, cells duplicated, ...
    timestamp: str = ""  # the content of timestamp.txt
    due: str = ""  # the assignment's due date, in the same format
    late: bool = False
    cells: dict = field(default_factory=dict)  # solution grade_id -> what was written there
    path: Path | None = None

    @property
    def hostile(self):
        return self.kind in HOSTILE_KINDS


@dataclass
class Catalog:
    """The course material of one assignment: demo/mistakes_<assignment>.py."""

    mistakes: dict = field(default_factory=dict)
    alternatives: dict = field(default_factory=dict)
    common: list = field(default_factory=list)
    depends: dict = field(default_factory=dict)
    hostile: dict = field(default_factory=dict)
    skip: dict = field(default_factory=dict)


def load_catalog(root, assignment):
    """The catalog of `assignment` (empty when the course has none), loaded from its file."""
    path = Path(root) / "demo" / f"mistakes_{assignment}.py"
    if not path.is_file():
        return Catalog()
    spec = importlib.util.spec_from_file_location(f"_demo_mistakes_{assignment}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return Catalog(
        mistakes=dict(getattr(module, "MISTAKES", {})),
        alternatives=dict(getattr(module, "ALTERNATIVES", {})),
        common=list(getattr(module, "COMMON", [])),
        depends=dict(getattr(module, "DEPENDS", {})),
        hostile=dict(getattr(module, "HOSTILE", {})),
        skip=dict(getattr(module, "SKIP", {})),
    )


def _grade_id(cell):
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def _is_solution(cell):
    return bool(cell.get("metadata", {}).get("nbgrader", {}).get("solution"))


def _is_test(cell):
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return bool(meta.get("grade")) and not meta.get("solution")


class _Assignment:
    """What the synthesis needs to know about one assignment."""

    def __init__(self, root, aid, index):
        self.aid, self.index = aid, index
        release = Path(root) / "release" / aid / f"{aid}.ipynb"
        if not release.is_file():
            raise CourseError(
                f"no {release}: generate the student version first (`python -m autograder release`)"
            )
        self.release = nbformat.read(str(release), as_version=4)
        source = nbformat.read(str(Path(root) / "source" / aid / f"{aid}.ipynb"), as_version=4)
        self.solutions = [_grade_id(c) for c in self.release.cells if _is_solution(c)]
        self.tests = [_grade_id(c) for c in self.release.cells if _is_test(c)]
        self.correct = {
            _grade_id(c): _SOLUTION_MARKER.sub("", c.source)  # a derivation: the model answer
            for c in source.cells
            if _is_solution(c) and _grade_id(c) in self.solutions
        }
        self.code_solutions = [
            _grade_id(c) for c in self.release.cells if _is_solution(c) and c.cell_type == "code"
        ]
        missing = [gid for gid in self.solutions if gid not in self.correct]
        if missing:
            raise CourseError(
                f"release/{aid} has solution cells that source/{aid} lacks: {missing}"
            )
        for gid, text in self.correct.items():
            if "HIDDEN TESTS" in text:
                raise CourseError(f"source/{aid}: the solution cell {gid} contains hidden tests")
        self.catalog = load_catalog(root, aid)
        self._check_catalog()
        self.due = COURSE_START + timedelta(weeks=index + 1)

    def _check_catalog(self):
        cat = self.catalog
        for what, entries in (("MISTAKES", cat.mistakes), ("ALTERNATIVES", cat.alternatives)):
            for name, cells in entries.items():
                unknown = set(cells) - set(self.solutions)
                if unknown:
                    raise CourseError(
                        f"demo/mistakes_{self.aid}.py: {what}[{name!r}] replaces cells that are "
                        f"not solution cells of the assignment: {sorted(unknown)}"
                    )
        for kind, cell in cat.hostile.items():
            if kind not in HOSTILE_KINDS:
                raise CourseError(f"demo/mistakes_{self.aid}.py: unknown HOSTILE kind {kind!r}")
            if cell is not None and cell not in self.solutions:
                raise CourseError(f"demo/mistakes_{self.aid}.py: HOSTILE[{kind!r}] = {cell!r}?")

    # --- which test cells can pass --------------------------------------------------------------

    def owner(self, test_id):
        """The solution cell a test cell grades: test_<grade_id>[_...], or None."""
        found = [
            s for s in self.solutions if test_id == f"test_{s}" or test_id.startswith(f"test_{s}_")
        ]
        return max(found, key=len) if found else None

    def needs(self, test_id):
        """The solution cells that must all be right for this test cell to pass."""
        owner, depends = self.owner(test_id), self.catalog.depends
        if owner is None and test_id not in depends:
            return set(self.solutions)
        todo = {owner} | set(depends.get(owner, ())) | set(depends.get(test_id, ()))
        todo.discard(None)
        needed = set()
        while todo:
            cell = todo.pop()
            if cell not in needed:
                needed.add(cell)
                todo |= set(depends.get(cell, ()))
        return needed

    def some_test_passes(self, plan):
        right = {gid for gid, (what, _) in plan.items() if what in ("correct", "alternative")}
        return any(self.needs(t) <= right for t in self.tests)

    def anchor(self):
        """A test cell that needs the fewest solution cells (to guarantee some points)."""
        return min(self.tests, key=lambda t: (len(self.needs(t)), self.tests.index(t)))

    # --- the written notebook ---------------------------------------------------------------------

    def source_of(self, gid, what, detail):
        if what == "correct":
            return self.correct[gid]
        if what == "alternative":
            return self.catalog.alternatives[detail][gid].strip("\n")
        if what == "mistake":
            return self.catalog.mistakes[detail][gid].strip("\n")
        return None  # "stub": as released

    def notebook(self, plan, hostile=None, target=None, first_attempt=None):
        """The release with the solution cells of `plan` (and a hostile change) written in.

        Only the changed cells are copied; the others are shared with the release.
        """
        cells = []
        for cell in self.release.cells:
            gid = _grade_id(cell)
            if _is_solution(cell) and gid in plan:
                cell = nbformat.from_dict(cell)
                text = self.source_of(gid, *plan[gid])
                if text is not None:
                    cell.source = text
                if gid == target and hostile in _INJECTIONS:
                    cell.source = _inject(
                        cell.source, *_INJECTIONS[hostile], where=f"{self.aid}/{gid}"
                    )
                if gid == target and hostile == "duplicated_solution_cell":
                    attempt = nbformat.from_dict(cell)
                    attempt.source = first_attempt
                    cells.append(attempt)
                    cell["id"] = _copy_id(cell.get("id", gid))
            elif hostile == "deleted_test_cell" and gid == self._visible_test(target):
                continue
            cells.append(cell)
        return nbformat.NotebookNode({**self.release, "cells": cells})

    def _visible_test(self, solution):
        owned = [t for t in self.tests if self.owner(t) == solution]
        visible = [t for t in owned if "visible" in t]
        return (visible or owned or self.tests)[0]


def _copy_id(cell_id):
    """A new, valid nbformat cell id for a copied cell (as Jupyter gives one)."""
    return (re.sub(r"[^A-Za-z0-9_-]", "-", cell_id)[:59] + "-copy")[:64]


def _inject(source, place, code, where):
    """`source` with `code` added: at the start of its first function's body (after the
    docstring), or at the top level before or after the cell's code."""
    if place == "before":
        return code + "\n\n" + source
    if place == "after":
        return source.rstrip("\n") + "\n\n\n" + code
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise CourseError(f"{where}: cannot parse the cell to inject code ({exc})") from None
    func = next((n for n in tree.body if isinstance(n, ast.FunctionDef)), None)
    if func is None or func.body[0].lineno == func.lineno:
        raise CourseError(f"{where}: no multi-line function to inject code into")
    body = func.body
    has_doc = (
        isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
        and isinstance(body[0].value.value, str)
    )
    first = body[0]
    at = first.end_lineno if has_doc else first.lineno - 1  # 0-based line index to insert at
    args = func.args.posonlyargs + func.args.args
    code = code.format(first_arg=args[0].arg if args else "None")
    indent = " " * first.col_offset
    lines = source.splitlines(keepends=True)
    block = "".join(indent + line if line.strip() else line for line in code.splitlines(True))
    return "".join(lines[:at]) + block + "".join(lines[at:])


# --- the class ------------------------------------------------------------------------------------


def _roster(n_students, seed):
    """{student id: persona}, sorted by id."""
    rng = random.Random(f"{seed}/roster")
    names, copy = list(NAMES), 2
    while len(names) < n_students:
        names += [f"{name}_{copy}" for name in NAMES]
        copy += 1
    students = sorted(rng.sample(names, n_students))
    personas = [p for p, share in PERSONAS for _ in range(round(share * n_students))]
    personas = (personas + ["typical"] * n_students)[:n_students]
    rng.shuffle(personas)
    return dict(zip(students, personas))


def _skipped_and_late(student, persona, aids, seed):
    """The assignments an absent student skips and a late student hands in late."""
    rng = random.Random(f"{seed}/{student}/attendance")
    skipped, late = set(), set()
    if persona == "absent" and aids:
        skipped = {a for a in aids if rng.random() < 0.5} or {rng.choice(aids)}
        if len(aids) > 1 and skipped == set(aids):
            skipped.discard(rng.choice(aids))
    if persona == "late" and aids:
        late = {a for a in aids if rng.random() < 0.5} or {rng.choice(aids)}
    return skipped, late


def _draw_mistakes(a, plan, rng, k):
    """Put k catalog mistakes into cells of `plan` that are correct: at most one per cell, the
    COMMON ones four times as likely as the others, none of SKIP."""
    for _ in range(k):
        names = [
            name
            for name, cells in a.catalog.mistakes.items()
            if name not in a.catalog.skip and all(plan[c][0] == "correct" for c in cells)
        ]
        if not names:
            return
        weights = [4 if name in a.catalog.common else 1 for name in names]
        name = rng.choices(names, weights)[0]
        for cell in a.catalog.mistakes[name]:
            plan[cell] = ("mistake", name)


def _plan(a, persona, rng):
    """{solution grade_id: (what, detail)} for one student's work on assignment `a`."""
    plan = {gid: ("correct", None) for gid in a.solutions}
    if persona == "strong":
        if a.catalog.alternatives and rng.random() < 0.4:
            style = rng.choice(sorted(a.catalog.alternatives))
            for gid in a.catalog.alternatives[style]:
                plan[gid] = ("alternative", style)
        return plan
    if persona == "struggling":
        if rng.random() < 0.15:  # hands in the release untouched
            return {gid: ("stub", None) for gid in a.solutions}
        n = len(a.solutions)
        n_stubs = min(n - 1, rng.randint(max(1, n // 3), max(1, 2 * n // 3)))
        for gid in rng.sample(a.solutions, n_stubs):
            plan[gid] = ("stub", None)
        _draw_mistakes(a, plan, rng, rng.choice([1, 1, 2, 3]))
    else:  # typical, absent, late
        _draw_mistakes(a, plan, rng, rng.choice([0, 1, 1, 2, 2, 3]))
        correct = [gid for gid, (what, _) in plan.items() if what == "correct"]
        if len(correct) > 1 and rng.random() < 0.15:  # forgot one exercise
            plan[rng.choice(correct)] = ("stub", None)
    if not a.some_test_passes(plan):  # partial credit must be certain: fix what one test needs
        for gid in sorted(a.needs(a.anchor())):
            plan[gid] = ("correct", None)
    return plan


def _outcome(plan):
    whats = [what for what, _ in plan.values()]
    if all(w in ("correct", "alternative") for w in whats):
        return ("alternative" if "alternative" in whats else "correct"), FULL
    if all(w == "stub" for w in whats):
        return "untouched", ZERO
    return ("unfinished" if "stub" in whats else "mistakes"), PARTIAL


def _describe(a, plan, kind):
    if kind == "correct":
        return "all exercises correct"
    if kind == "alternative":
        styles = sorted({d for w, d in plan.values() if w == "alternative"})
        return f"all exercises correct, in another style ({', '.join(styles)})"
    if kind == "untouched":
        return "handed in the release untouched: every exercise unanswered"
    parts = []
    stubs = [gid for gid, (w, _) in plan.items() if w == "stub"]
    if stubs:
        parts.append(f"left {len(stubs)} of {len(plan)} exercises unanswered ({', '.join(stubs)})")
    wrong = [f"{d} ({gid})" for gid, (w, d) in plan.items() if w == "mistake"]
    if wrong:
        parts.append(f"{len(wrong)} mistake{'s' * (len(wrong) > 1)}: " + "; ".join(wrong))
    return "; ".join(parts)


def _hostile_plan(a, kind, target, base, rng):
    """(plan, first attempt of a duplicated cell) of a hostile notebook."""
    correct = {gid: ("correct", None) for gid in a.solutions}
    for_target = sorted(
        name
        for name, cells in a.catalog.mistakes.items()
        if list(cells) == [target] and name not in a.catalog.skip
    )
    if kind == "invalid_json":
        return base, None
    if kind == "deleted_test_cell":
        plan = dict(base)
        plan[target] = ("mistake", rng.choice(for_target)) if for_target else ("stub", None)
        return plan, None
    if kind == "duplicated_solution_cell":
        attempt = (
            a.source_of(target, "mistake", rng.choice(for_target))
            if for_target
            else next(c.source for c in a.release.cells if _grade_id(c) == target)
        )
        return correct, attempt
    return correct, None


def _timestamp(due, late, rng):
    minutes = rng.randint(10, 3 * 24 * 60)
    when = due + timedelta(minutes=minutes) if late else due - timedelta(minutes=minutes)
    when += timedelta(seconds=rng.randint(0, 59), microseconds=rng.randint(0, 999_999))
    return when.strftime(TIMESTAMP_FORMAT)


def synthesize_class(root, dest, n_students=40, assignments=None, seed=0):
    """Write a demo class under `dest/submitted/` and return its `Submission` records.

    root: the course (source/, release/, demo/); dest: where `submitted/` is written (the
    course itself, or a copy); assignments: ids in root/source (default: all of them).
    Only the files of the class are written (a notebook and timestamp.txt per submission);
    nothing is deleted.
    """
    root, dest = Path(root), Path(dest)
    every = course_assignments(root)
    aids = course_assignments(root, assignments)
    if not aids:
        raise CourseError(f"no assignments in {root / 'source'}")
    course = {aid: _Assignment(root, aid, every.index(aid)) for aid in aids}
    roster = _roster(n_students, seed)
    attendance = {s: _skipped_and_late(s, p, aids, seed) for s, p in roster.items()}

    work = {}  # (student, aid) -> [plan, kind, hostile target, first attempt]
    for student, persona in roster.items():
        for aid in aids:
            if aid not in attendance[student][0]:
                rng = random.Random(f"{seed}/{student}/{aid}")
                work[student, aid] = [_plan(course[aid], persona, rng), None, None, None]

    hostile_students = set()
    for aid in aids:
        a = course[aid]
        for kind, target in a.catalog.hostile.items():
            rng = random.Random(f"{seed}/hostile/{aid}/{kind}")
            candidates = sorted(
                s
                for s, p in roster.items()
                if p in ("typical", "late", "strong")
                and (s, aid) in work
                and s not in hostile_students
            )
            if not candidates:
                continue
            student = rng.choice(candidates)
            hostile_students.add(student)
            target = target or a.code_solutions[0]
            plan, attempt = _hostile_plan(a, kind, target, work[student, aid][0], rng)
            work[student, aid] = [plan, kind, target, attempt]

    submissions = []
    for (student, aid), (plan, hostile, target, attempt) in sorted(work.items()):
        a = course[aid]
        rng = random.Random(f"{seed}/{student}/{aid}/time")
        late = aid in attendance[student][1]
        kind, expected = _outcome(plan)
        description, reason = _describe(a, plan, kind), ""
        cells = {
            gid: {"stub": "unanswered"}.get(w, f"{w}: {d}" if d else w)
            for gid, (w, d) in plan.items()
        }
        if hostile:
            expected, reason, what = HOSTILE_KINDS[hostile]
            what = what.format(cell=target)
            if hostile in ("invalid_json", "deleted_test_cell"):
                what += f"; the exercises: {_describe(a, plan, kind)}"
            kind, description = hostile, what
            cells[target] += f" + {hostile}"
        folder = dest / "submitted" / student / aid
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{aid}.ipynb"
        nb = a.notebook(plan, hostile, target, attempt)
        text = nbformat.writes(nb) + "\n"
        if hostile == "invalid_json":
            text = text[: int(len(text) * rng.uniform(0.4, 0.8))]
        path.write_text(text, encoding="utf-8")
        timestamp = _timestamp(a.due, late, rng)
        (folder / "timestamp.txt").write_text(timestamp + "\n")
        submissions.append(
            Submission(
                student,
                aid,
                roster[student],
                kind,
                description,
                expected,
                reason,
                timestamp,
                a.due.strftime(TIMESTAMP_FORMAT),
                late,
                cells,
                path,
            )
        )
    return submissions
