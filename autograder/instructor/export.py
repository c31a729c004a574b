"""Grades as CSV, and a report showing where the class struggled.

`export_grades(root)` writes into `root/exports/` (or `out_dir`):

    grades.csv         student x assignment: score, max_score, percent,
                       status (graded / ungradable / missing) and reason
    cells.csv          student x assignment x notebook x graded cell: score,
                       max_score, passed, needs_manual_grade (submissions in
                       the gradebook only)
    report_<aid>.png   per assignment: histogram of the class's scores, and
                       the pass rate of each test cell in notebook order
    report.html        per assignment: submissions, graded, ungradable
                       (student and reason), mean and median, hardest test,
                       and the figure

Every student and assignment in the gradebook appears; a student who did not
submit is "missing" with score 0. Scores and pass rates are over graded
submissions; ungradable and missing ones are counted in the captions. Output
is deterministic (no timestamps; PNGs without software metadata).
"""

import csv
import html
import statistics
from pathlib import Path

from .results import fmt, read_results
from .status import GRADED, MISSING, UNGRADABLE

GRADE_COLUMNS = ["student", "assignment", "score", "max_score", "percent", "status", "reason"]
CELL_COLUMNS = [
    "student",
    "assignment",
    "notebook",
    "cell",
    "score",
    "max_score",
    "passed",
    "needs_manual_grade",
]
DPI = 100


def _bool(x):
    return "true" if x else "false"


def _write_csv(path, columns, rows):
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)
    return path


def grade_rows(results):
    return [
        [
            sub.student,
            sub.assignment,
            fmt(sub.score),
            fmt(sub.max_score),
            f"{sub.percent:.1f}",
            sub.status,
            sub.reason,
        ]
        for info in results.assignments
        for student in results.students
        for sub in [results.submissions[(student, info.name)]]
    ]


def cell_rows(results):
    return [
        [
            sub.student,
            sub.assignment,
            cell.notebook,
            cell.name,
            fmt(cell.score),
            fmt(cell.max_score),
            _bool(cell.passed),
            _bool(cell.needs_manual_grade),
        ]
        for info in results.assignments
        for student in results.students
        for sub in [results.submissions[(student, info.name)]]
        if sub.in_gradebook
        for cell in sub.cells
    ]


class AssignmentStats:
    """The class's results on one assignment."""

    def __init__(self, info, subs):
        self.info = info
        self.subs = subs
        self.graded = [s for s in subs if s.status == GRADED and s.in_gradebook]
        self.ungradable = [s for s in subs if s.status == UNGRADABLE]
        self.missing = [s for s in subs if s.status == MISSING]
        self.submitted = [s for s in subs if s.submitted and s.status != MISSING]
        percents = [s.percent for s in self.graded]
        self.percents = percents
        self.mean = statistics.fmean(percents) if percents else None
        self.median = statistics.median(percents) if percents else None
        outcomes = {}  # (notebook, cell) -> [passed, ...] over graded submissions
        for sub in self.graded:
            for c in sub.cells:
                if not c.needs_manual_grade:
                    outcomes.setdefault((c.notebook, c.name), []).append(c.passed)
        self.pass_rates = []  # (CellInfo, percent passed or None) for test cells, notebook order
        for cell in info.tests:
            passed = outcomes.get((cell.notebook, cell.name))
            self.pass_rates.append((cell, 100.0 * sum(passed) / len(passed) if passed else None))

    @property
    def hardest(self):
        """(cell, pass rate) of the test passed least often (first in notebook order
        on ties), or None without graded submissions."""
        rated = [(c, r) for c, r in self.pass_rates if r is not None]
        return min(rated, key=lambda cr: cr[1]) if rated else None

    def caption(self):
        text = f"{len(self.graded)} graded"
        if self.ungradable:
            text += f"; {len(self.ungradable)} ungradable"
        if self.missing:
            text += f"; {len(self.missing)} missing"
        if self.ungradable or self.missing:
            text += " (not included)"
        return text


def _pct(x):
    return "n/a" if x is None else f"{x:.1f} %"


