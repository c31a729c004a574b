"""`python -m autograder grade` on a small course with real nbgrader, real
notebooks and a real SQLite gradebook, checked against stock `nbgrader autograde`.

One released course (one assignment, two test cells worth 1 + 2 points) is
copied for each scenario. The main scenario grades the same submissions with
stock `nbgrader autograde` (its CLI) in one copy and with `python -m autograder
grade` (its CLI) in another, which also holds hostile submissions: every cell
score must be the same as stock's, except for the deliberate differences
(stderr in a passing test cell; notebooks that cannot be graded).
"""

import copy
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
import zipfile
from datetime import datetime
from pathlib import Path

import nbformat
import pytest

from autograder.instructor.course import load_config, nbgrader_api, run

from course_fixtures import make_course, make_notebook

AID = "00_demo"
BIN = Path(sys.executable).parent
FULL = {"test_exp_visible": (1.0, False), "test_exp_hidden": (2.0, False)}
UNGRADABLE = {"test_exp_visible": (0.0, True), "test_exp_hidden": (0.0, True)}

CORRECT = "def exp_vjp(dldf, x):\n    return (dldf * np.exp(x),)"
WRONG = "def exp_vjp(dldf, x):\n    return (dldf * x,)"
RAISES = "def exp_vjp(dldf, x):\n    raise ValueError('not finished')"
VISIBLE_ONLY = (  # right on the visible test's np.ones(3) only: wrong in the hidden test
    "def exp_vjp(dldf, x):\n    return (dldf * np.exp(x),) if np.shape(x) == (3,) else (dldf,)"
)
WARNS = (  # a RuntimeWarning inside the checks: silenced there, so it costs nothing anywhere
    "def exp_vjp(dldf, x):\n    np.log(-1.0)\n    return (dldf * np.exp(x),)"
)
NOISE = "careful_7d1e"
NOISY = (  # correct, but writes to stderr every time the tests call it
    f"import sys\n\ndef exp_vjp(dldf, x):\n    print('{NOISE}', file=sys.stderr)\n"
    "    return (dldf * np.exp(x),)"
)
LOOPS = "def exp_vjp(dldf, x):\n    while True:\n        pass"
CRASHES = "import os\n\ndef exp_vjp(dldf, x):\n    os._exit(1)"
BOMB_IN_CELL = "scratch = bytearray(8 * 1024**3)  # 8 GiB\n\n" + CORRECT
BOMB_IN_FUNCTION = (
    "def exp_vjp(dldf, x):\n    scratch = bytearray(8 * 1024**3)  # 8 GiB\n"
    "    return (dldf * np.exp(x),)"
)
# From stock nbgrader's working folder autograded/<student>/<aid>/, the
# ../../../ path is the course's gradebook.db (stock lets it be destroyed).
WRITES = (
    "import os\n"
    "for target in ['../../gradebook.db', '../../../gradebook.db', 'gradebook.db', "
    f"'{AID}.ipynb']:\n"
    "    try:\n"
    "        with open(target, 'w') as f:\n"
    "            f.write('pwned')\n"
    "        print('wrote', os.path.abspath(target))\n"
    "    except OSError:\n"
    "        pass\n\n" + CORRECT
)

# Graded identically by stock nbgrader and by `grade`.
COMPARED = {
    "alice": CORRECT,
    "bob": None,  # the untouched release: the stub raises NotImplementedError
    "carol": WRONG,
    "dan": RAISES,
    "eve": VISIBLE_ONLY,
    "wendy": WARNS,
}
EXPECTED = {
    "alice": FULL,
    "bob": {"test_exp_visible": (0.0, False), "test_exp_hidden": (0.0, False)},
    "carol": {"test_exp_visible": (0.0, False), "test_exp_hidden": (0.0, False)},
    "dan": {"test_exp_visible": (0.0, False), "test_exp_hidden": (0.0, False)},
    "eve": {"test_exp_visible": (1.0, False), "test_exp_hidden": (0.0, False)},
    "wendy": FULL,
}
# Graded by `grade` only, in the same run: (what the reason must mention, ...).
UNGRADABLES = {
    "bad_json": ("not a readable notebook", "JSON"),
    "deleted": ("cells deleted", "test_exp_visible"),
    "duplicated": ("cells duplicated", "exp_vjp"),
    "looper": ("time budget", "10 s"),
    "crasher": ("kernel stopped", "test_exp_visible"),
    "bomber": ("memory limit", "1024 MiB"),
}


