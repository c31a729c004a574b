"""Loose notebooks (a folder or a zip, one per student) into nbgrader's
`submitted/<student>/<assignment>/<assignment>.ipynb` layout.

A notebook is named by its student: `ada_lovelace.ipynb`, or
`ada_lovelace/<assignment>.ipynb` as an LMS download often arranges them.
Nothing is lost: a different notebook already collected for the same
student is moved to `collect_backup/` first.
"""

import re
import shutil
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath

from .course import CourseError

STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$")
MAX_BYTES = 50 * 2**20


@dataclass
class Collected:
    students: list = field(default_factory=list)
    unchanged: list = field(default_factory=list)
    skipped: list = field(default_factory=list)  # (name in the archive, reason)


def _folder_of(path, assignment):
    """The student folder of `<student>/<assignment>.ipynb`, else None."""
    if path.stem == assignment and len(path.parts) > 1:
        return path.parent
    return None


def _student_of(name, assignment, student_folders):
    """The student a notebook belongs to, or (None, why it is not a submission)."""
    path = PurePosixPath(name)
    folder = _folder_of(path, assignment)
    if folder is not None:
        return folder.name, None
    if path.parent in student_folders:
        return None, (
            f"an extra notebook in {path.parent.name}'s folder: only {assignment}.ipynb is graded"
        )
    return path.stem, None


def _entries(source):
    """(name, size, mtime, read) for every notebook in a folder or zip."""
    source = Path(source)
    if source.is_dir():
        for path in sorted(source.rglob("*.ipynb")):
            if ".ipynb_checkpoints" in path.parts:
                continue
            stat = path.stat()
            mtime = datetime.fromtimestamp(stat.st_mtime, timezone.utc)
            yield str(path.relative_to(source).as_posix()), stat.st_size, mtime, path.read_bytes
    elif zipfile.is_zipfile(source):
        with zipfile.ZipFile(source) as archive:
            for info in sorted(archive.infolist(), key=lambda i: i.filename):
                if info.is_dir() or not info.filename.endswith(".ipynb"):
                    continue
                if ".ipynb_checkpoints" in info.filename or "__MACOSX" in info.filename:
                    continue
                mtime = datetime(*info.date_time, tzinfo=timezone.utc)
                yield (
                    info.filename,
                    info.file_size,
                    mtime,
                    lambda n=info.filename: _unzip(source, n),
                )
    else:
        raise CourseError(f"{source} is neither a folder nor a zip file of notebooks")


def _unzip(archive, name):
    with zipfile.ZipFile(archive) as opened:
        return opened.read(name)


def collect(root, source, assignment):
    """Copy each student's notebook into submitted/; report what was skipped."""
    root = Path(root)
    report = Collected()
    seen = set()
    entries = list(_entries(source))
    student_folders = {_folder_of(PurePosixPath(name), assignment) for name, *_ in entries}
    for name, size, mtime, read in entries:
        student, why_not = _student_of(name, assignment, student_folders)
        if why_not:
            report.skipped.append((name, why_not))
            continue
        if not STUDENT_ID.match(student):
            report.skipped.append(
                (name, f"'{student}' is not a usable student id: rename the file")
            )
            continue
        if student in seen:
            report.skipped.append((name, f"a second notebook for {student}: keep one and rerun"))
            continue
        if size > MAX_BYTES:
            report.skipped.append((name, f"{size / 2**20:.0f} MiB is over the 50 MiB limit"))
            continue
        seen.add(student)
        data = read()
        folder = root / "submitted" / student / assignment
        target = folder / f"{assignment}.ipynb"
        if target.is_file() and target.read_bytes() == data:
            report.unchanged.append(student)
            continue
        if target.is_file():
            _back_up(root, target, student, assignment)
        folder.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        stamp = mtime.strftime("%Y-%m-%d %H:%M:%S.%f UTC")
        (folder / "timestamp.txt").write_text(stamp)
        report.students.append(student)
    return report


def _back_up(root, target, student, assignment):
    backups = root / "collect_backup" / student / assignment
    backups.mkdir(parents=True, exist_ok=True)
    number = len(list(backups.glob("*.ipynb"))) + 1
    shutil.move(str(target), backups / f"{number:03d}-{assignment}.ipynb")