def plot_assignment(stats, path):
    """Histogram of scores (left), pass rate per test cell (right), as a PNG."""
    from matplotlib.figure import Figure  # Agg through savefig; no pyplot state

    tests = stats.pass_rates
    height = max(3.6, 1.6 + 0.32 * len(tests))
    fig = Figure(figsize=(11, height), dpi=DPI, layout="constrained")
    left, right = fig.subplots(1, 2, width_ratios=[1, 1.35])

    left.hist(stats.percents, bins=10, range=(0, 100), color="#4c72b0", edgecolor="white")
    left.set_xlim(0, 100)
    left.set_xlabel("score (% of maximum)")
    left.set_ylabel("students")
    left.set_title("Total scores")
    left.yaxis.get_major_locator().set_params(integer=True)

    labels = [c.name for c, _ in tests]
    rates = [r or 0.0 for _, r in tests]
    positions = list(range(len(tests)))
    colors = [
        "#bbbbbb" if r is None else "#c44e52" if r < 50 else "#dd8452" if r < 80 else "#55a868"
        for _, r in tests
    ]
    right.barh(positions, rates, color=colors)
    right.set_yticks(positions, labels, fontsize=8)
    right.invert_yaxis()  # notebook order, top to bottom
    right.set_xlim(0, 105)
    right.set_xlabel("students passing (%)")
    right.set_title("Pass rate per test")
    for y, (_, r) in zip(positions, tests):
        right.text((r or 0.0) + 1, y, "n/a" if r is None else f"{r:.0f}%", va="center", fontsize=7)

    fig.suptitle(f"{stats.info.name}: {stats.caption()}")
    fig.savefig(path, format="png", dpi=DPI, metadata={"Software": None})
    return path


def _e(text):
    return html.escape(str(text), quote=True)


def _report_section(stats, png_name):
    hardest = stats.hardest
    if hardest is None:
        hardest_text = "&mdash;"
    elif hardest[1] == 100:
        hardest_text = "none: every graded submission passed every test"
    else:
        hardest_text = f"{_e(hardest[0].name)} ({hardest[1]:.0f} % passed)"
    rows = [
        ("students in the gradebook", str(len(stats.subs))),
        ("submissions", str(len(stats.submitted))),
        ("graded", str(len(stats.graded))),
        ("ungradable", str(len(stats.ungradable))),
        ("missing", str(len(stats.missing))),
        ("mean score", _pct(stats.mean)),
        ("median score", _pct(stats.median)),
        ("hardest test", hardest_text),
    ]
    parts = [
        f'<h2 id="{_e(stats.info.name)}">{_e(stats.info.name)}</h2>',
        "<table>",
        *(
            f"<tr><th>{_e(k)}</th><td>{v if k == 'hardest test' else _e(v)}</td></tr>"
            for k, v in rows
        ),
        "</table>",
    ]
    if stats.ungradable:
        parts.append("<p>Ungradable submissions (graded 0; check them by hand):</p><ul>")
        parts += [
            f"<li><strong>{_e(s.student)}</strong>: {_e(s.reason or 'no reason recorded')}</li>"
            for s in stats.ungradable
        ]
        parts.append("</ul>")
    parts.append(
        f'<figure><img src="{_e(png_name)}" alt="score histogram and pass rate per test for '
        f'{_e(stats.info.name)}" style="max-width:100%"><figcaption>Left: total scores. '
        "Right: share of graded submissions passing each test, in notebook order. "
        f"{_e(stats.caption())}.</figcaption></figure>"
    )
    return "\n".join(parts)


REPORT_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
       max-width: 70rem; margin: 2rem auto; padding: 0 1rem; color: #1f2328; line-height: 1.45; }
h2 { margin-top: 2.5rem; border-bottom: 1px solid #d1d9e0; }
table { border-collapse: collapse; margin: .5rem 0; }
th, td { text-align: left; padding: .3rem .8rem; border-bottom: 1px solid #eaeef2; }
th { font-weight: 600; color: #59636e; }
figcaption { color: #59636e; font-size: .9rem; }
"""


def export_grades(root, out_dir=None):
    """Write grades.csv, cells.csv, one report_<aid>.png per assignment and
    report.html; returns {name: path} (names: grades, cells, report, report_<aid>)."""
    results = read_results(root)
    out = Path(out_dir) if out_dir is not None else results.root / "exports"
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "grades": _write_csv(out / "grades.csv", GRADE_COLUMNS, grade_rows(results)),
        "cells": _write_csv(out / "cells.csv", CELL_COLUMNS, cell_rows(results)),
    }
    sections = []
    for info in results.assignments:
        subs = [results.submissions[(s, info.name)] for s in results.students]
        stats = AssignmentStats(info, subs)
        png = out / f"report_{info.name}.png"
        paths[f"report_{info.name}"] = plot_assignment(stats, png)
        sections.append(_report_section(stats, png.name))
    body = "\n".join(
        [
            f"<h1>Grades report: {_e(results.course_id)}</h1>",
            f"<p>{len(results.students)} student(s), {len(results.assignments)} assignment(s). "
            "Scores are percentages of the maximum over graded submissions. "
            'Files: <a href="grades.csv">grades.csv</a>, <a href="cells.csv">cells.csv</a>.</p>',
            *sections,
        ]
    )
    report = out / "report.html"
    report.write_text(
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>Grades report: {_e(results.course_id)}</title>\n<style>{REPORT_CSS}</style>\n"
        f"</head>\n<body>\n{body}\n</body>\n</html>\n",
        encoding="utf-8",
    )
    paths["report"] = report
    return paths