# --- helpers ------------------------------------------------------------------


def _env(**extra):
    """This venv's bin/ first on PATH: nbgrader runs `alembic` from PATH."""
    env = dict(os.environ, **extra)
    env["PATH"] = str(BIN) + os.pathsep + env.get("PATH", "")
    return env


def grade_cli(course, *args, tmpdir=None, expect=0):
    """`python -m autograder --root COURSE grade ARGS --quiet` in a subprocess."""
    extra = {"TMPDIR": str(tmpdir)} if tmpdir else {}
    proc = subprocess.run(
        [sys.executable, "-m", "autograder", "--root", str(course), "grade", *args, "--quiet"],
        capture_output=True,
        text=True,
        env=_env(**extra),
        timeout=300,
    )
    assert proc.returncode == expect, proc.stdout + proc.stderr
    return proc


GRADE_API = """
import json, sys
from dataclasses import asdict
from autograder.grading.grader import Grader, Limits, find_submissions
root, force = sys.argv[1], sys.argv[2] == "force"
limits = Limits(workers=2, time_budget=60, memory_mib=2048)
results = Grader(root, limits, force=force, progress=False).grade(find_submissions(root))
print("RESULTS " + json.dumps([[asdict(status), regraded] for status, regraded in results]))
"""


def grade_api(course, force):
    """{student: (Status as a dict, regraded)} from `Grader(...).grade(...)`, run
    in a subprocess (the grader patches nbgrader for speed in its process)."""
    proc = subprocess.run(
        [sys.executable, "-c", GRADE_API, str(course), "force" if force else "no"],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    line = [x for x in proc.stdout.splitlines() if x.startswith("RESULTS ")][-1]
    return {status["student"]: (status, regraded) for status, regraded in json.loads(line[8:])}


def stock_autograde(course):
    """The real `nbgrader autograde AID --force`, run where an instructor would."""
    return subprocess.run(
        [str(BIN / "nbgrader"), "autograde", AID, "--force"],
        cwd=course,
        capture_output=True,
        text=True,
        env=_env(),
        timeout=300,
    )


def _gradebook(course):
    from nbgrader.api import Gradebook

    course_id = load_config(course).CourseDirectory.course_id
    return Gradebook(f"sqlite:///{course / 'gradebook.db'}", course_id)


def scores(course):
    """{student: {cell: (score, needs_manual_grade)}} from the gradebook."""
    found = {}
    with _gradebook(course) as gb:
        for submission in gb.find_assignment(AID).submissions:
            found[submission.student.id] = {
                grade.name: (grade.score, grade.needs_manual_grade)
                for notebook in submission.notebooks
                for grade in notebook.grades
            }
    return found


def row_counts(course):
    tables = ("student", "submitted_assignment", "submitted_notebook", "grade", "comment")
    with sqlite3.connect(course / "gradebook.db") as db:
        return {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}


def integrity(course):
    with sqlite3.connect(course / "gradebook.db") as db:
        return db.execute("PRAGMA integrity_check").fetchall()


def status(course, student):
    return json.loads((course / "autograded" / student / AID / "autograder.json").read_text())


def released(course):
    return nbformat.read(str(course / "release" / AID / f"{AID}.ipynb"), as_version=4)


def cell(nb, grade_id):
    (found,) = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id]
    return found


def answered(course, solution):
    """The release with `solution` in the answer cell (None: untouched)."""
    nb = released(course)
    if solution is not None:
        cell(nb, "exp_vjp").source = solution
    return nb


