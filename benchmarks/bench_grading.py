"""Grade the demo class with `autograder grade` and with stock nbgrader; compare.

    python benchmarks/bench_grading.py [--students 40] [ASSIGNMENT ...]

Stock nbgrader is used at its best: one `nbgrader autograde <assignment>`
call per assignment covering every student, one after another. Ours is one
`python -m autograder grade` call. Both run on copies of the same course
and submissions, and both times include each command's start-up. Then the
per-cell scores are compared; every difference must be a deliberate one:

  * ungradable: ours records an ungradable submission as 0 with every cell
    flagged for manual grading (stock scores whatever cells ran, or fails);
  * stderr: stock gives 0 to a passing test cell that wrote to stderr; ours
    judges test cells outside the student's kernel, where what it prints does
    not count;
  * stock stopped: stock's `autograde` stops at some broken submissions (a
    duplicated cell) and never grades the students after it.

Stock runs a submission's cells in autograded/<student>/<assignment>/, so the
demo's "writes_outside" submission (open("../../../gradebook.db", "w"))
truncates stock's gradebook in the course root and every score graded before
it is lost. To compare scores at all, stock's gradebook is moved to
stock-gradebook/ here, and the benchmark reports whether a submission wrote
the file it left behind. Ours runs kernels in a deep scratch folder and the
same write lands there.

Prints seconds per notebook for both and the ratio. With --ordinary-only the
broken and hostile notebooks are left out: they cost stock nbgrader minutes
(its only time limit is the 60 s per cell of nbgrader_config.py), so the
ratio without them is the fair measure of the pipeline itself.

Then the price of the trust: the same class graded again with `grade
--no-sandbox` (the sandbox's cost per notebook is the difference), and the
judge <-> kernel exchanges per notebook times the measured cost of one
exchange (the oracle protocol's cost per notebook).
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder.grading.limits import default_workers  # noqa: E402
from autograder.instructor.course import assignments  # noqa: E402
from autograder.instructor.release import generate  # noqa: E402
from autograder.instructor.status import read_status  # noqa: E402
from demo.synthesize import synthesize_class  # noqa: E402

BIN = Path(sys.executable).parent
DELIBERATE = {
    "ungradable": "cells of submissions ours records as ungradable",
    "stderr": "passing cells with stderr output (stock: 0)",
    "stock stopped": "cells stock never graded (its run of the assignment stopped early)",
}


def build(course, ids, students, ordinary_only):
    course.mkdir(parents=True)
    shutil.copy2(ROOT / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "source", course / "source")
    generate(course, ids)
    records = synthesize_class(ROOT, course, n_students=students, assignments=ids)
    if ordinary_only:
        for rec in records:
            if rec.hostile:
                shutil.rmtree(course / "submitted" / rec.student / rec.assignment)
    return [r for r in records if not (ordinary_only and r.hostile)]


def run(command, cwd):
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}")
    start = time.perf_counter()
    # Not check=True: stock exits 1 when any submission failed, after grading the rest.
    subprocess.run(command, cwd=cwd, env=env, capture_output=True)
    return time.perf_counter() - start


def exchange_seconds(n=3000):
    """Seconds of one judge <-> kernel request (an attribute read), kernel in a forked process."""
    import socket

    from autograder.oracle.channel import Channel
    from autograder.oracle.kernel_side import Oracle
    from autograder.oracle.proxies import Connection

    ours, theirs = socket.socketpair()
    pid = os.fork()
    if pid == 0:
        ours.close()
        namespace = {}
        exec("class Node:\n    value = 1.0\nnode = Node()", namespace)
        try:
            Oracle(Channel(theirs), namespace).serve()
        finally:
            os._exit(0)
    theirs.close()
    conn = Connection(Channel(ours))
    conn.begin_cell(60)
    node = conn.getglobal("node")
    start = time.perf_counter()
    for _ in range(n):
        node.value  # noqa: B018 (the request is the point)
    seconds = (time.perf_counter() - start) / n
    conn.end_cell()
    os.waitpid(pid, 0)
    return seconds


def mean_exchanges(course):
    statuses = [
        read_status(course, p.parent.name, p.name) for p in (course / "autograded").glob("*/*")
    ]
    values = [s.exchanges for s in statuses if s is not None]
    return sum(values) / max(len(values), 1)


def cell_scores(db):
    from nbgrader.api import Gradebook

    scores = {}
    with Gradebook(f"sqlite:///{db}") as gb:
        for assignment in gb.assignments:
            for sub in assignment.submissions:
                for nb in sub.notebooks:
                    for grade in nb.grades:
                        key = (sub.student.id, assignment.name, grade.name)
                        scores[key] = grade.score
    return scores


def stderr_only(course, student, aid, cell):
    """Whether stock's autograded cell had output on stderr and no error (stock scores it 0;
    ours judges test cells outside the kernel, where nothing the student's code prints counts)."""
    import nbformat

    path = course / "autograded" / student / aid / f"{aid}.ipynb"
    for c in nbformat.read(path, as_version=4).cells:
        if c.metadata.get("nbgrader", {}).get("grade_id") == cell:
            kinds = [(o.output_type, o.get("name")) for o in c.get("outputs", [])]
            return ("stream", "stderr") in kinds and ("error", None) not in kinds
    return False


