"""Per-student HTML feedback from the gradebook and the autograded notebooks.

For each graded submission this writes, in nbgrader's feedback layout (so
`nbgrader release_feedback` / `fetch_feedback` keep working),

    feedback/<student>/<assignment>/<notebook>.html   one page per notebook
    feedback/<student>/index.html                     every assignment at a glance

A page lists the score, then each graded cell in notebook order: the test's
name, points, passed/failed, and the autograder's diagnostic (the exception's
`ename: evalue` from the autograded notebook). It never contains the source of
a test cell nor a traceback (tracebacks quote the test code, hidden tests
included), nor anything printed by a test cell. A submission that `grade`
recorded as ungradable or missing shows the reason instead of a table.

Pages are self-contained (inline CSS, no scripts, no external assets) and
deterministic: the same gradebook gives byte-identical files.
"""

import html
import re
import shutil

import nbformat

from .results import MANUAL, TASK, TEST, check_known, fmt, read_results
from .status import GRADED, MISSING, UNGRADABLE

# nbgrader's release_feedback reads these next to each page.
EXCHANGE_FILES = ("timestamp.txt", "submission_secret.txt")

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")
_EXCEPTION_LINE = re.compile(r"[A-Za-z_][\w.]*(Error|Exception|Interrupt|Exit|Warning)(: .*)?")

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
       max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #1f2328; line-height: 1.45; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; }