def submit(course, student, nb=None, text=None):
    folder = course / "submitted" / student / AID
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{AID}.ipynb"
    if text is None:
        text = nbformat.writes(nb)
    path.write_text(text)
    return path


def outputs(course, student, grade_id):
    nb = nbformat.read(str(course / "autograded" / student / AID / f"{AID}.ipynb"), as_version=4)
    return cell(nb, grade_id).outputs


# --- fixtures -----------------------------------------------------------------


@pytest.fixture(scope="module")
def release_course(tmp_path_factory):
    """A course with AID released: gradebook.db knows its cells."""
    course = make_course(tmp_path_factory.mktemp("released"), {AID: make_notebook()}).resolve()
    run(nbgrader_api(course).generate_assignment(AID, force=True, create=True), "generate")
    return course


@pytest.fixture
def new_course(release_course, tmp_path_factory):
    """A fresh copy of the released course (with its gradebook)."""

    def copy_of(name):
        dest = tmp_path_factory.mktemp(name) / "course"
        shutil.copytree(release_course, dest)
        return dest

    return copy_of


@pytest.fixture(scope="module")
def graded(release_course, tmp_path_factory):
    """The same submissions graded by stock nbgrader (in `stock`) and by `grade`
    (in `ours`, which also holds the hostile ones); both runs at once."""
    base = tmp_path_factory.mktemp("graded")
    stock, ours = base / "stock", base / "ours"
    for course in (stock, ours):
        shutil.copytree(release_course, course)
        for student, solution in {**COMPARED, "nora": NOISY}.items():
            submit(course, student, answered(course, solution))

    submit(ours, "bad_json", text=nbformat.writes(released(ours))[:200])
    nb = answered(ours, CORRECT)
    nb.cells.remove(cell(nb, "test_exp_visible"))
    submit(ours, "deleted", nb)
    nb = answered(ours, CORRECT)
    first_try = copy.deepcopy(cell(nb, "exp_vjp"))
    first_try.source, first_try.id = WRONG, "first-try"  # a copy-pasted cell gets a new id
    nb.cells.insert(nb.cells.index(cell(nb, "exp_vjp")), first_try)
    submit(ours, "duplicated", nb)
    for student, solution in {
        "looper": LOOPS,
        "crasher": CRASHES,
        "bomber": BOMB_IN_CELL,
        "bomber_in_function": BOMB_IN_FUNCTION,
        "writer": WRITES,
    }.items():
        submit(ours, student, answered(ours, solution))

    # Kernels work in their sandbox's own folder; TMPDIR (where the grader
    # keeps nothing of a kernel's) points here so that a stray write would show.
    scratch = base / "scratch"
    (scratch / "a" / "b").mkdir(parents=True)
    start = time.perf_counter()
    with open(base / "stock.log", "w") as log:
        stock_run = subprocess.Popen(
            [str(BIN / "nbgrader"), "autograde", AID, "--force"],
            cwd=stock,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=_env(),
        )
        try:
            ours_run = grade_cli(
                ours, "--time-limit", "10", "--memory-mib", "1024", tmpdir=scratch / "a" / "b"
            )
            ours_seconds = time.perf_counter() - start
            stock_run.wait(timeout=300)
        finally:
            stock_run.kill()
    assert stock_run.returncode == 0, (base / "stock.log").read_text()
    print(ours_run.stdout)
    print(
        f"stock and ours at once: ours {ours_seconds:.1f} s, both {time.perf_counter() - start:.1f} s"
    )
    return {
        "stock": stock,
        "ours": ours,
        "scratch": scratch,
        "out": ours_run.stdout,
        "stock_scores": scores(stock),
        "ours_scores": scores(ours),
    }


# --- 1. the same scores as stock nbgrader ------------------------------------


