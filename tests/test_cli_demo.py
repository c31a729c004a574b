"""`python -m autograder demo` end to end on one real assignment, with real nbgrader."""

import csv
import re
from pathlib import Path

from nbgrader.api import Gradebook

from autograder.cli import main

ROOT = Path(__file__).resolve().parent.parent


def test_demo_grades_a_small_class_and_says_where_everything_is(tmp_path, capsys):
    out_dir = tmp_path / "demo"
    argv = ["--root", str(ROOT), "demo", "01_chain_rule", "--students", "4", "--skip-release"]
    assert main([*argv, "--out", str(out_dir)]) == 0
    out = capsys.readouterr().out
    checked, built = map(int, re.search(r"class check: (\d+)/(\d+)", out).groups())
    assert checked == built > 0

    course = out_dir / "course"
    for line in ("gradebook (nbgrader, SQLite)", "report with figures", "feedback ("):
        assert line in out
    assert str(course / "gradebook.db") in out

    with open(course / "exports" / "grades.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == built
    # 01's demo class always holds its memory bomb: ungradable with the reason, never lost
    bomb = [r for r in rows if r["status"] == "ungradable"]
    assert len(bomb) == 1 and "memory limit" in bomb[0]["reason"] and bomb[0]["score"] == "0"
    # full marks on every autograded cell; 01's derivation waits for a hand grade
    with open(course / "exports" / "cells.csv", newline="") as f:
        cells = list(csv.DictReader(f))
    waiting = {r["student"]: 0.0 for r in rows}
    for c in cells:
        if c["needs_manual_grade"] == "true":
            waiting[c["student"]] += float(c["max_score"])
    assert any(waiting[r["student"]] > 0 for r in rows if r["status"] == "graded")
    assert "derivations awaiting a hand grade" in out
    assert any(
        float(r["score"]) == float(r["max_score"]) - waiting[r["student"]] > 0
        for r in rows
        if r["status"] == "graded"
    )

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        graded = {s.student.id for s in gb.find_assignment("01_chain_rule").submissions}
    assert graded == {r["student"] for r in rows}
    for student in graded:
        assert (course / "feedback" / student / "index.html").is_file()
    report = (course / "exports" / "report.html").read_text()
    assert '<img src="report_01_chain_rule.png"' in report
    assert (course / "exports" / "report_01_chain_rule.png").stat().st_size > 0
