"""The demo class (autograder/demo_class.py): a realistic class of submissions, the same bytes for
the same seed, valid notebooks (but for the one meant to be broken) that differ from the release
only in solution cells, and outcomes that the hidden tests confirm (checked on assignment 01).
"""

import json
import re
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import nbformat
import pytest
from nbgrader.utils import parse_utc

from demo.synthesize import (
    FULL,
    HOSTILE_KINDS,
    PARTIAL,
    UNGRADABLE,
    ZERO,
    load_catalog,
    synthesize_class,
)

from notebook_harness import ROOT, run_notebook, source_notebook

ASSIGNMENTS = sorted(p.name for p in (ROOT / "source").iterdir() if p.is_dir())
PERSONAS = {"strong", "typical", "struggling", "absent", "late"}
_MARKERS = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*(\n|$)", re.M)
_HIDDEN = re.compile(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", re.S)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The default class: 40 students, every assignment, seed 0."""
    dest = tmp_path_factory.mktemp("demo")
    return dest, synthesize_class(ROOT, dest)


def _files(folder):
    return {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _record(sub):
    return {k: v for k, v in vars(sub).items() if k != "path"}


def _grade_id(cell):
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def _solution_sources(path):
    nb = nbformat.read(str(path), as_version=4)
    return {
        _grade_id(c): c.source for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")
    }


def _written(correct, catalog, gid, what):
    """The source a solution cell must hold: "correct", "mistake: <name>", "alternative: <style>"."""
    kind, _, detail = what.partition(": ")
    if kind == "correct":
        return correct[gid]
    entries = catalog.mistakes if kind == "mistake" else catalog.alternatives
    return entries[detail][gid].strip("\n")


def test_the_same_seed_writes_the_same_bytes(demo, tmp_path):
    dest, subs = demo
    again = synthesize_class(ROOT, tmp_path / "again")
    assert _files(tmp_path / "again") == _files(dest)
    assert [_record(s) for s in again] == [_record(s) for s in subs]
    other = synthesize_class(ROOT, tmp_path / "seed1", seed=1, assignments=["01_chain_rule"])
    assert {s.student for s in other} != {s.student for s in subs}


def test_a_class_of_40_with_personas_absences_and_late_work(demo):
    dest, subs = demo
    students = {s.student: s.persona for s in subs}
    assert len(students) == 40
    assert all(re.fullmatch(r"[a-z]+(_[a-z]+)+", s) for s in students)
    assert set(students.values()) == PERSONAS
    counts = Counter(students.values())
    assert counts["typical"] >= 15 and counts["strong"] >= 5 and counts["struggling"] >= 5
    for student, persona in students.items():
        folders = {p.name for p in (dest / "submitted" / student).iterdir()}
        assert folders == {s.assignment for s in subs if s.student == student}
        if persona == "absent":
            assert folders < set(ASSIGNMENTS), f"{student} skips no assignment"
        else:
            assert folders == set(ASSIGNMENTS), f"{student} ({persona}) skipped an assignment"
    for s in subs:
        submitted, due = parse_utc(s.timestamp), parse_utc(s.due)
        assert (submitted > due) == s.late, (s.student, s.assignment, s.timestamp, s.due)
        assert (s.path.parent / "timestamp.txt").read_text() == s.timestamp + "\n"
        assert s.late <= (s.persona == "late")
    assert any(s.late for s in subs)


def test_every_outcome_mistakes_shared_and_every_hostile_kind_once(demo):
    _, subs = demo
    assert {s.expected for s in subs} == {FULL, PARTIAL, ZERO, UNGRADABLE}
    assert Counter(s.kind for s in subs if s.hostile) == dict.fromkeys(HOSTILE_KINDS, 1)
    per_assignment = Counter(s.assignment for s in subs if s.hostile)
    assert set(per_assignment) == set(ASSIGNMENTS) and max(per_assignment.values()) <= 2
    assert len({s.student for s in subs if s.hostile}) == len(HOSTILE_KINDS)
    for s in subs:
        assert bool(s.reason) == (s.expected == UNGRADABLE), s
        assert s.description
        if not s.hostile:
            assert (s.expected == ZERO) == (s.kind == "untouched")
            assert (s.expected == FULL) == (s.kind in ("correct", "alternative"))
    mistakes = Counter(
        (s.assignment, what) for s in subs for what in s.cells.values() if "mistake:" in what
    )
    for aid in ASSIGNMENTS:
        assert len([m for a, m in mistakes if a == aid]) >= 3, f"fewer than 3 mistakes in {aid}"
    assert max(mistakes.values()) >= 4, "no mistake is common to several students"
    assert Counter(s.kind for s in subs)["alternative"] >= 3


def test_every_notebook_is_valid_but_the_truncated_one(demo):
    _, subs = demo
    for s in subs:
        text = s.path.read_text(encoding="utf-8")
        if s.kind == "invalid_json":
            with pytest.raises(json.JSONDecodeError):
                json.loads(text)
            continue
        nb = nbformat.reads(text, as_version=4)
        nbformat.validate(nb)
        ids = [c.id for c in nb.cells]
        assert len(ids) == len(set(ids)), f"{s.path}: duplicate cell ids"


def test_only_solution_cells_differ_from_the_release(demo):
    """Test cells keep the released source (no hidden test in any submission); solution cells
    hold what the record says: the source's solution, a catalog cell, or the stub."""
    _, subs = demo
    for aid in ASSIGNMENTS:
        release = nbformat.read(str(ROOT / "release" / aid / f"{aid}.ipynb"), as_version=4)
        released = {_grade_id(c) or c.id: c for c in release.cells}
        source = nbformat.read(str(source_notebook(aid)), as_version=4)
        hidden = [b.strip() for c in source.cells for b in _HIDDEN.findall(c.source) if b.strip()]
        correct = {
            _grade_id(c): _MARKERS.sub("", c.source)
            for c in source.cells
            if c.metadata.get("nbgrader", {}).get("solution")
        }
        catalog = load_catalog(ROOT, aid)
        for s in (s for s in subs if s.assignment == aid and s.kind != "invalid_json"):
            nb = nbformat.read(str(s.path), as_version=4)
            for cell in nb.cells:
                assert "HIDDEN TESTS" not in cell.source and "### BEGIN SOLUTION" not in cell.source
                assert not any(block in cell.source for block in hidden), (s.path, _grade_id(cell))
                gid = _grade_id(cell) or cell.id
                if not cell.metadata.get("nbgrader", {}).get("solution"):
                    assert cell == released[gid], (s.path, gid)
                    continue
                what = s.cells[gid]
                if "+" in what:
                    continue  # the hostile change: see test_hostile_changes_are_where_the_records_say
                if what == "unanswered":
                    assert cell.source == released[gid].source, (s.path, gid)
                else:
                    assert cell.source == _written(correct, catalog, gid, what), (s.path, what)
            kept = [_grade_id(c) or c.id for c in nb.cells]
            if s.kind == "deleted_test_cell":
                assert len(set(released) - set(kept)) == 1
            elif s.kind == "duplicated_solution_cell":
                assert len(kept) == len(released) + 1
            else:
                assert kept == list(released), s.path


def test_hostile_changes_are_where_the_records_say(demo):
    _, subs = demo
    by_kind = {s.kind: s for s in subs if s.hostile}
    snippets = {
        "infinite_loop": "while True:",
        "memory_bomb": "bytearray(8 * 1024**3)",
        "kernel_crash": "os._exit(1)",
        "stderr_warning": "file=sys.stderr",
        "huge_output": "range(10**6)",
        "writes_outside": 'open("../../../gradebook.db", "w")',
    }
    for kind, snippet in snippets.items():
        s = by_kind[kind]
        (target,) = [gid for gid, what in s.cells.items() if what.endswith(f"+ {kind}")]
        sources = _solution_sources(s.path)
        assert snippet in sources[target]
        assert all(snippet not in text for gid, text in sources.items() if gid != target)
        compile(sources[target], f"{s.assignment}/{target}", "exec")
    s = by_kind["duplicated_solution_cell"]
    nb = nbformat.read(str(s.path), as_version=4)
    counts = Counter(_grade_id(c) for c in nb.cells if _grade_id(c))
    assert [gid for gid, n in counts.items() if n > 1] == [
        gid for gid, what in s.cells.items() if "duplicated" in what
    ]


# --- assignment 01, executed -------------------------------------------------------------------

RUN_KINDS = ("correct", "alternative", "mistakes", "unfinished", "untouched", "stderr_warning")


@pytest.fixture(scope="module")
def chain_rule_runs(tmp_path_factory):
    """One submission of each kind of a 40-student class of assignment 01, run with the hidden
    tests (its solution cells inside the source notebook), plus two run as submitted."""
    dest = tmp_path_factory.mktemp("chain_rule")
    subs = synthesize_class(ROOT, dest, assignments=["01_chain_rule"])
    chosen = {kind: next(s for s in subs if s.kind == kind) for kind in RUN_KINDS}
    jobs = {
        kind: (source_notebook(s.assignment), _solution_sources(s.path))
        for kind, s in chosen.items()
    }
    jobs["correct, as submitted"] = (chosen["correct"].path, None)
    jobs["untouched, as submitted"] = (chosen["untouched"].path, None)
    with ThreadPoolExecutor(2) as pool:
        results = dict(zip(jobs, pool.map(lambda job: run_notebook(*job), jobs.values())))
    return subs, chosen, results


def _outcome(results):
    passed = [r.passed for r in results.values()]
    return FULL if all(passed) else ZERO if not any(passed) else PARTIAL


@pytest.mark.parametrize("kind", RUN_KINDS)
def test_hidden_tests_confirm_the_expected_outcome(chain_rule_runs, kind):
    _, chosen, results = chain_rule_runs
    sub = chosen[kind]
    failed = {g: r.error for g, r in results[kind].items() if not r.passed}
    assert _outcome(results[kind]) == sub.expected, (sub.description, failed)
    if sub.expected == PARTIAL:  # only the cells of wrong answers (or of what calls them) fail
        wrong = {gid for gid, what in sub.cells.items() if what != "correct"}
        depends = load_catalog(ROOT, sub.assignment).depends
        for test_id in failed:
            owner = max((gid for gid in sub.cells if test_id.startswith(f"test_{gid}_")), key=len)
            assert ({owner} | depends.get(owner, set())) & wrong, (test_id, sub.description)


def test_stderr_costs_nothing_here_but_is_in_the_test_cells(chain_rule_runs):
    """Stock nbgrader gives 0 to a passing test cell that wrote to stderr; a grader that ignores
    stderr gives this submission full marks."""
    _, chosen, results = chain_rule_runs
    assert chosen["stderr_warning"].expected == FULL
    noisy = [g for g, r in results["stderr_warning"].items() if r.stderr]
    assert "test_log_cosh_visible" in noisy and "RuntimeWarning" in "".join(
        results["stderr_warning"][g].stderr for g in noisy
    )


def test_submissions_run_as_submitted(chain_rule_runs):
    """The visible tests in the student's own copy: all pass when correct, none when untouched."""
    _, _, results = chain_rule_runs
    assert _outcome(results["correct, as submitted"]) == FULL
    assert _outcome(results["untouched, as submitted"]) == ZERO


def test_the_01_class_also_has_its_hostile_notebooks(chain_rule_runs):
    subs, _, _ = chain_rule_runs
    assert {s.kind for s in subs if s.hostile} == set(load_catalog(ROOT, "01_chain_rule").hostile)
