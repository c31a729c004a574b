"""The course directory and nbgrader's API, driven in one process.

Paying nbgrader's import and start-up cost once (instead of once per
`nbgrader ...` command) is most of what makes these commands fast.
"""

import json
import os
import shutil
import sys
from contextlib import contextmanager
from pathlib import Path

from traitlets.config.loader import PyFileConfigLoader

CONFIG_NAME = "nbgrader_config.py"


class CourseError(Exception):
    """A problem the instructor must fix; the message says how."""


def find_root(start=None):
    """The nearest folder at or above `start` holding nbgrader_config.py."""
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / CONFIG_NAME).is_file():
            return folder
    raise CourseError(
        f"no {CONFIG_NAME} in {here} or above: run this inside the course directory "
        "(the folder with source/ and nbgrader_config.py), or pass --root."
    )


def load_config(root):
    return PyFileConfigLoader(CONFIG_NAME, path=str(root)).load_config()


def _put_this_python_on_path():
    """nbgrader runs the `alembic` command of its environment through PATH,
    which an un-activated virtual environment (`.venv/bin/python -m ...`)
    does not have."""
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")


def nbgrader_api(root):
    """An `NbGraderAPI` for the course rooted at `root` (config from its file)."""
    _put_this_python_on_path()
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    config = load_config(root)
    coursedir = CourseDirectory(config=config)
    coursedir.root = str(root)
    return NbGraderAPI(coursedir=coursedir, config=config)


def assignments(root, names=None):
    """Assignment ids in source/, sorted; `names` restricts and must exist."""
    source = Path(root) / "source"
    found = (
        sorted(p.name for p in source.iterdir() if (p / f"{p.name}.ipynb").is_file())
        if source.is_dir()
        else []
    )
    if not names:
        return found
    missing = [n for n in names if n not in found]
    if missing:
        raise CourseError(
            f"no assignment {', '.join(missing)} in {source} (found: {', '.join(found) or 'none'})"
        )
    return list(names)


def run(result, what):
    """Raise CourseError with nbgrader's own log when an API call failed."""
    if not result.get("success"):
        detail = (result.get("error") or "") + "\n" + (result.get("log") or "")
        raise CourseError(f"{what} failed:\n{detail.strip()}")
    return result


@contextmanager
def scratch_course(root, tmp):
    """A throw-away copy of the course (config and source/) under `tmp`."""
    tmp = Path(tmp)
    shutil.copy2(Path(root) / CONFIG_NAME, tmp / CONFIG_NAME)
    shutil.copytree(Path(root) / "source", tmp / "source")
    yield tmp


def notebook_json(path):
    """A notebook's JSON as a canonical string, for comparing generated files.

    The Python version in `language_info` is the machine's, not the course's: it is left out.
    """
    nb = json.loads(Path(path).read_text())
    nb.get("metadata", {}).get("language_info", {}).pop("version", None)
    return json.dumps(nb, sort_keys=True, indent=1)


def kernel_language_info():
    """The `language_info` this environment's Python kernel reports when a notebook opens."""
    from ipykernel.ipkernel import IPythonKernel

    return json.loads(json.dumps(IPythonKernel.language_info))


def stamp_language_info(path):
    """Store the kernel's `language_info` in a notebook, so JupyterLab opens it unmodified.

    JupyterLab writes what the kernel reports into the notebook's metadata on open, and any
    difference marks the notebook modified (closing it then asks to save).
    """
    import nbformat

    nb = nbformat.read(str(path), as_version=4)
    info = kernel_language_info()
    if nb.metadata.get("language_info") != info:
        nb.metadata["language_info"] = info
        nbformat.write(nb, str(path))
