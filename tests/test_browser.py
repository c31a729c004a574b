"""The course in JupyterLab, driven in a real browser (Playwright with Debian's chromium).

A real `jupyter lab` serves a copy of the course files; the tests open notebooks as a student
does (untrusted copies), run them with JupyterLab's own commands and buttons and read what
JupyterLab shows; the instructor's formgrader is used on a graded demo class. Screenshots of
every step, and each step's time in `steps.txt`, go to `.browser-screenshots/` in the project
(kept after a failing run).
"""

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

playwright = pytest.importorskip("playwright.sync_api")

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / ".browser-screenshots"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    not CHROMIUM, reason="no chromium: the set-up installs Debian's chromium when run as root"
)

CELLS_JS = """() => {
    const cells = window.jupyterapp.shell.currentWidget.content.model.cells;
    const out = [];
    for (let i = 0; i < cells.length; i++) {
        const c = cells.get(i);
        out.push({
            type: c.type,
            id: (c.getMetadata('nbgrader') || {}).grade_id,
            test: c.type === 'code' && !!(c.getMetadata('nbgrader') || {}).grade,
            count: c.type === 'code' ? c.executionCount : null,
            outputs: c.type === 'code' ? c.outputs.toJSON() : [],
        });
    }
    return out;
}"""


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(home):
    """Start `jupyter lab` on `home`; returns (process, url, token)."""
    port, token = _free_port(), secrets.token_hex(16)
    env = dict(
        os.environ,
        HOME=str(home),
        JUPYTER_CONFIG_DIR=str(home / ".jupyter"),
        JUPYTERLAB_SETTINGS_DIR=str(home / "settings"),
        PATH=f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
    )
    cmd = [
        str(Path(sys.executable).parent / "jupyter"), "lab", "--no-browser", "--ip=127.0.0.1",
        f"--port={port}", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={home}",
        "--LabApp.expose_app_in_browser=True",
    ]  # fmt: skip
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    log = open(home / "lab.log", "w")
    server = subprocess.Popen(
        cmd, cwd=home, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    server.log = log
    for _ in range(240):
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return server, f"http://127.0.0.1:{port}", token
        except OSError:
            time.sleep(0.25)
    _stop(server)
    raise AssertionError(
        f"jupyter lab did not start in 60 s:\n{(home / 'lab.log').read_text()[-3000:]}"
    )


def _stop(server):
    server.terminate()
    try:
        server.wait(30)
    except subprocess.TimeoutExpired:  # shutting down its extensions can hang on an open browser
        os.killpg(server.pid, signal.SIGKILL)  # with its kernels
        server.wait(30)
    server.log.close()


@pytest.fixture(scope="module", autouse=True)
def _fresh_step_log():
    SHOTS.mkdir(exist_ok=True)
    (SHOTS / "steps.txt").unlink(missing_ok=True)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A running JupyterLab on a copy of a release and two lectures; yields (url, token, folder)."""
    from autograder.instructor.course import stamp_language_info

    home = tmp_path_factory.mktemp("lab")
    shutil.copytree(ROOT / "release" / "03_jacobians_vjps", home / "03_jacobians_vjps")
    # as `autograder release` writes it on this machine (the committed file may come from
    # another Python version)
    stamp_language_info(home / "03_jacobians_vjps" / "03_jacobians_vjps.ipynb")
    (home / "notebooks").mkdir()
    for lecture in ("01_chain_rule.ipynb", "06_graph_drawing.ipynb"):
        shutil.copy2(ROOT / "notebooks" / lecture, home / "notebooks")
        stamp_language_info(home / "notebooks" / lecture)
    settings = home / "settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    # render every cell (no virtual scrolling), so the page holds all outputs to inspect
    (settings / "tracker.jupyterlab-settings").write_text('{"windowingMode": "none"}')
    server, url, token = _serve(home)
    try:
        yield url, token, home
    finally:
        _stop(server)


@pytest.fixture()
def page():
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.console_errors, page.console_warnings, page.failed_requests = [], [], []
        page.on("console", lambda m: _console(page, m))
        page.on("requestfailed", lambda r: page.failed_requests.append(r.url))
        yield page
        browser.close()


def _console(page, message):
    if message.type == "error":
        page.console_errors.append(message.text)
    elif message.type == "warning":
        page.console_warnings.append(message.text)


def _open(page, lab, path):
    """Open `path` alone (`reset`: no notebooks restored from an earlier test's workspace)."""
    url, token, _ = lab
    page.goto(f"{url}/lab/tree/{path}?token={token}&reset")
    page.wait_for_function(
        """path => {
            const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
            const kernel = w && w.context && w.context.path === path
                && w.sessionContext.session && w.sessionContext.session.kernel;
            return kernel && kernel.status === 'idle';
        }""",
        arg=path,
        timeout=60_000,
    )


def _lab_command(page, url, token, command):
    """Open JupyterLab and run one of its commands (as its menu item would)."""
    page.goto(f"{url}/lab?token={token}")
    page.wait_for_function(
        "command => window.jupyterapp && window.jupyterapp.commands.hasCommand(command)",
        arg=command,
        timeout=60_000,
    )
    page.evaluate("command => window.jupyterapp.commands.execute(command)", command)


def _run_all(page, timeout_s=120):
    """JupyterLab's Run All, then wait until the kernel has executed every code cell."""
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        cells = page.evaluate(CELLS_JS)
        if all(c["count"] for c in cells if c["type"] == "code"):
            return cells
        time.sleep(0.5)
    raise AssertionError(f"Run All did not reach every cell in {timeout_s} s")


def _errors(cell):
    return [o for o in cell["outputs"] if o["output_type"] == "error"]


def _step(page, name, started):
    """Screenshot a step and record how long it took (`started`: time.time() at its start)."""
    seconds = time.time() - started
    page.screenshot(path=SHOTS / f"{name}.png")
    with open(SHOTS / "steps.txt", "a") as log:
        log.write(f"{name}: {seconds:.1f} s\n")
    return time.time()


def _modified(page):
    """Whether JupyterLab marks the open notebook modified (closing it would ask to save)."""
    return page.evaluate("window.jupyterapp.shell.currentWidget.context.model.dirty")


def _quiet(page):
    """No JavaScript error and no warning in the browser's console."""
    assert not page.console_errors, page.console_errors
    assert not page.console_warnings, page.console_warnings


def test_run_all_runs_every_test_and_shows_each_course_message(lab, page):
    started = time.time()
    _open(page, lab, "03_jacobians_vjps/03_jacobians_vjps.ipynb")
    page.wait_for_timeout(1000)  # the kernel's language_info has arrived by now
    assert not _modified(page)  # the student can close it without being asked to save
    started = _step(page, "01-release-opened", started)
    cells = _run_all(page)
    _step(page, "02-run-all", started)
    tests = [c for c in cells if c["test"]]
    assert len(tests) >= 10 and all(c["count"] for c in tests)  # none skipped by a failure above
    course_messages = 0
    for cell in tests:
        (error,) = _errors(cell)  # every test of an untouched release fails, visibly
        shown = "\n".join(error["traceback"])  # no frames of the course's package or libraries
        assert "site-packages" not in shown and "/autograder/" not in shown, cell["id"]
        if error["ename"] == "GradingError":  # the course's message
            course_messages += 1
            assert error["traceback"][0].startswith("\x1b[0;31mGradingError\x1b[0m: ")
            assert "(in the test cell, line" in error["traceback"][-1]
    assert course_messages >= len(tests) - 2, course_messages
    _quiet(page)


def test_a_fixed_stub_passes_its_tests_and_validate_says_what_is_left(lab, page):
    _open(page, lab, "03_jacobians_vjps/03_jacobians_vjps.ipynb")
    started = time.time()
    page.evaluate(
        """() => {
        const cells = window.jupyterapp.shell.currentWidget.content.model.cells;
        for (let i = 0; i < cells.length; i++) {
            const c = cells.get(i);
            if ((c.getMetadata('nbgrader') || {}).grade_id === 'tanh_vjp') {
                c.sharedModel.setSource(
                    'def tanh_vjp(dldf, x):\\n    return (dldf * (1.0 - np.tanh(x) ** 2),)');
            }
        }
    }"""
    )
    cells = {c["id"]: c for c in _run_all(page)}
    started = _step(page, "03-stub-fixed", started)
    assert not _errors(cells["test_tanh_vjp_visible"]), cells["test_tanh_vjp_visible"]["outputs"]
    assert not _errors(cells["test_tanh_vjp_hidden"])
    assert _errors(cells["test_tanh_jvp_visible"])  # the next exercise is still a stub

    # nbgrader's Validate button: saves, runs the notebook in a fresh kernel, lists what fails
    page.get_by_role("button", name="Validate").click()
    dialog = page.locator(".jp-Dialog")
    dialog.wait_for(timeout=120_000)
    page.wait_for_timeout(500)
    report = dialog.inner_text()
    started = _step(page, "04-validate", started)
    assert "Validation Results" in report
    assert "GradingError: tanh_jvp" in report  # the course's message for what is still to do
    assert "tanh_vjp is wrong" not in report and "GradingError: tanh_vjp" not in report
    saved = nbformat.read(lab[2] / "03_jacobians_vjps" / "03_jacobians_vjps.ipynb", 4)
    (answer,) = [
        c for c in saved.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "tanh_vjp"
    ]
    assert "np.tanh(x) ** 2" in answer.source  # Validate saved the student's work first
    _quiet(page)


@pytest.mark.parametrize(
    "lecture, drawn_by",
    [("01_chain_rule.ipynb", "matplotlib"), ("06_graph_drawing.ipynb", "graphviz")],
)
def test_lecture_figures_show_in_an_untrusted_notebook(lab, page, lecture, drawn_by):
    stored = nbformat.read(str(ROOT / "notebooks" / lecture), as_version=4)
    pngs = sum("image/png" in o.get("data", {}) for c in stored.cells for o in c.get("outputs", []))
    assert pngs >= 4
    started = time.time()
    _open(page, lab, f"notebooks/{lecture}")
    page.wait_for_timeout(2000)
    assert not _modified(page)
    shown = page.eval_on_selector_all(
        ".jp-OutputArea .jp-RenderedImage img",
        "imgs => imgs.filter(i => i.complete && i.naturalWidth > 0).length",
    )
    page.locator(".jp-OutputArea .jp-RenderedImage img").first.scroll_into_view_if_needed()
    _step(page, f"05-lecture-{lecture[:2]}-{drawn_by}-untrusted", started)
    assert shown >= pngs, (shown, pngs)
    _quiet(page)


def test_a_student_fetches_and_submits_from_the_assignment_list(tmp_path, page):
    """nbgrader's Assignment List in JupyterLab, on the course's exchange: Fetch, then Submit."""
    from course_fixtures import make_course, make_notebook

    course, exchange, home = tmp_path / "course", tmp_path / "exchange", tmp_path / "student"
    for folder in (course, exchange, home / ".jupyter"):
        folder.mkdir(parents=True)
    exchange.chmod(0o1777)
    make_course(course, {"00_demo": make_notebook()})
    nbgrader = str(Path(sys.executable).parent / "nbgrader")
    env = dict(os.environ, NBGRADER_EXCHANGE=str(exchange))
    for step in (["generate_assignment", "00_demo", "--create"], ["release_assignment", "00_demo"]):
        subprocess.run([nbgrader, *step], cwd=course, env=env, capture_output=True, check=True)
    (home / ".jupyter" / "nbgrader_config.py").write_text(
        f'c = get_config()\nc.CourseDirectory.course_id = "autodiff"\nc.Exchange.root = "{exchange}"\n'
    )
    server, url, token = _serve(home)
    try:
        started = time.time()
        _lab_command(page, url, token, "nbgrader:open-assignment-list")
        page.get_by_role("button", name="Fetch").click(timeout=60_000)
        page.get_by_role("button", name="Submit").wait_for(timeout=60_000)
        started = _step(page, "06-assignment-list-fetched", started)
        released = (course / "release" / "00_demo" / "00_demo.ipynb").read_text()
        assert (home / "00_demo" / "00_demo.ipynb").read_text() == released
        page.get_by_role("button", name="Submit").click()
        page.get_by_role("button", name="Fetch Feedback").wait_for(timeout=60_000)
        _step(page, "07-assignment-list-submitted", started)
        (submission,) = (exchange / "autodiff" / "inbound").iterdir()
        assert (submission / "00_demo.ipynb").read_text() == released
        _quiet(page)
    finally:
        _stop(server)


AID = "01_chain_rule"
DERIVATION = "derivation_five_point_error"
# nbgrader's formgrader frame is sandboxed with allow-scripts + allow-same-origin (it calls the
# server's API and asks JupyterLab to open notebooks); chromium warns about that combination.
SANDBOX_WARNING = "An iframe which has both allow-scripts and allow-same-origin"


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    """`autograder demo` for one assignment and 4 students: a graded course and its scores."""
    from nbgrader.api import Gradebook

    out = tmp_path_factory.mktemp("demo")
    demo = [sys.executable, "-m", "autograder", "demo", "--skip-release", "--students", "4"]
    result = subprocess.run(
        [*demo, "--out", str(out), AID], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    course = out / "course"
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        scores = {s.id: gb.find_submission(AID, s.id).score for s in gb.students}
    return course, scores


def test_the_instructor_grades_the_class_in_the_formgrader(graded_class, page):
    """Manage Assignments, Manage Students, Manual Grading: open a submission, grade by hand."""
    from nbgrader.api import Gradebook

    course, scores = graded_class
    server, url, token = _serve(course)
    try:
        started = time.time()
        _lab_command(page, url, token, "nbgrader:open-formgrader")
        frame = page.frame_locator("#formgrader-iframe iframe")
        row = frame.locator("tr", has_text=AID).first
        row.wait_for(timeout=60_000)
        page.wait_for_timeout(500)
        started = _step(page, "08-formgrader-assignments", started)
        body = frame.locator("body")
        assert "exchange directory" not in body.inner_text()  # release and collect available
        assert row.locator("td").nth(8).inner_text().strip() == str(len(scores))  # submissions

        frame.get_by_role("link", name="Manage Students").first.click()
        for student in scores:
            frame.locator("td", has_text=student).first.wait_for(timeout=30_000)
        started = _step(page, "09-formgrader-students", started)
        for student, score in scores.items():
            shown = frame.locator("tr", has_text=student).first.inner_text()
            assert f"{score:g} / 23" in shown, (student, shown)

        frame.get_by_role("link", name="Manual Grading").first.click()
        frame.get_by_role("link", name=AID).first.click()
        frame.get_by_role("link", name=AID).first.click()  # the assignment's one notebook
        rows = frame.locator("tr", has_text="Submission #")
        rows.first.wait_for(timeout=30_000)
        started = _step(page, "10-formgrader-submissions", started)
        assert rows.count() == len(scores)
        # every submission waits for the derivation's hand grade
        assert frame.locator("tr:has-text('Submission #') .glyphicon-ok").count() >= len(scores)

        frame.get_by_role("link", name="Submission #1").first.click()
        score_box = frame.locator(f"input.score#{DERIVATION}")
        score_box.wait_for(timeout=30_000)
        # the rubric's and the answer's formulas are typeset, by MathJax from the Jupyter server
        frame.locator(".MathJax").first.wait_for(timeout=30_000)
        assert frame.locator(".MathJax").count() >= 10
        text = body.inner_text()
        rubric_end = text.find("=== END MARK SCHEME ===")
        answer = text.find("Student's answer", rubric_end)
        assert "Rubric (3 points)" in text and 0 <= rubric_end < answer < rubric_end + 100, (
            "the rubric shows right above the student's answer"
        )
        score_box.fill("2")
        score_box.press("Tab")
        started = _step(page, "11-formgrader-manual-grade", started)
        deadline = time.time() + 30
        while time.time() < deadline:
            with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
                graded = [gb.find_grade(DERIVATION, AID, AID, s).manual_score for s in scores]
            if 2 in graded:
                break
            time.sleep(0.5)
        assert graded.count(2) == 1, graded  # the hand grade reached the gradebook
        assert not page.console_errors and not page.failed_requests, (
            page.console_errors,
            page.failed_requests,
        )
        assert all(SANDBOX_WARNING in w for w in page.console_warnings), page.console_warnings
    finally:
        _stop(server)