def test_every_cell_score_is_the_same_as_stock_nbgrader(graded):
    stock, ours = graded["stock_scores"], graded["ours_scores"]
    for student in COMPARED:
        assert stock[student] == EXPECTED[student], student  # the cases do what they claim
        assert ours[student] == stock[student], student
    for student in COMPARED:
        record = status(graded["ours"], student)
        assert record["status"] == "graded" and record["reason"] == ""
        assert record["score"] == sum(s for s, _ in stock[student].values())
        assert record["max_score"] == 3
    total = len(os.listdir(graded["ours"] / "submitted"))
    assert f"{total} submission(s): " in graded["out"]


# --- 2. deliberate difference: stderr in a passing test cell ------------------


def test_stderr_costs_points_in_stock_but_not_in_grade(graded):
    # stock runs the test cells in the student's kernel: the line lands in their
    # output, and a test cell with stderr output scores 0 although it passed
    for grade_id in ("test_exp_visible", "test_exp_hidden"):
        streams = outputs(graded["stock"], "nora", grade_id)
        assert any(o.get("name") == "stderr" and NOISE in o.text for o in streams)
        assert not any(o.output_type == "error" for o in streams)
    assert graded["stock_scores"]["nora"] == {
        "test_exp_visible": (0.0, False),
        "test_exp_hidden": (0.0, False),
    }
    # ours judges the test cells outside the kernel: what the student's code
    # prints while the tests call it is not the cell's output, and the cell
    # keeps its points
    for grade_id in ("test_exp_visible", "test_exp_hidden"):
        assert outputs(graded["ours"], "nora", grade_id) == []
    assert graded["ours_scores"]["nora"] == FULL
    record = status(graded["ours"], "nora")
    assert record["status"] == "graded" and record["score"] == 3


# --- 3. ungradable notebooks, recorded with the reason ------------------------


@pytest.mark.parametrize("student", list(UNGRADABLES))
def test_ungradable_notebook_is_recorded_with_its_reason(graded, student):
    record = status(graded["ours"], student)
    assert record["status"] == "ungradable"
    for words in UNGRADABLES[student]:
        assert words in record["reason"], record["reason"]
    assert record["score"] == 0 and record["max_score"] == 3
    # in the gradebook: 0 everywhere, every cell waiting for manual grading
    assert graded["ours_scores"][student] == UNGRADABLE
    assert f"ungradable {student}/{AID}" in graded["out"]


def test_memory_bomb_inside_the_tested_function_is_ungradable(graded):
    record = status(graded["ours"], "bomber_in_function")
    assert record["status"] == "ungradable", record
    assert "memory limit" in record["reason"]


def test_the_rest_of_the_class_is_graded_and_the_gradebook_is_sound(graded):
    ours = graded["ours"]
    assert integrity(ours) == [("ok",)]
    assert graded["ours_scores"]["alice"] == FULL
    # every submission of the run is in the gradebook, graded or not
    assert set(graded["ours_scores"]) == set(os.listdir(ours / "submitted"))


def test_student_code_cannot_touch_the_gradebook(graded):
    ours = graded["ours"]
    assert graded["ours_scores"]["writer"] == FULL
    assert status(ours, "writer")["status"] == "graded"
    assert integrity(ours) == [("ok",)]
    assert (ours / "gradebook.db").read_bytes()[:16] == b"SQLite format 3\x00"
    # the writes happened, inside the sandbox's own working folder, which has
    # nothing of the course in it and went away with the kernel
    (printed,) = [o.text for o in outputs(ours, "writer", "exp_vjp") if o.get("name") == "stdout"]
    written = [line.split(" ", 1)[1] for line in printed.splitlines()]
    assert written == ["/home/student/gradebook.db", f"/home/student/{AID}.ipynb"]
    assert not list(graded["scratch"].rglob("gradebook.db"))
    assert not (ours.parent / "gradebook.db").exists()
    # the graded notebook is the grader's, not the file the student wrote in its cwd
    assert outputs(ours, "writer", "test_exp_visible") == []
    # the other scores are stock nbgrader's
    for student in COMPARED:
        assert graded["ours_scores"][student] == graded["stock_scores"][student]


