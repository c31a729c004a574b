"""A student's JupyterLab, driven in a real browser (Playwright with Debian's chromium).

A real `jupyter lab` serves a copy of the course files; the tests open notebooks as a student
does (untrusted copies), run them with JupyterLab's own commands and read what JupyterLab shows.
Screenshots of every step go to `.browser-screenshots/` in the project (kept after a failing run).
"""

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

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
    server = subprocess.Popen(cmd, cwd=home, env=env, stdout=log, stderr=subprocess.STDOUT)
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
    server.wait(30)
    server.log.close()


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A running JupyterLab on a copy of a release and a lecture; yields (url, token, folder)."""
    home = tmp_path_factory.mktemp("lab")
    shutil.copytree(ROOT / "release" / "03_jacobians_vjps", home / "03_jacobians_vjps")
    (home / "notebooks").mkdir()
    shutil.copy2(ROOT / "notebooks" / "06_graph_drawing.ipynb", home / "notebooks")
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
def page(lab):
    SHOTS.mkdir(exist_ok=True)
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.console_errors = []
        page.on(
            "console", lambda m: page.console_errors.append(m.text) if m.type == "error" else None
        )
        yield page
        browser.close()


def _open(page, lab, path):
    url, token, _ = lab
    page.goto(f"{url}/lab/tree/{path}?token={token}")
    page.wait_for_selector(".jp-Notebook", timeout=60_000)
    page.wait_for_function(
        "() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
        " && window.jupyterapp.shell.currentWidget.sessionContext.session"
        " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel"
        " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status === 'idle'",
        timeout=60_000,
    )


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


def test_run_all_runs_every_test_and_shows_each_course_message(lab, page):
    _open(page, lab, "03_jacobians_vjps/03_jacobians_vjps.ipynb")
    page.screenshot(path=SHOTS / "01-release-opened.png")
    start = time.time()
    cells = _run_all(page)
    seconds = time.time() - start
    page.screenshot(path=SHOTS / "02-run-all.png")
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
    assert not page.console_errors, page.console_errors
    print(f"Run All over {len(cells)} cells: {seconds:.1f} s")


def test_a_fixed_stub_passes_its_tests_in_the_browser(lab, page):
    _open(page, lab, "03_jacobians_vjps/03_jacobians_vjps.ipynb")
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
    page.screenshot(path=SHOTS / "03-stub-fixed.png")
    assert not _errors(cells["test_tanh_vjp_visible"]), cells["test_tanh_vjp_visible"]["outputs"]
    assert not _errors(cells["test_tanh_vjp_hidden"])
    assert _errors(cells["test_tanh_jvp_visible"])  # the next exercise is still a stub
    assert not page.console_errors, page.console_errors


def test_lecture_drawings_show_in_an_untrusted_notebook(lab, page):
    import nbformat

    stored = nbformat.read(str(ROOT / "notebooks" / "06_graph_drawing.ipynb"), as_version=4)
    pngs = sum("image/png" in o.get("data", {}) for c in stored.cells for o in c.get("outputs", []))
    assert pngs >= 5
    _open(page, lab, "notebooks/06_graph_drawing.ipynb")
    page.wait_for_timeout(2000)
    shown = page.eval_on_selector_all(
        ".jp-OutputArea .jp-RenderedImage img",
        "imgs => imgs.filter(i => i.complete && i.naturalWidth > 0).length",
    )
    page.locator(".jp-OutputArea .jp-RenderedImage img").first.scroll_into_view_if_needed()
    page.screenshot(path=SHOTS / "04-lecture-06-untrusted.png")
    assert shown >= pngs, (shown, pngs)
    assert not page.console_errors, page.console_errors


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
        page.goto(f"{url}/lab?token={token}")
        page.wait_for_function(
            "() => window.jupyterapp"
            " && window.jupyterapp.commands.hasCommand('nbgrader:open-assignment-list')",
            timeout=60_000,
        )
        page.evaluate("window.jupyterapp.commands.execute('nbgrader:open-assignment-list')")
        page.get_by_role("button", name="Fetch").click(timeout=60_000)
        page.get_by_role("button", name="Submit").wait_for(timeout=60_000)
        page.screenshot(path=SHOTS / "05-assignment-list-fetched.png")
        released = (course / "release" / "00_demo" / "00_demo.ipynb").read_text()
        assert (home / "00_demo" / "00_demo.ipynb").read_text() == released
        page.get_by_role("button", name="Submit").click()
        page.get_by_role("button", name="Fetch Feedback").wait_for(timeout=60_000)
        page.screenshot(path=SHOTS / "06-assignment-list-submitted.png")
        (submission,) = (exchange / "autodiff" / "inbound").iterdir()
        assert (submission / "00_demo.ipynb").read_text() == released
        assert not page.console_errors, page.console_errors
    finally:
        _stop(server)
