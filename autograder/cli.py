"""Command line: `python -m autograder <command>` (or `autograder <command>`)."""

import argparse
import logging
import os
import shutil
import sys
import time
import warnings
from pathlib import Path

from .grading.limits import default_workers
from .grading.sandbox import MODES, SandboxError
from .instructor.course import CourseError, assignments, find_root

DESCRIPTION = """\
Instructor commands for the automatic-differentiation course, on nbgrader's
real machinery and SQLite gradebook. Run inside the course directory (the
folder holding nbgrader_config.py), or pass --root.
"""

EPILOG = """\
examples:
  python -m autograder release                 regenerate release/ and validate it
  python -m autograder validate 03_jacobians_vjps
  python -m autograder grade                   grade everything in submitted/
  python -m autograder grade 04_broadcasting_matmul --from downloads.zip
  python -m autograder feedback                HTML feedback in feedback/<student>/
  python -m autograder export                  CSV grades and a report in exports/
  python -m autograder demo                    the README's main job
"""


def _print_validation(results):
    width = max((len(v.assignment) for v in results), default=10)
    sols = [
        f"{v.solution_score:g}/{v.max_score:g}"
        + (f" (+{v.manual_points:g} by hand)" if v.manual_points else "")
        for v in results
    ]
    sol_width = max([8, *map(len, sols)])
    print(f"{'assignment':<{width}}  {'solution':>{sol_width}}  untouched  verdict")
    for v, sol in zip(results, sols):
        stub = f"{v.untouched_score:g}/{v.max_score:g}"
        print(
            f"{v.assignment:<{width}}  {sol:>{sol_width}}  {stub:>9}  {'ok' if v.ok else 'FAILED'}"
        )
    problems = [p for v in results for p in v.problems]
    for p in problems:
        print(f"  problem: {p}")
    return not problems


def cmd_release(args, root):
    from .instructor.release import release

    start = time.perf_counter()
    ids, results = release(root, args.assignments)
    print(f"generated release/ for {len(ids)} assignment(s) in {root / 'release'}")
    ok = _print_validation(results)
    print(f"({time.perf_counter() - start:.0f} s)")
    return 0 if ok else 1


def cmd_validate(args, root):
    from .instructor.release import validate

    ids = assignments(root, args.assignments)
    if not ids:
        print(f"no assignments in {root / 'source'}: nothing to validate")
        return 0
    return 0 if _print_validation(validate(root, ids)) else 1


def _limits(args):
    from .grading.grader import Limits

    return Limits(
        workers=args.workers,
        time_budget=args.time_limit,
        memory_mib=args.memory_mib,
        sandbox=not getattr(args, "no_sandbox", False),
    )


def _print_grading(results, seconds, workers, mode):
    from .instructor.status import GRADED

    regraded = [status for status, fresh in results if fresh]
    counts = {}
    for status in regraded:
        counts[status.status] = counts.get(status.status, 0) + 1
    unchanged = len(results) - len(regraded)
    parts = [f"{n} {kind}" for kind, n in sorted(counts.items())]
    if unchanged:
        parts.append(f"{unchanged} unchanged since the last run (use --force to regrade)")
    print(f"{len(results)} submission(s): " + (", ".join(parts) or "nothing to do"))
    if regraded:
        per = seconds / len(regraded)
        print(f"graded in {seconds:.1f} s with {workers} worker(s): {per:.2f} s per submission")
        print(f"sandbox: {MODES.get(mode, mode)}; test cells judged outside the kernels")
    for status, _ in results:
        if status.status != GRADED:
            print(f"  {status.status:<10} {status.student}/{status.assignment}: {status.reason}")
        for note in status.notes:
            print(f"  note       {status.student}/{status.assignment}: {note}")


def cmd_grade(args, root):
    from .grading.grader import Grader, find_submissions
    from .instructor.collect import collect

    if args.source:
        if len(args.assignments) != 1:
            raise CourseError(
                "--from needs exactly one assignment id: grade ASSIGNMENT --from PATH"
            )
        report = collect(root, args.source, args.assignments[0])
        print(
            f"collected {len(report.students)} notebook(s) from {args.source} into submitted/"
            + (f", {len(report.unchanged)} unchanged" if report.unchanged else "")
        )
        for name, reason in report.skipped:
            print(f"  skipped {name}: {reason}")
    ids = assignments(root, args.assignments) if args.assignments else None
    submissions = find_submissions(root, ids, args.student)
    if not submissions:
        print(f"no submissions in {root / 'submitted'} (layout: submitted/<student>/<assignment>/)")
        return 0
    limits = _limits(args)
    start = time.perf_counter()
    grader = Grader(root, limits, force=args.force, progress=not args.quiet)
    results = grader.grade(submissions)
    _print_grading(results, time.perf_counter() - start, limits.workers, grader.mode)
    print(f"gradebook: {root / 'gradebook.db'}; graded notebooks: {root / 'autograded'}")
    return 0