def test_stock_nbgrader_lets_student_code_overwrite_the_gradebook(new_course):
    """Why kernels run in a sandbox: stock runs them in
    autograded/<student>/<aid>/, three levels under gradebook.db."""
    course = new_course("stock_writer")
    submit(course, "writer", answered(course, WRITES))
    stock_autograde(course)
    assert (course / "gradebook.db").read_text() == "pwned"


# --- 4. idempotent regrading ------------------------------------------------


def test_regrading_is_idempotent_and_skips_unchanged_submissions(new_course):
    course = new_course("idempotent")
    for student in ("alice", "carol", "eve"):
        submit(course, student, answered(course, COMPARED[student]))

    first = grade_api(course, force=True)
    first_scores, first_rows = scores(course), row_counts(course)
    assert all(regraded for _, regraded in first.values())
    assert {s: first_scores[s] for s in first} == {s: EXPECTED[s] for s in first}

    second = grade_api(course, force=True)
    assert all(regraded for _, regraded in second.values())
    assert scores(course) == first_scores
    assert row_counts(course) == first_rows

    def snapshot():
        return {
            path: (path.read_bytes(), path.stat().st_mtime_ns)
            for path in (course / "autograded").rglob("*")
            if path.is_file()
        }

    before = snapshot()
    start = time.perf_counter()
    third = grade_api(course, force=False)
    print(f"regrade of 3 unchanged submissions: {time.perf_counter() - start:.1f} s")
    assert not any(regraded for _, regraded in third.values())
    assert {s: status for s, (status, _) in third.items()} == {
        s: status for s, (status, _) in second.items()
    }
    assert snapshot() == before  # nothing re-executed or rewritten
    assert scores(course) == first_scores and row_counts(course) == first_rows

    submit(course, "carol", answered(course, CORRECT))
    fourth = grade_api(course, force=False)
    assert {s: regraded for s, (_, regraded) in fourth.items()} == {
        "alice": False,
        "carol": True,
        "eve": False,
    }
    assert scores(course) == {**first_scores, "carol": FULL}
    assert row_counts(course) == first_rows
    after = snapshot()
    for path, value in before.items():
        if "carol" not in path.parts:
            assert after[path] == value, path


# --- 5. collecting a folder or a zip ------------------------------------------


def _files(folder):
    return {p.relative_to(folder) for p in folder.rglob("*") if p.is_file()}


