"""Feedback pages and grade export on a small class graded by real nbgrader.

One course for the module: two assignments, seven students (correct, untouched
stub, wrong answer, correct but noisy on stderr, ungradable, no submission,
right only on the visible test), autograded with stock `nbgrader autograde`
into a real gradebook.
"""

import csv
import re

import matplotlib.image
import nbformat
import pytest

from autograder.instructor.course import CourseError, nbgrader_api, run
from autograder.instructor.export import export_grades
from autograder.instructor.feedback import (
    STDERR_MESSAGE,
    error_message,
    generate_feedback,
    readable,
)
from autograder.instructor.status import Status, write_status

from course_fixtures import make_course, make_notebook

MARKER = "HIDDEN_MARKER_7f3a9c"
HIDDEN = (
    "# Hidden tests for exp_vjp\n### BEGIN HIDDEN TESTS\n"
    f"# {MARKER}: this comment must never reach a student\n"
    "ag.assert_vjp_cases(exp_vjp, np.exp, ag.unary_cases(np.exp, seed=3, domain='bounded'))"
    f"  # {MARKER}\n"
    "### END HIDDEN TESTS"
)
NOISE = "NOISY_STDERR_1b2c"
REASON = "not a notebook: Expecting value <line 1 column 1> & nothing else"
CORRECT = "def exp_vjp(dldf, x):\n    return (dldf * np.exp(x),)"
WRONG = "def exp_vjp(dldf, x):\n    return (dldf * x,)"
NOISY = (
    "import sys\n\ndef exp_vjp(dldf, x):\n"
    f"    print('{NOISE}', file=sys.stderr)\n    return (dldf * np.exp(x),)"
)
VISIBLE_ONLY = (
    "def exp_vjp(dldf, x):\n"
    "    return (dldf * np.exp(x),) if np.shape(x) == (3,) else (dldf,)"  # right only on ones(3)
)
A, B = "00_demo", "01_extra"
STUDENTS = ["alice", "bob", "carol", "dave", "erin", "frank", "grace"]


def _extra_notebook():
    nb = make_notebook(hidden=HIDDEN)
    nb.cells.append(
        nbformat.v4.new_markdown_cell(
            "Explain the VJP of exp.\n\n### BEGIN SOLUTION\nIt scales dldf by exp(x).\n"
            "### END SOLUTION",
            metadata={
                "nbgrader": {
                    "grade": True,
                    "solution": True,
                    "locked": False,
                    "task": False,
                    "grade_id": "explain",
                    "points": 2,
                    "schema_version": 3,
                }
            },
        )
    )
    return nb


def _submit(course, aid, student, solution=None):
    nb = nbformat.read(str(course / "release" / aid / f"{aid}.ipynb"), as_version=4)
    cells = {c.metadata.nbgrader.get("grade_id"): c for c in nb.cells}
    if solution is not None:
        cells["exp_vjp"].source = solution
        if "explain" in cells:  # answered, so it waits for manual grading
            cells["explain"].source = "It multiplies dldf by exp(x)."
    dest = course / "submitted" / student / aid
    dest.mkdir(parents=True)
    nbformat.write(nb, str(dest / f"{aid}.ipynb"))
    # what nbgrader collect leaves next to a submission (release_feedback needs both)
    (dest / "timestamp.txt").write_text("2024-03-01 12:00:00.000000 UTC")
    (dest / "submission_secret.txt").write_text(f"secret-{student}-{aid}")


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    from nbgrader.api import Gradebook

    course = make_course(
        tmp_path_factory.mktemp("course"),
        {A: make_notebook(hidden=HIDDEN), B: _extra_notebook()},
    ).resolve()
    api = nbgrader_api(course)
    for aid in (A, B):
        run(api.generate_assignment(aid, force=True, create=True), f"generate {aid}")
    submissions = {
        (A, "alice"): CORRECT,
        (A, "bob"): None,  # the untouched release
        (A, "carol"): WRONG,
        (A, "dave"): NOISY,
        (A, "grace"): VISIBLE_ONLY,
        (B, "alice"): CORRECT,
    }
    for (aid, student), solution in submissions.items():
        _submit(course, aid, student, solution)
        run(api.autograde(aid, student, force=True, create=True), f"autograde {aid} {student}")
    # erin's file is not a notebook: what `grade` would record as ungradable
    erin = course / "submitted/erin" / A
    erin.mkdir(parents=True)
    (erin / f"{A}.ipynb").write_text("this is not JSON")
    (erin / "timestamp.txt").write_text("2024-03-01 12:00:00.000000 UTC")
    (erin / "submission_secret.txt").write_text("secret-erin")
    with Gradebook(api.coursedir.db_url, api.coursedir.course_id) as gb:
        gb.add_student("erin")
        gb.update_or_create_submission(A, "erin")
        gb.add_student("frank")
    write_status(course, Status("erin", A, status="ungradable", reason=REASON))
    return course


