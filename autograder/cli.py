"""Command line: `python -m autograder <command>` (or `autograder <command>`)."""

import argparse
import logging
import sys
import time
import warnings
from pathlib import Path

from .course import CourseError, assignments, find_root

DESCRIPTION = """\
Instructor commands for the automatic-differentiation course, on nbgrader's
real machinery and SQLite gradebook. Run inside the course directory (the
folder holding nbgrader_config.py), or pass --root.
"""

EPILOG = """\
examples:
  python -m autograder release                 regenerate release/ and validate it
  python -m autograder validate 03_jacobians_vjps
  python -m autograder demo                    the README's main job
"""


def _print_validation(results):
    width = max((len(v.assignment) for v in results), default=10)
    print(f"{'assignment':<{width}}  solution  untouched  verdict")
    for v in results:
        sol = f"{v.solution_score:g}/{v.max_score:g}"
        stub = f"{v.untouched_score:g}/{v.max_score:g}"
        print(f"{v.assignment:<{width}}  {sol:>8}  {stub:>9}  {'ok' if v.ok else 'FAILED'}")
    problems = [p for v in results for p in v.problems]
    for p in problems:
        print(f"  problem: {p}")
    return not problems


def cmd_release(args, root):
    from .release import release

    start = time.perf_counter()
    ids, results = release(root, args.assignments)
    print(f"generated release/ for {len(ids)} assignment(s) in {root / 'release'}")
    ok = _print_validation(results)
    print(f"({time.perf_counter() - start:.0f} s)")
    return 0 if ok else 1


def cmd_validate(args, root):
    from .release import validate

    ids = assignments(root, args.assignments)
    if not ids:
        print(f"no assignments in {root / 'source'}: nothing to validate")
        return 0
    return 0 if _print_validation(validate(root, ids)) else 1


def cmd_demo(args, root):
    print("== building the release of every assignment and validating it with nbgrader ==")
    code = cmd_release(argparse.Namespace(assignments=None), root)
    print(
        "\nStudent notebooks: release/<assignment>/<assignment>.ipynb "
        "(open them with `make lab`).\nSources with solutions and hidden tests: source/."
    )
    return code


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
        "demo",
        help="the README's main job: build the release and validate it",
        description="Build release/ for every assignment and validate it with nbgrader.",
    )
    p.set_defaults(func=cmd_demo)
    return parser


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
    except CourseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