def cmd_feedback(args, root):
    from .instructor.feedback import generate_feedback

    paths = generate_feedback(root, args.assignments or None, args.student)
    print(f"wrote {len(paths)} feedback page(s) under {root / 'feedback'}")
    return 0


def cmd_export(args, root):
    from .instructor.export import export_grades

    paths = export_grades(root, args.out)
    for name, path in paths.items():
        print(f"{name:>12}: {path}")
    return 0


def _outcome(status):
    if status.status != "graded":
        return "ungradable" if status.status == "ungradable" else "missing"
    # derivations waiting for a hand grade are not the autograder's to give
    if status.score == status.max_score - status.awaiting_hand_grade:
        return "full marks"
    return "zero" if status.score == 0 else "partial"


def _print_class_check(records, results):
    """Did the grader give each synthesized student the outcome they were built for?"""
    got = {(s.student, s.assignment): s for s, _ in results}
    wrong = []
    for rec in records:
        status = got.get((rec.student, rec.assignment))
        outcome = _outcome(status) if status else "not graded"
        if outcome != rec.expected:
            wrong.append(
                f"  {rec.student}/{rec.assignment} ({rec.kind}): expected "
                f"{rec.expected}, got {outcome} {status.reason if status else ''}"
            )
    kinds = {}
    for rec in records:
        kinds[rec.expected] = kinds.get(rec.expected, 0) + 1
    summary = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
    print(
        f"class check: {len(records) - len(wrong)}/{len(records)} submissions graded as "
        f"built ({summary})"
    )
    waiting = sum(1 for s, _ in results if s.graded and s.awaiting_hand_grade)
    if waiting:
        print(
            f"{waiting} graded submission(s) have derivations awaiting a hand grade "
            "(Formgrader -> Manual Grading); full marks above means every autograded point"
        )
    for line in wrong:
        print(line)
    return not wrong


def cmd_demo(args, root):
    if not (root / "demo" / "synthesize.py").is_file():
        raise CourseError(f"no demo/ in {root}: the demo runs in the project's own checkout")
    sys.path.insert(0, str(root))  # the demo class lives in the checkout, not in the package
    from demo.synthesize import synthesize_class

    from .grading.grader import Grader, find_submissions
    from .instructor.export import export_grades
    from .instructor.feedback import generate_feedback

    code = 0
    if not args.skip_release:
        print("== 1. release: build release/ of every assignment and validate it ==")
        code = cmd_release(argparse.Namespace(assignments=None), root)
    course = (args.out or root / "demo_output").resolve() / "course"
    ids = assignments(root, args.assignments)
    print(f"\n== 2. a demo course in {course}: {len(ids)} assignment(s) ==")
    if course.exists():
        shutil.rmtree(course)
    course.mkdir(parents=True)
    shutil.copy2(root / "nbgrader_config.py", course / "nbgrader_config.py")
    shutil.copytree(root / "source", course / "source")
    from .instructor.release import generate

    generate(course, ids)
    records = synthesize_class(root, course, n_students=args.students, assignments=ids)
    students = len({r.student for r in records})
    print(f"synthesized {len(records)} submissions from {students} students")
    print(f"\n== 3. grade ({args.workers} workers, {args.time_limit:g} s per notebook) ==")
    limits = _limits(args)
    start = time.perf_counter()
    grader = Grader(course, limits, force=True)
    results = grader.grade(find_submissions(course))
    _print_grading(results, time.perf_counter() - start, limits.workers, grader.mode)
    ok = _print_class_check(records, results)
    print("\n== 4. feedback and export ==")
    pages = generate_feedback(course)
    exports = export_grades(course)
    print(f"""
Where everything is:
  gradebook (nbgrader, SQLite)  {course / "gradebook.db"}
  graded notebooks              {course / "autograded"}/<student>/<assignment>/
  feedback ({len(pages)} pages)           {course / "feedback"}/<student>/index.html
  grades per student            {exports["grades"]}
  grades per test cell          {exports["cells"]}
  report with figures           {exports["report"]}
  the synthesized submissions   {course / "submitted"}/<student>/<assignment>/
Open the formgrader on it: cd {course} && {_jupyter_lab()}""")
    return code or (0 if ok else 1)