h2 { font-size: 1.2rem; margin-top: 2rem; }
.meta { color: #59636e; margin-top: 0; }
.total { font-size: 1.3rem; font-weight: 600; margin: 1rem 0; }
.notice { border-left: .35rem solid #cf222e; background: #fff1f0; padding: .8rem 1rem; margin: 1rem 0; }
.notice.info { border-color: #9a6700; background: #fff8c5; }
table { border-collapse: collapse; width: 100%; margin: 1rem 0; }
th, td { text-align: left; padding: .45rem .6rem; border-bottom: 1px solid #d1d9e0; vertical-align: top; }
th { background: #f6f8fa; }
td.num { white-space: nowrap; font-variant-numeric: tabular-nums; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .85em;
       color: #59636e; }
pre { background: #f6f8fa; border: 1px solid #d1d9e0; border-radius: 4px; padding: .6rem .8rem;
      white-space: pre-wrap; overflow-wrap: anywhere; margin: .4rem 0 0 0; font-size: .85rem; }
.badge { display: inline-block; padding: .05rem .5rem; border-radius: 1rem; font-size: .85rem;
         font-weight: 600; white-space: nowrap; }
.passed { background: #dafbe1; color: #116329; }
.failed { background: #ffebe9; color: #a40e26; }
.partial, .waiting { background: #fff8c5; color: #7d4e00; }
.manual { background: #ddf4ff; color: #0550ae; }
a { color: #0969da; }
footer { margin-top: 2rem; color: #59636e; font-size: .85rem; }
"""


def _e(text):
    return html.escape(str(text), quote=True)


def _page(title, body):
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        f"{body}\n</body>\n</html>\n"
    )


def readable(grade_id):
    """A test's grade_id for people: test_exp_vjp_hidden -> "exp_vjp: hidden tests"."""
    name = grade_id[5:] if grade_id.startswith("test_") else grade_id
    for suffix, what in (("_visible", "visible tests"), ("_hidden", "hidden tests")):
        if name.endswith(suffix) and len(name) > len(suffix):
            return f"{name[: -len(suffix)]}: {what}"
    return name


def strip_ansi(text):
    return _ANSI.sub("", text)


STDERR_MESSAGE = (
    "No error was raised, but something was written to stderr while this test ran "
    "(a print to sys.stderr, a warning, a logging message), and nbgrader counts any "
    "stderr output in a test cell as a failure. Remove it from your code."
)


MAX_MESSAGE = 10_000  # characters of a message shown: a student writes part of it


def error_message(outputs, explain_stderr=True):
    """What went wrong in a cell, from its outputs, or None (at most MAX_MESSAGE characters).

    `ename: evalue` of the first error output; never the traceback frames,
    which quote the cell's source (for a test cell: hidden tests). Without an
    ename (not written by a kernel), the traceback's last line stands in, but
    only if it reads as an exception line. Output on stderr (which nbgrader
    scores as a failure) is explained, never shown: warnings quote source too.
    """
    stderr = False
    for out in outputs or ():
        if out.get("output_type") == "stream" and out.get("name") == "stderr":
            stderr = True
        if out.get("output_type") != "error":
            continue
        ename = strip_ansi(str(out.get("ename") or "")).strip()[:200]
        evalue = strip_ansi(str(out.get("evalue") or "")).rstrip()
        if len(evalue) > MAX_MESSAGE:
            evalue = evalue[:MAX_MESSAGE] + " ... (cut)"
        if ename:
            if evalue.strip():
                return f"{ename}: {evalue}"
            if ename == "NotImplementedError":
                return f"{ename} (the stub `raise NotImplementedError()` is still in place)"
            return ename
        lines = "\n".join(strip_ansi(str(t)) for t in out.get("traceback") or ()).splitlines()
        lines = [line.strip() for line in lines if line.strip()]
        if lines and _EXCEPTION_LINE.fullmatch(lines[-1]):
            return lines[-1]
        return "error (no message)"
    return STDERR_MESSAGE if stderr and explain_stderr else None


def notebook_diagnostics(path):
    """grade_id -> error message of that cell (None: ran without error), and
    the ids of solution cells that raised, from an autograded notebook; None
    when the notebook is missing or unreadable."""
    try:
        nb = nbformat.read(str(path), as_version=4)
    except (OSError, ValueError):
        return None
    messages, solution_errors = {}, []
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        grade_id = meta.get("grade_id")
        if grade_id is None or cell.cell_type != "code":
            continue
        messages[grade_id] = error_message(cell.get("outputs"))
        raised = error_message(cell.get("outputs"), explain_stderr=False)
        if meta.get("solution") and not meta.get("grade") and raised:
            solution_errors.append((grade_id, raised))
    return messages, solution_errors


def _verdict(cell):
    if cell.needs_manual_grade:
        return "waiting", "awaiting manual grading"
    if cell.kind in (MANUAL, TASK):
        return "manual", "graded"
    if cell.passed:
        return "passed", "passed"
    if cell.score > 0:
        return "partial", "partial credit"
    return "failed", "failed"


def _score_line(sub):
    text = f"Score: {fmt(sub.score)} / {fmt(sub.max_score)}"
    if sub.late_penalty:
        text += f" (late penalty: {fmt(sub.late_penalty)} points)"
    return f'<p class="total">{_e(text)}</p>'


def _cell_rows(cells, diagnostics):
    rows = []
    for cell in cells:
        cls, label = _verdict(cell)
        name = _e(readable(cell.name)) if cell.kind == TEST else _e(cell.name)
        points = (
            f"? / {fmt(cell.max_score)}"
            if cell.needs_manual_grade
            else f"{fmt(cell.score)} / {fmt(cell.max_score)}"
        )
        detail = ""
        if cell.kind == TEST and not cell.passed and not cell.needs_manual_grade:
            if diagnostics is None:
                message = "(no output recorded for this test)"
            else:
                message = diagnostics.get(cell.name) or "(the test recorded no error message)"
            detail = f"<pre>{_e(message)}</pre>"
        rows.append(
            f"<tr><td>{name}<br><code>{_e(cell.name)}</code>{detail}</td>"
            f'<td class="num">{_e(points)}</td>'
            f'<td><span class="badge {cls}">{_e(label)}</span></td></tr>'
        )
    return rows


def _status_notice(sub):
    reason = sub.reason.strip().rstrip(".") or "no reason recorded"
    if sub.status == UNGRADABLE:
        text = f"Your notebook could not be graded: {reason}. Your instructor has been notified."
    elif sub.status == MISSING:
        text = f"No submission was received for this assignment: {reason}."
    else:
        text = f"This submission is marked {sub.status}: {reason}."
    return f'<div class="notice"><strong>{_e(text)}</strong></div>'


def _notebook_page(results, sub, notebook):
    aid, student = sub.assignment, sub.student
    info = next(a for a in results.assignments if a.name == aid)
    parts = [
        f"<h1>Feedback: {_e(aid)}</h1>",
        f'<p class="meta">Student: {_e(student)} &middot; notebook: {_e(notebook)}.ipynb</p>',
    ]
    if sub.status != GRADED:
        parts.append(_status_notice(sub))
        parts.append(_score_line(sub))
    else:
        parts.append(_score_line(sub))
        cells = [c for c in sub.cells if c.notebook == notebook]
        if len(info.notebooks) > 1:
            nb_score = sum(c.score for c in cells)
            nb_max = sum(c.max_score for c in cells)
            parts.append(f'<p class="meta">This notebook: {fmt(nb_score)} / {fmt(nb_max)}</p>')
        waiting = sum(c.needs_manual_grade for c in sub.cells)
        if waiting:
            parts.append(
                f'<div class="notice info">{waiting} cell(s) await manual grading; '
                "the score may still go up.</div>"
            )
        found = notebook_diagnostics(
            results.folder("autograded", student, aid, f"{notebook}.ipynb")
        )
        diagnostics, solution_errors = found if found is not None else (None, [])
        for grade_id, message in solution_errors:
            parts.append(
                f'<div class="notice info">Your cell <code>{_e(grade_id)}</code> raised an '
                f"error when it ran:<pre>{_e(message)}</pre></div>"
            )
        parts.append(
            "<table>\n<tr><th>Test</th><th>Points</th><th>Result</th></tr>\n"
            + "\n".join(_cell_rows(cells, diagnostics))
            + "\n</table>"
        )
        parts.append(
            "<p>A failing test shows the autograder's message: it names the case "
            "(shapes and seed) and what is wrong. The visible tests are in your "
            "notebook; the hidden tests check many more cases.</p>"
        )
    parts.append(f'<footer><a href="../index.html">All assignments of {_e(student)}</a></footer>')
    return _page(f"{aid}: feedback for {student}", "\n".join(parts))


def _index_page(results, student, feedback_dir):
    rows = []
    for info in results.assignments:
        sub = results.submissions[(student, info.name)]
        if sub.status == GRADED:
            status = "awaiting manual grading" if sub.needs_manual_grade else "graded"
        elif not sub.submitted:
            status = "not submitted"
        else:
            status = sub.status
        if sub.submitted and sub.status != GRADED and sub.reason:
            status += f": {sub.reason}"
        links = [
            f'<a href="{_e(info.name)}/{_e(nb)}.html">{_e(nb)}</a>'
            for nb in info.notebooks
            if (feedback_dir / info.name / f"{nb}.html").is_file()
        ]
        rows.append(
            f"<tr><td>{_e(info.name)}</td>"
            f'<td class="num">{fmt(sub.score)} / {fmt(sub.max_score)}</td>'
            f"<td>{_e(status)}</td><td>{', '.join(links) or '&mdash;'}</td></tr>"
        )
    total = sum(results.submissions[(student, a.name)].score for a in results.assignments)
    possible = sum(a.max_score for a in results.assignments)
    body = "\n".join(
        [
            f"<h1>Feedback for {_e(student)}</h1>",
            f'<p class="total">Total: {fmt(total)} / {fmt(possible)}</p>',
            "<table>\n<tr><th>Assignment</th><th>Score</th><th>Status</th><th>Feedback</th></tr>",
            "\n".join(rows),
            "</table>",
        ]
    )
    return _page(f"Feedback for {student}", body)


def _write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _copy_exchange_files(results, student, aid, dest):
    """What nbgrader's release_feedback reads next to the pages (it is copied
    from the autograded, else the submitted folder, as generate_feedback does)."""
    for name in EXCHANGE_FILES:
        for which in ("autograded", "submitted"):
            src = results.folder(which, student, aid, name)
            if src.is_file():
                shutil.copyfile(src, dest / name)
                break


def generate_feedback(root, assignments=None, students=None):
    """Write the feedback pages of every graded (or ungradable/missing-recorded)
    submission of `assignments` by `students` (default: all in the gradebook),
    and each such student's index. Returns the written HTML files, sorted."""
    everything = read_results(root, students=students)  # every assignment, for the index
    check_known("assignment", assignments, [a.name for a in everything.assignments])
    wanted_a = set(assignments or [a.name for a in everything.assignments])
    written = []
    touched = set()
    for info in everything.assignments:
        if info.name not in wanted_a:
            continue
        for student in everything.students:
            sub = everything.submissions[(student, info.name)]
            if not sub.submitted:
                continue  # never submitted, nothing recorded: no page
            dest = everything.folder("feedback", student, info.name)
            for notebook in info.notebooks:
                page = _notebook_page(everything, sub, notebook)
                written.append(_write(dest / f"{notebook}.html", page))
            _copy_exchange_files(everything, student, info.name, dest)
            touched.add(student)
    for student in sorted(touched):
        feedback_dir = everything.folder("feedback", student)
        written.append(
            _write(feedback_dir / "index.html", _index_page(everything, student, feedback_dir))
        )
    return sorted(written)