def test_grade_from_a_folder_then_from_a_zip(new_course, tmp_path):
    course = new_course("collect")
    alice_v1 = nbformat.writes(answered(course, WRONG))
    alice_v2 = nbformat.writes(answered(course, CORRECT))
    bob = nbformat.writes(answered(course, VISIBLE_ONLY))

    downloads = tmp_path / "downloads"
    (downloads / "bob").mkdir(parents=True)
    (downloads / "alice.ipynb").write_text(alice_v1)
    (downloads / "bob" / f"{AID}.ipynb").write_text(bob)
    (downloads / ".ipynb_checkpoints").mkdir()
    (downloads / ".ipynb_checkpoints" / "alice-checkpoint.ipynb").write_text(alice_v2)
    out = grade_cli(course, AID, "--from", str(downloads)).stdout
    assert "collected 2 notebook(s)" in out
    submitted = course / "submitted"
    assert sorted(os.listdir(submitted)) == ["alice", "bob"]
    assert (submitted / "alice" / AID / f"{AID}.ipynb").read_text() == alice_v1
    assert (submitted / "bob" / AID / f"{AID}.ipynb").read_text() == bob
    for student in ("alice", "bob"):
        stamp = (submitted / student / AID / "timestamp.txt").read_text()
        assert datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S.%f UTC")
    assert scores(course)["alice"] == {
        "test_exp_visible": (0.0, False),
        "test_exp_hidden": (0.0, False),
    }
    assert scores(course)["bob"] == EXPECTED["eve"]

    archive = tmp_path / "downloads.zip"
    when = (2024, 3, 1, 12, 30, 0)
    entries = [
        ("alice.ipynb", alice_v2),  # a new version: the old one goes to collect_backup/
        (f"bob/{AID}.ipynb", bob),  # unchanged
        ("bob/scratch.ipynb", alice_v1),  # not a student called "scratch"
        ("carol.ipynb", alice_v2),
        (f"carol/{AID}.ipynb", alice_v1),  # a second notebook for carol
        ("bad name!.ipynb", alice_v2),
        ("../evil.ipynb", alice_v2),
        (f"x/../../{AID}.ipynb", alice_v2),
        ("__MACOSX/._alice.ipynb", "junk"),
    ]
    with zipfile.ZipFile(archive, "w") as zf:
        for name, text in entries:
            zf.writestr(zipfile.ZipInfo(name, date_time=when), text)
    outside_before = _files(tmp_path) - _files(course)
    before = _files(course)

    out = grade_cli(course, AID, "--from", str(archive)).stdout
    assert "1 unchanged" in out
    assert "skipped bad name!.ipynb: 'bad name!' is not a usable student id" in out
    assert f"skipped carol/{AID}.ipynb: a second notebook for carol" in out
    assert f"skipped x/../../{AID}.ipynb" in out
    assert "skipped bob/scratch.ipynb: an extra notebook in bob's folder" in out
    assert not (submitted / "scratch").exists()
    # nothing written outside submitted/ (and the grader's own outputs)
    assert _files(tmp_path) - _files(course) == outside_before
    new = {p.parts[0] for p in _files(course) - before}
    assert new <= {"submitted", "autograded", "collect_backup"}, new
    # `../evil.ipynb` is either skipped or collected as student "evil", inside submitted/
    assert "skipped ../evil.ipynb" in out or (submitted / "evil" / AID / f"{AID}.ipynb").is_file()
    # nothing lost: alice's first notebook is in collect_backup/
    (backup,) = (course / "collect_backup" / "alice" / AID).iterdir()
    assert backup.read_text() == alice_v1
    assert (submitted / "alice" / AID / f"{AID}.ipynb").read_text() == alice_v2
    assert (submitted / "carol" / AID / f"{AID}.ipynb").read_text() == alice_v2
    stamp = (submitted / "carol" / AID / "timestamp.txt").read_text()
    assert stamp == "2024-03-01 12:30:00.000000 UTC"
    with _gradebook(course) as gb:
        assert gb.find_submission(AID, "carol").timestamp == datetime(*when)
    # only changed submissions were graded again; bob kept his record
    assert "1 unchanged since the last run" in out
    got = scores(course)
    assert got["alice"] == FULL and got["carol"] == FULL and got["bob"] == EXPECTED["eve"]


# --- 6. the command line --------------------------------------------------------


def test_grade_help_lists_its_options():
    out = subprocess.run(
        [sys.executable, "-m", "autograder", "grade", "--help"],
        capture_output=True,
        text=True,
        check=True,
        env=_env(),
    ).stdout
    for option in ("--workers", "--time-limit", "--memory-mib", "--from", "--force", "--student"):
        assert option in out


def test_grade_refuses_unknown_and_unreleased_assignments(new_course):
    course = new_course("errors")
    submit(course, "alice", answered(course, CORRECT))
    err = grade_cli(course, "99_nope", expect=2).stderr
    assert "no assignment 99_nope" in err and AID in err

    err = grade_cli(course, AID, "01_new", "--from", str(course), expect=2).stderr
    assert "--from needs exactly one assignment" in err

    # in source/ and submitted, but never released: not in the gradebook
    new = course / "source" / "01_new"
    new.mkdir()
    nbformat.write(make_notebook(), str(new / "01_new.ipynb"))
    folder = course / "submitted" / "alice" / "01_new"
    folder.mkdir(parents=True)
    nbformat.write(make_notebook(), str(folder / "01_new.ipynb"))
    err = grade_cli(course, "01_new", expect=2).stderr
    assert "01_new is not in the gradebook" in err and "release it first" in err
    assert not (course / "autograded").exists()  # stopped before grading anything