def compare(ours_course, stock_course, stock_db):
    """(cells compared, {deliberate difference: count}, [unexplained differences])."""
    ours, stock = cell_scores(ours_course / "gradebook.db"), cell_scores(stock_db)
    stock_graded = {(student, aid) for student, aid, _ in stock}
    deliberate = dict.fromkeys(DELIBERATE, 0)
    unexplained = []
    for key in sorted(set(ours) | set(stock)):
        if ours.get(key) == stock.get(key):
            continue
        student, aid, cell = key
        status = read_status(ours_course, student, aid)
        if status and status.status == "ungradable":
            deliberate["ungradable"] += 1
        elif (student, aid) not in stock_graded:
            deliberate["stock stopped"] += 1
        elif stock.get(key) == 0 and stderr_only(stock_course, student, aid, cell):
            deliberate["stderr"] += 1
        else:
            unexplained.append(f"{key}: ours {ours.get(key)}, stock {stock.get(key)}")
    return len(ours), deliberate, unexplained


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("assignments", nargs="*")
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--workers", type=int, default=default_workers())
    parser.add_argument("--ordinary-only", action="store_true")
    args = parser.parse_args()
    ids = assignments(ROOT, args.assignments)
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        ours_course, stock_course = Path(tmp) / "ours", Path(tmp) / "stock"
        records = build(ours_course, ids, args.students, args.ordinary_only)
        shutil.copytree(ours_course, stock_course)
        n = len(records)
        hostile = sum(r.hostile for r in records)
        print(
            f"{n} notebooks ({hostile} broken or hostile), {len(ids)} assignment(s), "
            f"{len({r.student for r in records})} students; {os.cpu_count()} cores",
            flush=True,
        )
        bare_course = Path(tmp) / "bare"
        shutil.copytree(ours_course, bare_course)
        grade = [sys.executable, "-m", "autograder", "grade", "--quiet"]
        t_ours = run([*grade, f"--workers={args.workers}"], ours_course)
        print(f"ours  ({args.workers} workers): {t_ours:7.1f} s  {t_ours / n:.2f} s/notebook")
        t_bare = run([*grade, f"--workers={args.workers}", "--no-sandbox"], bare_course)
        exchanges, per_exchange = mean_exchanges(ours_course), exchange_seconds()
        print(
            f"  the sandbox: {(t_ours - t_bare) / n:+.2f} s/notebook (ours without it: "
            f"{t_bare / n:.2f} s/notebook)\n"
            f"  the oracle protocol: {exchanges:.0f} judge <-> kernel exchanges per notebook "
            f"x {per_exchange * 1e6:.0f} us = {exchanges * per_exchange:.2f} s/notebook"
        )
        stock_db = stock_course / "stock-gradebook" / "gradebook.db"
        stock_db.parent.mkdir()
        shutil.move(stock_course / "gradebook.db", stock_db)
        decoy = stock_course / "gradebook.db"
        decoy.write_bytes(b"decoy")
        autograde = [
            str(BIN / "nbgrader"),
            "autograde",
            f"--CourseDirectory.db_url=sqlite:///{stock_db}",
        ]
        t_stock = sum(run([*autograde, aid, "--force"], stock_course) for aid in ids)
        print(f"stock (sequential): {t_stock:7.1f} s  {t_stock / n:.2f} s/notebook")
        print(f"ratio: {t_stock / t_ours:.2f}x")
        if decoy.read_bytes() != b"decoy":
            print(
                "stock: a submission overwrote <course>/gradebook.db (a decoy here; with "
                "nbgrader_config.py as shipped it is the gradebook)"
            )
        if not (ours_course / "gradebook.db").stat().st_size:
            print("OURS: the gradebook was overwritten")
            return 1
        cells, deliberate, unexplained = compare(ours_course, stock_course, stock_db)
    print(f"scores: {cells} cells compared; unexplained differences: {len(unexplained)}")
    for name, count in deliberate.items():
        print(f"  deliberate: {count:4d} {DELIBERATE[name]}")
    for line in unexplained:
        print(f"  UNEXPLAINED {line}")
    return 1 if unexplained else 0


if __name__ == "__main__":
    sys.exit(main())
