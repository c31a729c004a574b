"""The environment the set-up builds: nbgrader config, extensions, graphviz, env files."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import graphviz
import tomllib

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _load_config(folder):
    from traitlets.config import Config

    config = Config()
    shutil.copy2(ROOT / "nbgrader_config.py", folder / "nbgrader_config.py")
    namespace = {"get_config": lambda: config, "__file__": str(folder / "nbgrader_config.py")}
    exec((folder / "nbgrader_config.py").read_text(), namespace)
    return config


def test_nbgrader_config_loads_with_the_course_layout(tmp_path):
    config = _load_config(tmp_path)
    cd = config.CourseDirectory
    assert cd.course_id == "autodiff"
    assert (cd.source_directory, cd.release_directory) == ("source", "release")
    assert cd.db_url == f"sqlite:///{tmp_path / 'gradebook.db'}"
    assert config.Execute.timeout > 0
    assert "raise NotImplementedError()" in config.ClearSolutions.code_stub["python"]


def test_the_course_exchange_exists_unless_a_shared_one_is_named(tmp_path, monkeypatch):
    """nbgrader never creates an exchange root; without one the formgrader cannot release."""
    monkeypatch.delenv("NBGRADER_EXCHANGE", raising=False)
    (tmp_path / "alone").mkdir()
    config = _load_config(tmp_path / "alone")
    assert config.Exchange.root == str(tmp_path / "alone" / "exchange")
    assert (tmp_path / "alone" / "exchange").is_dir()
    monkeypatch.setenv("NBGRADER_EXCHANGE", str(tmp_path / "shared"))
    (tmp_path / "course").mkdir()
    config = _load_config(tmp_path / "course")
    assert config.Exchange.root == str(tmp_path / "shared")
    assert not (tmp_path / "course" / "exchange").exists()


def test_the_formgrader_typesets_with_the_servers_mathjax(tmp_path):
    """The course's MathJax macro comes first, nbgrader's formgrade and feedback templates next."""
    import nbgrader
    from nbconvert.exporters import HTMLExporter

    config = _load_config(tmp_path)
    ours, theirs = config.HTMLExporter.extra_template_basedirs
    assert (Path(theirs) / "formgrade").is_dir() and (Path(theirs) / "feedback").is_dir()
    assert Path(theirs).is_relative_to(Path(nbgrader.__file__).parent)
    config.HTMLExporter.template_name = "formgrade"  # as nbgrader's formgrader sets it
    environment = HTMLExporter(config=config).environment
    macro = environment.get_template("mathjax.html.j2")
    assert macro.filename == str(Path(ours) / "formgrade" / "mathjax.html.j2")
    assert "jupyter_server_mathjax/MathJax.js" in macro.module.mathjax()
    assert config.FormgradeExtension.debug is False


def test_nbgrader_accepts_every_config_key():
    """A misspelt key is silently ignored by traitlets; nbgrader warns about it."""
    out = subprocess.run(
        [str(BIN / "nbgrader"), "list", "--log-level=WARN"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "not recognized" not in out.stderr + out.stdout, out.stderr


def test_nbgrader_jupyterlab_extensions_are_enabled():
    out = subprocess.run(
        [str(BIN / "jupyter"), "labextension", "list"], capture_output=True, text=True, timeout=120
    )
    text = out.stdout + out.stderr
    assert re.search(r"@jupyter/nbgrader\s+v0\.9\.\d+\s+\S*enabled", text), text
    out = subprocess.run(
        [str(BIN / "jupyter"), "server", "extension", "list"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    text = out.stdout + out.stderr
    for ext in ("formgrader", "assignment_list", "validate_assignment", "course_list"):
        assert re.search(rf"nbgrader\.server_extensions\.{ext}\s+\S*enabled", text), text


def test_graphviz_renders_with_the_dot_binary():
    assert shutil.which("dot"), "the graphviz 'dot' binary is missing"
    dot = graphviz.Digraph()
    dot.edge("x", "y")
    svg = dot.pipe(format="svg").decode()
    assert "<svg" in svg


def _names(requirements):
    return {re.split(r"[<>=!~ \[]", r, maxsplit=1)[0].lower() for r in requirements}


def test_environment_yml_describes_the_same_environment():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pip_deps = _names(project["dependencies"] + project["optional-dependencies"]["test"])
    env = (ROOT / "environment.yml").read_text()
    conda = {
        re.split(r"[<>=! #]", line.strip()[2:], maxsplit=1)[0].lower()
        for line in env.splitlines()
        if line.strip().startswith("- ") and not line.strip().startswith("- -")
    }
    conda = {"graphviz" if n == "python-graphviz" else n for n in conda}
    assert pip_deps <= conda, pip_deps - conda
    assert "-e ." in env
    for req in project["dependencies"]:
        name, spec = re.match(r"([A-Za-z0-9_.-]+)(.*)", req).groups()
        if spec:
            alias = "python-graphviz" if name == "graphviz" else name
            assert f"{alias}{spec}" in env, f"{name}{spec} differs in environment.yml"


def test_nbgrader_finds_its_tools_without_an_activated_environment(tmp_path):
    """JupyterLab started as `.venv/bin/jupyter lab` (PATH without .venv/bin) creates the
    gradebook through nbgrader, which runs `alembic` from PATH: the course's config puts this
    environment's bin folder first, so the new gradebook is complete (alembic_version stamped)."""
    import sqlite3

    shutil.copy2(ROOT / "nbgrader_config.py", tmp_path / "nbgrader_config.py")
    nbgrader = BIN / "nbgrader"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    result = subprocess.run(
        [str(nbgrader), "db", "assignment", "list"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    tables = sqlite3.connect(tmp_path / "gradebook.db").execute(
        "select name from sqlite_master where name = 'alembic_version'"
    )
    assert tables.fetchall() == [("alembic_version",)]


def test_jupyterlab_starts_quietly():
    """The set-up turns off JupyterLab's first-run 'get notified about Jupyter news?' prompt, and
    the server's websocket ping timeout is no longer than its interval (tornado warns otherwise)."""
    import json

    overrides = json.loads((BIN.parent / "share/jupyter/lab/settings/overrides.json").read_text())
    notification = overrides["@jupyterlab/apputils-extension:notification"]
    assert notification == {"fetchNews": "false", "checkForUpdates": False}
    server = json.loads((BIN.parent / "etc/jupyter/jupyter_server_config.json").read_text())
    from jupyter_server.base.websocket import WS_PING_INTERVAL

    assert server["ServerApp"]["tornado_settings"]["ws_ping_timeout"] <= WS_PING_INTERVAL