@pytest.fixture(scope="module")
def feedback(course):
    return generate_feedback(course)


@pytest.fixture(scope="module")
def exports(course, feedback):
    return export_grades(course)


def _read(path):
    return path.read_text(encoding="utf-8")


def _text(page):
    """The page's visible text, tags removed and entities decoded."""
    import html

    page = re.sub(r"<style>.*?</style>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def test_pages_in_nbgraders_feedback_layout(course, feedback):
    fb = course / "feedback"
    expected = sorted(
        [fb / s / A / f"{A}.html" for s in ("alice", "bob", "carol", "dave", "erin", "grace")]
        + [fb / "alice" / B / f"{B}.html"]
        + [fb / s / "index.html" for s in ("alice", "bob", "carol", "dave", "erin", "grace")]
    )
    assert feedback == expected
    assert not (fb / "frank").exists()  # nothing submitted, nothing recorded
    # release_feedback reads these two files next to each page
    assert _read(fb / "alice" / A / "timestamp.txt") == "2024-03-01 12:00:00.000000 UTC"
    assert _read(fb / "alice" / A / "submission_secret.txt") == f"secret-alice-{A}"
    assert _read(fb / "erin" / A / "submission_secret.txt") == "secret-erin"  # from submitted/
    assert not (fb / "erin" / A / "autograder.json").exists()


def test_nbgrader_release_feedback_accepts_the_pages(course, feedback, tmp_path):
    from nbgrader.utils import notebook_hash

    api = nbgrader_api(course)
    api.config.Exchange.root = str(tmp_path / "exchange")
    (tmp_path / "exchange").mkdir()
    run(api.release_feedback(A), "release_feedback")
    released = sorted(p.name for p in (tmp_path / "exchange/autodiff/feedback").iterdir())
    secrets = [f"secret-{s}-{A}" for s in ("alice", "bob", "carol", "dave", "grace")]
    expected = [notebook_hash(secret=s, notebook_id=A) for s in [*secrets, "secret-erin"]]
    assert released == sorted(f"{h}.html" for h in expected)


def test_correct_submission_page(course, feedback):
    page = _read(course / "feedback/alice" / A / f"{A}.html")
    text = _text(page)
    assert "Score: 3 / 3" in text
    assert "exp: visible tests" in text and "test_exp_visible" in text
    assert "exp: hidden tests" in text and "test_exp_hidden" in text
    assert text.index("test_exp_visible") < text.index("test_exp_hidden")  # notebook order
    assert "1 / 1" in text and "2 / 2" in text
    assert text.count("passed") >= 2 and "failed" not in text
    assert "<pre>" not in page  # no diagnostics when everything passed
    assert "<script" not in page and "http" not in page  # self-contained


def test_wrong_answer_shows_the_autograders_diagnostic(course, feedback):
    text = _text(_read(course / "feedback/carol" / A / f"{A}.html"))
    assert "Score: 0 / 3" in text
    assert "0 / 1" in text and "0 / 2" in text and "failed" in text
    assert "GradingError: exp_vjp is wrong on case '(3,)'" in text
    assert "Hint: it is the correct gradient times a constant" in text
    assert "GradingError: exp_vjp: 6 of 6 cases failed." in text
    assert "Traceback" not in text and "\x1b[" not in text and "[31m" not in text


def test_partial_pass_stub_and_stderr(course, feedback):
    grace = _text(_read(course / "feedback/grace" / A / f"{A}.html"))
    assert "Score: 1 / 3" in grace and "1 / 1" in grace and "0 / 2" in grace
    assert "GradingError: exp_vjp: 6 of 6 cases failed." in grace
    assert "exp_vjp is wrong on case '(3,)'" not in grace  # the visible test passed
    bob = _text(_read(course / "feedback/bob" / A / f"{A}.html"))
    assert "Score: 0 / 3" in bob and "NotImplementedError" in bob
    # stock nbgrader scores a test cell with any stderr output 0 (the `grade`
    # command does not); the page says why, without echoing the output
    dave = _read(course / "feedback/dave" / A / f"{A}.html")
    assert "Score: 0 / 3" in _text(dave) and NOISE not in dave
    assert _text(dave).count("nbgrader counts any stderr output in a test cell as a failure") == 2


def test_ungradable_submission_shows_the_reason_and_no_table(course, feedback):
    page = _read(course / "feedback/erin" / A / f"{A}.html")
    assert (
        "Your notebook could not be graded: not a notebook: Expecting value "
        "&lt;line 1 column 1&gt; &amp; nothing else. Your instructor has been notified."
    ) in page
    assert "<table" not in page and "Score: 0 / 3" in page


def test_manual_cells_await_grading_and_index_summarises(course, feedback):
    text = _text(_read(course / "feedback/alice" / B / f"{B}.html"))
    assert "Score: 3 / 5" in text and "awaiting manual grading" in text and "? / 2" in text
    index = _read(course / "feedback/alice/index.html")
    assert f'href="{A}/{A}.html"' in index and f'href="{B}/{B}.html"' in index
    itext = _text(index)
    assert "Total: 6 / 8" in itext and "awaiting manual grading" in itext
    erin = _text(_read(course / "feedback/erin/index.html"))
    assert f"ungradable: {REASON}" in erin and "not submitted" in erin
    assert f'href="{B}/' not in _read(course / "feedback/erin/index.html")


def test_hidden_tests_never_reach_a_page(course, feedback, exports):
    autograded = _read(course / "autograded/carol" / A / f"{A}.ipynb")
    assert MARKER in autograded  # the planted marker is there to leak, in source and traceback
    files = [*feedback, *exports.values()]
    assert len(files) == 7 + 6 + 5
    for path in files:
        data = path.read_bytes()
        assert MARKER.encode() not in data, path
        assert b"assert_vjp_cases(" not in data and b"ag.unary_cases" not in data, path
        assert b"BEGIN HIDDEN TESTS" not in data, path


def test_feedback_is_deterministic(course, feedback):
    before = {p: p.read_bytes() for p in feedback}
    assert generate_feedback(course, assignments=[A], students=["carol"]) == sorted(
        [course / "feedback/carol" / A / f"{A}.html", course / "feedback/carol/index.html"]
    )
    assert generate_feedback(course) == feedback
    assert {p: p.read_bytes() for p in feedback} == before


def _csv(path):
    with open(path, newline="") as fh:
        return list(csv.reader(fh))


def test_grades_csv(course, exports):
    assert exports["grades"] == course / "exports/grades.csv"
    rows = _csv(exports["grades"])
    assert (
        rows
        == [
            ["student", "assignment", "score", "max_score", "percent", "status", "reason"],
            ["alice", A, "3", "3", "100.0", "graded", ""],
            ["bob", A, "0", "3", "0.0", "graded", ""],
            ["carol", A, "0", "3", "0.0", "graded", ""],
            ["dave", A, "0", "3", "0.0", "graded", ""],  # stderr: 0 under stock nbgrader
            ["erin", A, "0", "3", "0.0", "ungradable", REASON],
            ["frank", A, "0", "3", "0.0", "missing", "no submission"],
            ["grace", A, "1", "3", "33.3", "graded", ""],
            ["alice", B, "3", "5", "60.0", "graded", ""],
            *[[s, B, "0", "5", "0.0", "missing", "no submission"] for s in STUDENTS[1:]],
        ]
    )


def test_cells_csv(course, exports):
    rows = _csv(exports["cells"])
    head = ["student", "assignment", "notebook", "cell", "score", "max_score", "passed"]
    assert rows[0] == [*head, "needs_manual_grade"]
    expected = []
    for student, visible, hidden in [
        ("alice", 1, 2),
        ("bob", 0, 0),
        ("carol", 0, 0),
        ("dave", 0, 0),
        ("erin", 0, 0),
        ("grace", 1, 0),
    ]:
        manual = "true" if student == "erin" else "false"
        expected += [
            [
                student,
                A,
                A,
                "test_exp_visible",
                str(visible),
                "1",
                str(visible == 1).lower(),
                manual,
            ],
            [student, A, A, "test_exp_hidden", str(hidden), "2", str(hidden == 2).lower(), manual],
        ]
    expected += [
        ["alice", B, B, "test_exp_visible", "1", "1", "true", "false"],
        ["alice", B, B, "test_exp_hidden", "2", "2", "true", "false"],
        ["alice", B, B, "explain", "0", "2", "false", "true"],
    ]
    assert rows[1:] == expected


def test_report_and_figures(course, exports):
    for aid in (A, B):
        png = exports[f"report_{aid}"]
        assert png == course / "exports" / f"report_{aid}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        height, width, _ = matplotlib.image.imread(png).shape
        assert width == 1100 and height >= 360
    report = _read(exports["report"])
    text = _text(report)
    assert f'src="report_{A}.png"' in report and f'src="report_{B}.png"' in report
    section = text[text.index(A) : text.index(B)]
    assert re.search(r"submissions\s+6\b", section)  # erin's counts, frank's does not
    assert re.search(r"graded\s+5\b", section) and re.search(r"ungradable\s+1\b", section)
    assert re.search(r"missing\s+1\b", section)
    assert "mean score 26.7 %" in " ".join(section.split())
    assert "median score 0.0 %" in " ".join(section.split())
    assert "hardest test test_exp_hidden (20 % passed)" in " ".join(section.split())
    assert f"erin : {REASON}" in " ".join(section.split())
    assert "5 graded; 1 ungradable; 1 missing (not included)" in section
    assert "hardest test none: every graded submission passed every test" in " ".join(
        text[text.index(B) :].split()
    )


def test_export_is_deterministic(course, exports, tmp_path):
    again = export_grades(course, tmp_path / "again")
    assert sorted(again) == sorted(exports)
    for name, path in exports.items():
        assert again[name].read_bytes() == path.read_bytes(), name


def test_helpers():
    assert readable("test_exp_vjp_hidden") == "exp_vjp: hidden tests"
    assert readable("test_relu_vjp_at_zero") == "relu_vjp_at_zero"
    tb = ["\x1b[32m----> 2\x1b[39m secret_line()", "\x1b[31mValueError\x1b[39m: bad"]
    error = {"output_type": "error", "ename": "E", "evalue": "", "traceback": tb}
    assert error_message([error]) == "E"
    assert error_message([{"output_type": "error", "traceback": tb}]) == "ValueError: bad"
    assert error_message([{"output_type": "error", "traceback": tb[:1]}]) == "error (no message)"
    stderr = [{"output_type": "stream", "name": "stderr", "text": "x"}]
    assert error_message(stderr) == STDERR_MESSAGE
    assert error_message(stderr, explain_stderr=False) is None
    assert error_message([{"output_type": "stream", "name": "stdout", "text": "x"}]) is None


def test_unknown_ids_and_missing_gradebook_are_named(course, feedback, tmp_path):
    with pytest.raises(CourseError, match="no assignment 99_nope in the gradebook"):
        generate_feedback(course, assignments=["99_nope"])
    with pytest.raises(CourseError, match="no student zoe in the gradebook"):
        generate_feedback(course, students=["zoe"])
    empty = make_course(tmp_path, {})
    with pytest.raises(CourseError, match="no gradebook at .*grade the submissions first"):
        export_grades(empty)
    assert not (empty / "gradebook.db").exists()
