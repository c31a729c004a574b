"""The course's nbgrader exchange loop, with nbgrader's own commands, end to end:

instructor `autograder release` + `nbgrader release_assignment` -> students `fetch_assignment`,
work, `submit` -> instructor `nbgrader collect`, `autograder grade`, `autograder feedback`,
`nbgrader release_feedback` -> students `fetch_feedback`.

Students are separate Unix users with private homes (created for the test; CI runs as root), as
on a shared machine; the exchange is a world-writable folder with the sticky bit, as nbgrader
documents, passed through NBGRADER_EXCHANGE. Without root there is one student, in their own
home, and the checks that need a second Unix user are skipped.
"""

import os
import shutil
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest

from course_fixtures import make_course, make_notebook
from unix_users import BIN, IS_ROOT, add_user, remove_user, run, usable_by_others

AID = "00_demo"


class Student:
    """A student with a private home and nbgrader's per-user config pointing at the exchange."""

    def __init__(self, name, base, exchange, unix):
        self.home = base / name
        self.home.mkdir(mode=0o700)
        (self.home / ".jupyter").mkdir()
        (self.home / ".jupyter" / "nbgrader_config.py").write_text(
            'c = get_config()\nc.CourseDirectory.course_id = "autodiff"\n'
            f'c.Exchange.root = "{exchange}"\n'
        )
        self.user = None
        self.name = os.environ.get("USER") or "root"
        if unix:
            self.name = f"adx{os.getpid() % 100000}{name[:6]}"
            self.user = add_user(self.name, self.home)

    def nbgrader(self, *args, check=True):
        env = {"HOME": str(self.home), "USER": self.name}
        return run([str(BIN / "nbgrader"), *args], self.home, env, self.user, check)

    def remove(self):
        if self.user:
            remove_user(self.name)


@pytest.fixture(scope="module")
def loop():
    base = Path(tempfile.mkdtemp(prefix="autodiff-exchange-"))
    base.chmod(0o755)
    exchange = base / "exchange"
    exchange.mkdir()
    exchange.chmod(0o1777)  # as nbgrader documents for /srv/nbgrader/exchange
    course = base / "course"
    course.mkdir()
    make_course(course, {AID: make_notebook()})
    unix = IS_ROOT and shutil.which("useradd") and usable_by_others("nbgrader")
    students = [Student("alice", base, exchange, unix)]
    if unix:
        students.append(Student("bob", base, exchange, unix))
    env = {"NBGRADER_EXCHANGE": str(exchange), "HOME": str(base)}
    try:
        py = [sys.executable, "-m", "autograder", "--root", str(course)]
        run([*py, "release", AID], course, env)
        run([str(BIN / "nbgrader"), "release_assignment", AID], course, env)
        fetched = {}
        for s in students:
            log = s.nbgrader("fetch_assignment", AID).stderr
            fetched[s.name] = (log, (s.home / AID / f"{AID}.ipynb").read_text())
        alice = students[0]
        nb_path = alice.home / AID / f"{AID}.ipynb"
        nb = nbformat.read(str(nb_path), as_version=4)
        for cell in nb.cells:
            if cell.metadata.get("nbgrader", {}).get("grade_id") == "exp_vjp":
                cell.source = "def exp_vjp(dldf, x):\n    return (dldf * np.exp(x),)"
        nbformat.write(nb, str(nb_path))
        for s in students:
            s.nbgrader("submit", AID)
        peek = None
        if len(students) > 1:  # bob looks for alice's work
            peek = run(
                ["ls", str(exchange / "autodiff" / "inbound"), str(alice.home)],
                base, user=students[1].user, check=False,
            )  # fmt: skip
        run([str(BIN / "nbgrader"), "collect", AID], course, env)
        run([*py, "grade", AID, "--quiet"], course, env)
        run([*py, "feedback", AID], course, env)
        run([str(BIN / "nbgrader"), "release_feedback", AID], course, env)
        for s in students:
            s.nbgrader("fetch_feedback", AID)
        yield {
            "course": course,
            "exchange": exchange,
            "students": students,
            "fetched": fetched,
            "peek": peek,
        }
    finally:
        for s in students:
            s.remove()
        shutil.rmtree(base, ignore_errors=True)


def test_students_fetch_the_release_from_the_exchange(loop):
    course = loop["course"]
    released = (course / "release" / AID / f"{AID}.ipynb").read_text()
    for s in loop["students"]:
        log, text = loop["fetched"][s.name]
        assert "Fetched as: autodiff 00_demo" in log
        assert text == released


def test_collect_and_grade_give_each_student_their_own_score(loop):
    from nbgrader.api import Gradebook

    course, students = loop["course"], loop["students"]
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        scores = {s.name: gb.find_submission(AID, s.name).score for s in students}
    assert scores[students[0].name] == 3  # alice solved it
    if len(students) > 1:
        assert scores[students[1].name] == 0  # bob submitted the release untouched
    for s in students:
        assert (course / "submitted" / s.name / AID / f"{AID}.ipynb").is_file()


def test_students_fetch_their_own_feedback(loop):
    for s in loop["students"]:
        pages = list((s.home / AID / "feedback").rglob(f"{AID}.html"))
        assert len(pages) == 1, (s.name, list((s.home / AID).rglob("*")))
        text = pages[0].read_text()
        assert s.name in text
        for other in loop["students"]:
            if other is not s:
                assert other.name not in text
    alice = loop["students"][0]
    alice_page = next((alice.home / AID / "feedback").rglob(f"{AID}.html")).read_text()
    assert "3 / 3" in alice_page or "3/3" in alice_page


@pytest.mark.skipif(not IS_ROOT, reason="needs a second Unix user (run as root, as CI does)")
def test_a_student_cannot_list_the_inbound_nor_read_another_home(loop):
    if len(loop["students"]) < 2:
        pytest.skip("this environment's Python is not usable by another Unix user")
    peek = loop["peek"]
    assert peek.returncode != 0
    assert peek.stderr.count("Permission denied") == 2, peek.stderr
    inbound = loop["exchange"] / "autodiff" / "inbound"
    assert oct(inbound.stat().st_mode & 0o777) == "0o733"  # writable, not listable
