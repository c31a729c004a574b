"""The adversarial catalog (tests/hostile_catalog.py) graded by the real
`python -m autograder grade`, next to an honest class.

One course with assignments 03 and 05 as shipped, plus canaries: a secret in
a hidden test, a secret file in the course, a secret in another student's
submission and one in the grader's environment. The honest class is graded
once alone (the baseline), then again together with every hostile
submission. Then, for every attack: the same cell scores as the untouched
stub, no canary in anything of the student's (autograded outputs, feedback
page, the network listeners of this test); and for the run: the honest
scores as in the baseline, the gradebook, the course and the Python
environment unchanged, no process and no file left behind.
"""

import hashlib
import json
import os
import re
import secrets
import shutil
import socket
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import nbformat
import pytest
from hostile_catalog import ATTACKS, FIRST_ANSWER, INSERT_AFTER, PRELUDE
from nbconvert.exporters import HTMLExporter

from autograder.instructor.course import nbgrader_api, run
from autograder.instructor.release import hand_graded_cells

ROOT = Path(__file__).resolve().parent.parent
AIDS = ("03_jacobians_vjps", "05_tensor_engine")
BIN = Path(sys.executable).parent
TOKEN = secrets.token_hex(6)
CANARIES = {
    "hidden test": f"HIDDEN-TEST-CANARY-{TOKEN}",
    "course file": f"COURSE-FILE-CANARY-{TOKEN}",
    "other student": f"OTHER-STUDENT-CANARY-{TOKEN}",
    "grader environment": f"GRADER-ENV-CANARY-{TOKEN}",
}
HONEST = ("honest_correct", "honest_stub", "honest_victim")
# Honest students graded next to the nastiest attacks: submissions are graded in name
# order, two at a time, so "<attack>_neighbour" runs while "<attack>" does.
NEIGHBOURS = (
    "fork_bomb", "cpu_threads", "kills_everything", "fills_the_disk", "memory_bomb_inside_a_test",
    "attacks_other_kernels", "background_writer", "leaves_processes", "writes_the_gradebook",
)  # fmt: skip
pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the sandbox is Linux namespaces")


# --- the course -------------------------------------------------------------------------------


def _gid(cell):
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def _plant_hidden_canary(path):
    nb = nbformat.read(str(path), as_version=4)
    for cell in nb.cells:
        if "### BEGIN HIDDEN TESTS" in cell.source:
            cell.source = cell.source.replace(
                "### BEGIN HIDDEN TESTS\n",
                f"### BEGIN HIDDEN TESTS\n_canary = '{CANARIES['hidden test']}'\n",
                1,
            )
            break
    nbformat.write(nb, str(path))


def _indent(code, spaces):
    return "\n".join(" " * spaces + line if line.strip() else line for line in code.splitlines())


def _attack_code(attack, port, abstract):
    return (PRELUDE + attack.code).replace("{port}", str(port)).replace("{abstract}", abstract)


def hostile_notebook(release, attack, port, abstract):
    """The untouched release of `attack.assignment` carrying the attack."""
    nb = nbformat.read(str(release), as_version=4)
    code = _attack_code(attack, port, abstract)
    if attack.where == "cell":
        at = next(k for k, c in enumerate(nb.cells) if _gid(c) == INSERT_AFTER[attack.assignment])
        nb.cells.insert(at + 1, nbformat.v4.new_code_cell(code))
    elif attack.where == "solutions":
        for cell in nb.cells:
            if cell.metadata.get("nbgrader", {}).get("solution") and cell.cell_type == "code":
                cell.source += "\n\n\n" + code
    else:
        (cell,) = [c for c in nb.cells if _gid(c) == FIRST_ANSWER[attack.assignment]]
        prelude = PRELUDE.replace("{port}", str(port)).replace("{abstract}", abstract)
        body = attack.code.strip().replace("{port}", str(port)).replace("{abstract}", abstract)
        cell.source = (
            prelude
            + "\n\n"
            + cell.source.replace(
                "raise NotImplementedError()",
                _indent(body, 4).lstrip() + "\n    raise NotImplementedError()",
                1,
            )
        )
    if attack.markdown:
        nb.cells.append(nbformat.v4.new_markdown_cell(attack.markdown))
    return nb


def _write(course, student, aid, nb):
    folder = course / "submitted" / student / aid
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(folder / f"{aid}.ipynb"))