def build_parser():
    parser = argparse.ArgumentParser(
        prog="python -m autograder",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--root", type=Path, help="course directory (default: search upwards)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p = sub.add_parser(
        "release",
        help="generate release/ from source/, then validate (exit 1 on any problem)",
        description="Generate the student versions with nbgrader into release/, then check "
        "that every source notebook earns full marks and every untouched release zero "
        "under real `nbgrader autograde`.",
    )
    p.add_argument("assignments", nargs="*", help="assignment ids (default: all in source/)")
    p.set_defaults(func=cmd_release)
    p = sub.add_parser(
        "validate",
        help="check without writing: release/ matches source/, full marks, zero for stubs",
        description="What CI runs: release/ must equal what source/ generates, solutions "
        "earn full marks, untouched releases zero. Nothing in the course is modified.",
    )
    p.add_argument("assignments", nargs="*", help="assignment ids (default: all in source/)")
    p.set_defaults(func=cmd_validate)
    p = sub.add_parser(
        "grade",
        help="grade submitted/ into the gradebook, in parallel, with limits",
        description="Autograde every submission in submitted/<student>/<assignment>/ (or the "
        "named assignments) into the gradebook with nbgrader's own preprocessors, several "
        "kernels at a time. A submission that cannot be graded is recorded as ungradable "
        "with the reason; the rest of the class is graded anyway. Unchanged submissions are "
        "skipped unless --force.",
    )
    p.add_argument("assignments", nargs="*", help="assignment ids (default: all submitted)")
    p.add_argument("--student", action="append", help="only this student (repeatable)")
    p.add_argument(
        "--from",
        dest="source",
        type=Path,
        help="first collect a folder or zip of loose notebooks named <student>.ipynb "
        "(needs exactly one assignment id)",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=default_workers(),
        help="notebooks at a time (default: cores + 1)",
    )
    p.add_argument(
        "--time-limit", type=float, default=120, help="seconds per notebook (default 120)"
    )
    p.add_argument(
        "--memory-mib", type=int, default=2048, help="memory per kernel in MiB (default 2048)"
    )
    p.add_argument("--force", action="store_true", help="regrade unchanged submissions too")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument(
        "--no-sandbox",
        action="store_true",
        help="run kernels without the OS sandbox (only for trusted work: a submission could "
        "then read and change anything the grading user can)",
    )
    p.set_defaults(func=cmd_grade)
    p = sub.add_parser(
        "feedback",
        help="per-student HTML feedback (never shows hidden tests)",
        description="Write feedback/<student>/<assignment>/<assignment>.html and "
        "feedback/<student>/index.html from the gradebook: each test's name, points and the "
        "autograder's diagnostic. Hidden test code is never included.",
    )
    p.add_argument("assignments", nargs="*", help="assignment ids (default: all)")
    p.add_argument("--student", action="append", help="only this student (repeatable)")
    p.set_defaults(func=cmd_feedback)
    p = sub.add_parser(
        "export",
        help="grades as CSV plus a report with a figure per assignment",
        description="Write grades.csv (student x assignment), cells.csv (per graded cell) and "
        "report.html with one matplotlib figure per assignment (score distribution, pass "
        "rate per test).",
    )
    p.add_argument("--out", type=Path, help="output folder (default: exports/)")
    p.set_defaults(func=cmd_export)
    p = sub.add_parser(
        "demo",
        help="the README's main job: release, then grade a synthesized class end to end",
        description="Build and validate release/, then build a demo course from source/ in "
        "demo_output/course, synthesize a class (correct answers, realistic mistakes, "
        "unanswered stubs, broken and hostile notebooks), grade it, check every student got "
        "the outcome they were built for, write feedback and the report, and print where "
        "everything is. Uses nbgrader's SQLite gradebook; no other service.",
    )
    p.add_argument("assignments", nargs="*", help="assignment ids (default: all in source/)")
    p.add_argument("--students", type=int, default=40, help="class size (default 40)")
    p.add_argument("--out", type=Path, help="folder for the demo course (default demo_output/)")
    p.add_argument(
        "--workers",
        type=int,
        default=default_workers(),
        help="notebooks at a time (default: cores + 1)",
    )
    p.add_argument("--time-limit", type=float, default=30, help="seconds per notebook")
    p.add_argument("--memory-mib", type=int, default=1024, help="memory per kernel in MiB")
    p.add_argument("--skip-release", action="store_true", help="do not rebuild release/ first")
    p.add_argument("--no-sandbox", action="store_true", help="grade without the OS sandbox")
    p.set_defaults(func=cmd_demo)
    return parser


def _jupyter_lab():
    """The command that opens JupyterLab with this interpreter's Jupyter."""
    jupyter = Path(sys.executable).with_name("jupyter")
    root_flag = " --allow-root" if hasattr(os, "getuid") and os.getuid() == 0 else ""
    return f"{jupyter if jupyter.exists() else 'jupyter'} lab{root_flag}"


def main(argv=None):
    args = build_parser().parse_args(argv)
    logging.getLogger("traitlets").setLevel(logging.ERROR)
    # nbgrader's gradebook triggers SQLAlchemy autoflush warnings that say
    # nothing to an instructor.
    warnings.filterwarnings("ignore", module="nbgrader")
    warnings.filterwarnings("ignore", message=".*not in session.*")
    try:
        root = args.root.resolve() if args.root else find_root()
        return args.func(args, root)
    except (CourseError, SandboxError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
