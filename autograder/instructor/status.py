"""What `grade` recorded about one submission, next to nbgrader's gradebook.

The gradebook holds the scores (per cell). It has no notion of a submission
that could not be graded, so each graded submission also gets a small JSON
record at `autograded/<student>/<assignment>/autograder.json`:

    status     "graded" | "ungradable" | "missing"
    reason     why it is ungradable or missing ("" when graded)
    score, max_score
    awaiting_hand_grade  points of cells (derivations) still to be graded by hand
    seconds    wall-clock time spent grading it
    notes      things the instructor may want to know (ignored stderr, ...)
    fingerprint  hash of the inputs; an unchanged submission is not regraded
    sandbox    how its kernel was isolated: "bubblewrap", "namespaces" or "none" (--no-sandbox)
    exchanges  requests between the judge and the kernel (the oracle protocol's work)

An ungradable submission scores 0 in the gradebook with every cell flagged
`needs_manual_grade`, so nbgrader's formgrader lists it too.
"""

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

FILENAME = "autograder.json"
GRADED, UNGRADABLE, MISSING = "graded", "ungradable", "missing"


@dataclass
class Status:
    student: str
    assignment: str
    status: str
    reason: str = ""
    score: float = 0.0
    max_score: float = 0.0
    awaiting_hand_grade: float = 0.0
    seconds: float = 0.0
    notes: list = field(default_factory=list)
    fingerprint: str = ""
    sandbox: str = ""
    exchanges: int = 0

    @property
    def graded(self):
        return self.status == GRADED


def status_path(root, student, assignment):
    return Path(root) / "autograded" / student / assignment / FILENAME


def write_status(root, status):
    """Atomically (write then rename), so a crash never leaves half a record."""
    path = status_path(root, status.student, status.assignment)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(status), indent=1) + "\n")
    os.replace(tmp, path)


def read_status(root, student, assignment):
    """The record, or None when this submission was never graded by `grade`."""
    path = status_path(root, student, assignment)
    try:
        return Status(**json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        return None