def _grade(course, *args):
    env = dict(os.environ, AUTOGRADER_TEST_SECRET=CANARIES["grader environment"])
    env["PATH"] = f"{BIN}{os.pathsep}{env['PATH']}"
    proc = subprocess.run(
        [sys.executable, "-m", "autograder", "--root", str(course), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=1800,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def _cell_scores(course):
    """{(student, assignment): {cell: score}} from the gradebook."""
    from nbgrader.api import Gradebook

    scores = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for assignment in gb.assignments:
            for sub in assignment.submissions:
                cells = scores.setdefault((sub.student.id, assignment.name), {})
                for nb in sub.notebooks:
                    for grade in nb.grades:
                        cells[grade.name] = grade.score
    return scores


def _tree_digest(*folders):
    digest = hashlib.sha256()
    for folder in folders:
        for path in sorted(Path(folder).rglob("*")):
            if "__pycache__" in path.parts or path.suffix == ".pyc":
                continue
            digest.update(str(path).encode())
            if path.is_file():
                digest.update(path.read_bytes())
    return digest.hexdigest()


def _environment_folders():
    import autograder

    site = [p for p in sys.path if p.endswith("site-packages")]
    return [Path(autograder.__file__).parent, *site[:1]]


def _processes():
    """{pid: (uid, command line)} of every process now."""
    found = {}
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
                found[int(pid)] = (os.stat(f"/proc/{pid}").st_uid, cmd)
            except OSError:
                pass
    return found


class _Listener:
    """A TCP and an abstract Unix socket that record anything sent to them."""

    def __init__(self):
        self.received = []
        self.tcp = socket.create_server(("127.0.0.1", 0))
        self.port = self.tcp.getsockname()[1]
        self.abstract = f"autograder-test-{TOKEN}"
        self.unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.unix.bind("\0" + self.abstract)
        self.unix.listen()
        for sock in (self.tcp, self.unix):
            threading.Thread(target=self._accept, args=(sock,), daemon=True).start()

    def _accept(self, sock):
        while True:
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            self.received.append(conn.recv(1 << 20))
            conn.close()

    def close(self):
        self.tcp.close()
        self.unix.close()


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = tmp_path_factory.mktemp("hostile") / "course"
    course.mkdir()
    shutil.copy2(ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
    for aid in AIDS:
        shutil.copytree(ROOT / "source" / aid, course / "source" / aid)
        _plant_hidden_canary(course / "source" / aid / f"{aid}.ipynb")
    (course / "secret.txt").write_text(CANARIES["course file"])
    api = nbgrader_api(course)
    for aid in AIDS:
        run(api.generate_assignment(aid, force=True, create=True), f"generate {aid}")
        source = nbformat.read(str(course / "source" / aid / f"{aid}.ipynb"), as_version=4)
        release = nbformat.read(str(course / "release" / aid / f"{aid}.ipynb"), as_version=4)
        _write(course, "honest_correct", aid, source)
        _write(course, "honest_stub", aid, release)
        victim = nbformat.read(str(course / "source" / aid / f"{aid}.ipynb"), as_version=4)
        victim.cells.append(nbformat.v4.new_markdown_cell(CANARIES["other student"]))
        _write(course, "honest_victim", aid, victim)
    _grade(course, "grade", "--quiet")
    baseline = _cell_scores(course)

    listener = _Listener()
    for attack in ATTACKS:
        release = course / "release" / attack.assignment / f"{attack.assignment}.ipynb"
        nb = hostile_notebook(release, attack, listener.port, listener.abstract)
        _write(course, attack.name, attack.assignment, nb)
        if attack.name in NEIGHBOURS:
            source = course / "source" / attack.assignment / f"{attack.assignment}.ipynb"
            neighbour = nbformat.read(str(source), as_version=4)
            _write(course, f"{attack.name}_neighbour", attack.assignment, neighbour)
    course_digest = _tree_digest(course / "source", course / "release")
    honest_digest = _tree_digest(*(course / "submitted" / s for s in HONEST))
    secret_before = (course / "secret.txt").read_bytes()
    environment_digest = _tree_digest(*_environment_folders())
    before = _processes()
    output = _grade(course, "grade", "--quiet", "--force", "--time-limit", "25")
    after = _processes()
    _grade(course, "feedback")
    listener.close()
    return {
        "course": course,
        "output": output,
        "baseline": baseline,
        "scores": _cell_scores(course),
        "received": listener.received,
        "course_unchanged": course_digest == _tree_digest(course / "source", course / "release"),
        "honest_unchanged": honest_digest
        == _tree_digest(*(course / "submitted" / s for s in HONEST)),
        "secret_unchanged": secret_before == (course / "secret.txt").read_bytes(),
        "environment_unchanged": environment_digest == _tree_digest(*_environment_folders()),
        "new_processes": {pid: info for pid, info in after.items() if pid not in before},
    }


def _status(course, student, aid):
    return json.loads((course / "autograded" / student / aid / "autograder.json").read_text())


def _outputs_text(course, student, aid):
    path = course / "autograded" / student / aid / f"{aid}.ipynb"
    if not path.is_file():
        return ""
    nb = nbformat.read(str(path), as_version=4)
    return json.dumps([c.get("outputs", []) for c in nb.cells])


# --- every attack ------------------------------------------------------------------------------


@pytest.mark.parametrize("attack", ATTACKS, ids=lambda a: a.name)
def test_attack_scores_what_the_stub_scores(graded, attack):
    scores = graded["scores"]
    stub = scores[("honest_stub", attack.assignment)]
    got = scores.get((attack.name, attack.assignment))
    assert got == stub, (
        graded["output"],
        _status(graded["course"], attack.name, attack.assignment),
    )
    mode = "bubblewrap" if shutil.which("bwrap") else "namespaces"
    assert _status(graded["course"], attack.name, attack.assignment)["sandbox"] == mode


@pytest.mark.parametrize("attack", ATTACKS, ids=lambda a: a.name)
def test_attack_leaks_nothing(graded, attack):
    course = graded["course"]
    shown = _outputs_text(course, attack.name, attack.assignment)
    for page in (course / "feedback" / attack.name).rglob("*.html"):
        shown += page.read_text()
    for what, canary in CANARIES.items():
        assert canary not in shown, (
            f"{attack.name} got the {what} canary into its outputs or feedback"
        )


@pytest.mark.parametrize("attack", ATTACKS, ids=lambda a: a.name)
def test_kernel_output_is_plain(graded, attack):
    path = graded["course"] / "autograded" / attack.name / attack.assignment
    notebook = path / f"{attack.assignment}.ipynb"
    if not notebook.is_file():
        return
    nb = nbformat.read(str(notebook), as_version=4)
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            assert set(out.get("data", {})) <= {
                "text/plain",
                "image/png",
                "image/jpeg",
                "image/gif",
            }
            assert out.get("metadata", {}) == {} or out["output_type"] not in ("display_data",)


# --- the run as a whole ------------------------------------------------------------------------


def test_the_catalog_covers_every_class_of_attack():
    kinds = {a.kind for a in ATTACKS}
    assert kinds == {"points", "reading", "harm", "grader"}
    assert len(ATTACKS) >= 40


def test_honest_students_keep_their_scores(graded):
    for student in HONEST:
        for aid in AIDS:
            assert graded["scores"][(student, aid)] == graded["baseline"][(student, aid)], student
    for name in NEIGHBOURS:
        (attack,) = [a for a in ATTACKS if a.name == name]
        full = graded["baseline"][("honest_correct", attack.assignment)]
        assert graded["scores"][(f"{name}_neighbour", attack.assignment)] == full, name
    for aid in AIDS:
        correct = graded["scores"][("honest_correct", aid)]
        # a derivation scores 0 until graded by hand
        by_hand = hand_graded_cells(ROOT / "source" / aid / f"{aid}.ipynb")
        assert by_hand and set(by_hand) < set(correct)
        assert all(score > 0 for cell, score in correct.items() if cell not in by_hand), correct
        assert not any(graded["scores"][("honest_stub", aid)].values())


def test_nothing_reached_the_network(graded):
    assert graded["received"] == []


def test_gradebook_course_and_environment_unchanged(graded):
    course = graded["course"]
    con = sqlite3.connect(course / "gradebook.db")
    assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    students = {row[0] for row in con.execute("SELECT id FROM student")}
    con.close()
    assert students == {p.name for p in (course / "submitted").iterdir()}
    assert graded["course_unchanged"] and graded["honest_unchanged"] and graded["secret_unchanged"]
    assert graded["environment_unchanged"]


def test_no_process_left_behind(graded):
    import time

    time.sleep(1)  # the kernel reaps a killed sandbox's processes at once; allow a moment
    left = {
        pid: info
        for pid, info in graded["new_processes"].items()
        if Path(f"/proc/{pid}").exists() and ("sleep 3600" in info[1] or info[0] == 65534)
    }
    assert left == {}


def test_no_file_left_behind(graded):
    marks = []
    for top in ("/tmp", "/var/tmp", "/dev/shm"):
        for _dirpath, dirnames, filenames in os.walk(top):
            dirnames[:] = [d for d in dirnames if not d.startswith("pytest-of-")]
            marks += [f for f in filenames if "HOSTILE-MARK" in f or f == "pwned"]
    assert marks == []


def test_formgrader_page_runs_no_student_script(graded):
    """nbgrader's formgrader renders the autograded notebook with the course's
    config; nothing the kernel displayed becomes live HTML or script."""
    from traitlets.config import Config

    from autograder.instructor.course import load_config

    config = Config(load_config(graded["course"]))
    exporter = HTMLExporter(config=config)
    path = graded["course"] / "autograded" / "script_in_outputs" / "03_jacobians_vjps"
    html, _ = exporter.from_filename(str(path / "03_jacobians_vjps.ipynb"))
    scripts = re.findall(r"<script\b[^>]*>(.*?)</script>", html, flags=re.S | re.I)
    assert not [s for s in scripts if "alert(" in s or "document.title" in s]
    assert not re.search(r"<[a-z]+\b[^>]*\bon(error|load)\s*=", html, flags=re.I)
