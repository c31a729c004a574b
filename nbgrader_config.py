"""nbgrader configuration for the automatic-differentiation course.

Layout (nbgrader's documented course directory, rooted here):
  source/<assignment>/<assignment>.ipynb     instructor versions (solutions, hidden tests)
  release/<assignment>/<assignment>.ipynb    generated student versions (committed)
  submitted/<student>/<assignment>/          collected submissions      (git-ignored)
  autograded/, feedback/, gradebook.db       grading artefacts          (git-ignored)
"""

import importlib.util
import os
import sys

c = get_config()  # noqa: F821 (provided by traitlets when nbgrader loads this file)

HERE = os.path.dirname(os.path.abspath(__file__))

# nbgrader creates and upgrades the gradebook by running the `alembic` command it finds on PATH:
# a JupyterLab started as `.venv/bin/jupyter lab`, without activating the environment, must find
# this environment's.
_BIN = os.path.dirname(sys.executable)
if _BIN not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = _BIN + os.pathsep + os.environ.get("PATH", "")

c.CourseDirectory.course_id = "autodiff"
c.CourseDirectory.root = HERE
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
# nbgrader's real SQLite gradebook, one file in the course root.
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(HERE, "gradebook.db")

# The exchange, where release_assignment puts assignments, students fetch and submit them, and
# collect and release_feedback work. On a machine students share, set NBGRADER_EXCHANGE to the
# exchange nbgrader documents (e.g. /srv/nbgrader/exchange, world-writable with the sticky bit,
# mode 1777); alone on one machine, the course's own exchange/ folder is used.
c.Exchange.root = os.environ.get("NBGRADER_EXCHANGE", os.path.join(HERE, "exchange"))
if "NBGRADER_EXCHANGE" not in os.environ:
    # nbgrader never creates the exchange root: without it the formgrader disables Release and
    # Collect. A shared exchange is made once by an administrator (README, "For instructors").
    try:
        os.makedirs(c.Exchange.root, exist_ok=True)
    except OSError:
        pass  # a read-only course folder: nbgrader then says the exchange is unwritable

# Stubs students see in place of `### BEGIN SOLUTION ... ### END SOLUTION`:
# raising makes an untouched notebook earn zero, never free points.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Seconds one cell may run while autograding; a student's infinite loop costs
# at most this much per cell. The numerical checks need well under a second.
# (nbgrader's own `Execute` preprocessor; the stock default is 30 s.)
c.Execute.timeout = 60
c.Execute.interrupt_on_timeout = True

# Test cells are locked in the student version (students cannot edit them);
# on autograde nbgrader restores graded cells and hidden tests from the
# gradebook, so a submission's edits to them never count.
c.LockCells.lock_grade_cells = True
# A derivation graded by hand: its rubric sits in the locked question cell above the answer,
# in a "=== BEGIN MARK SCHEME ===" region. generate_assignment removes the region from the
# release; grading restores locked cells from the gradebook, so the formgrader shows the rubric
# next to the answer. (nbgrader expects mark schemes in task cells only; the course's feedback
# pages never show cell sources.)
c.ClearMarkScheme.enforce_metadata = False

# The formgrader renders autograded notebooks, whose outputs and markdown cells
# a student controls, as HTML in the instructor's browser: sanitize it (no
# script, no event handlers). `grade` also keeps only plain text and bitmap
# images of what a kernel displayed.
c.HTMLExporter.sanitize_html = True
# Its pages load MathJax from the Jupyter server (jupyter_server_mathjax) rather than a CDN, so the
# rubrics and derivations show as formulas offline too: the course's formgrade/mathjax.html.j2
# (autograder/instructor/templates) comes before nbgrader's own templates.
_specs = [importlib.util.find_spec(name) for name in ("autograder", "nbgrader")]
if all(spec and spec.origin for spec in _specs):
    _course, _nbgrader = (os.path.dirname(spec.origin) for spec in _specs)
    c.HTMLExporter.extra_template_basedirs = [
        os.path.join(_course, "instructor", "templates"),
        os.path.join(_nbgrader, "server_extensions", "formgrader", "templates"),
    ]

# The formgrader's "Current configuration" panel serializes the whole server configuration, which
# holds values JSON cannot encode (jupyter_server's extension list): it only logs "Formgrader
# config is not serializable" on every visit. The panel is a debugging aid; this course's
# configuration is this file.
c.FormgradeExtension.debug = False
