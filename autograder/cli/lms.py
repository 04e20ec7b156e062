"""Grades to the LMS: nbgrader export plugins for Canvas and Moodle, a per-test CSV, roster import and due dates.

Exporters (nbgrader's own plugin interface, ``nbgrader.plugins.ExportPlugin``), run from the course root::

    nbgrader export --exporter autograder.cli.lms.CanvasExport --to canvas.csv
    nbgrader export --exporter autograder.cli.lms.MoodleExport --to moodle.csv
    nbgrader export --exporter autograder.cli.lms.PerTestExport --to tests.csv

Each score is nbgrader's: the submission's score minus the late penalty nbgrader recorded (never below zero).
A student with no submission gets an empty cell, which both LMSs read as "no grade", not as 0.

- **Canvas**, the Gradebook import CSV documented in the Canvas Instructor Guide, "How do I import grades in the
  Gradebook?" (community.canvaslms.com/t5/Instructor-Guide/How-do-I-import-grades-in-the-Gradebook/ta-p/807):
  the columns ``Student``, ``ID``, ``SIS User ID``, ``SIS Login ID``, ``Section``, then one column per assignment,
  ``<name> (<Canvas assignment id>)`` (matched by id) or ``<name>`` (matched by name, or a new assignment), and a
  ``Points Possible`` row under the header, as in Canvas's own gradebook export. ``Student`` is "Last, First",
  ``ID`` the student's LMS id from the gradebook (Canvas's user id), ``SIS Login ID`` the nbgrader student id,
  ``SIS User ID`` empty (the gradebook has no such field; Canvas matches on one of the others).
  ``--CanvasExport.assignment_ids='{"01_convolution": "1234"}'`` gives the Canvas ids; ``--CanvasExport.section``
  fills ``Section``. An ungraded cell is empty in Canvas's own export and stays ungraded on import.
- **Moodle**, the grade import "CSV file" (docs.moodle.org/en/Grade_import; the import format is the export
  format): ``First name``, ``Last name``, ``ID number``, ``Email address``, then one column per grade item. On
  import, map from ``Email address`` to ``useremail`` (or ``ID number`` to ``useridnumber``) and each column to
  its grade item. Moodle's importer reads an empty cell as no grade (``grade/import/csv/classes/load_data.php``:
  ``''`` or ``'-'`` -> null). ``--MoodleExport.item_names='{"01_convolution": "Convolution"}'`` renames columns.
- **Per test** (a plain CSV, one row per student, like otter-grader's grades CSV): the student's ids, then for each
  assignment its score, ``<a>: max``, ``<a>: seconds late``, ``<a>: penalty`` and one column per test cell,
  ``<a>: <grade id>``. Kept apart from the LMS files because every extra column there is an LMS grade item
  (Canvas creates an assignment for each unknown column).

Commands (``python -m autograder ...``, from the course root or with ``--course DIR``)::

    roster import roster.csv        add or update the students in the gradebook
    duedate 01_convolution 2026-12-20T23:59     set a due date (UTC unless the time says otherwise)
    duedate                          list the assignments' due dates
"""

from __future__ import annotations

import argparse
import csv
import datetime
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.plugins import ExportPlugin
from traitlets import Dict, Unicode


@dataclass
class Result:
    """One student's result on one assignment: `score` is None when they did not submit."""

    score: float | None
    max_score: float
    seconds_late: float = 0.0
    penalty: float = 0.0
    tests: dict[str, float] = field(default_factory=dict)  # test column -> points


def test_columns(gradebook: Gradebook, assignment: str) -> dict[str, tuple[str, str, float]]:
    """Test column name ("<assignment>: <grade id>", the notebook too when there are several) ->
    (notebook, grade id, max score), for every graded cell of `assignment`, in notebook order."""
    notebooks = gradebook.find_assignment(assignment).notebooks
    columns = {}
    for notebook in notebooks:
        prefix = assignment if len(notebooks) == 1 else f"{assignment}/{notebook.name}"
        for cell in notebook.grade_cells:
            columns[f"{prefix}: {cell.name}"] = (notebook.name, cell.name, cell.max_score)
    return columns


def result(gradebook: Gradebook, assignment: str, student: str) -> Result:
    """`student`'s result on `assignment`, as nbgrader recorded it (score after nbgrader's late penalty)."""
    max_score = gradebook.find_assignment(assignment).max_score
    try:
        submission = gradebook.find_submission(assignment, student)
    except MissingEntry:
        return Result(None, max_score)
    tests = {}
    for column, (notebook, grade_id, _) in test_columns(gradebook, assignment).items():
        try:
            tests[column] = gradebook.find_grade(grade_id, notebook, assignment, student).score
        except MissingEntry:
            tests[column] = 0.0
    penalty = submission.late_submission_penalty or 0.0
    return Result(
        score=max(0.0, submission.score - penalty),
        max_score=max_score,
        seconds_late=submission.total_seconds_late,
        penalty=penalty,
        tests=tests,
    )


def number(value: float | None) -> str:
    """A score as a CSV cell: empty for no grade, no trailing ".0" (25, 21.5)."""
    return "" if value is None else f"{value:g}"


class _Export(ExportPlugin):
    """The students and assignments `nbgrader export --student/--assignment` selects, and the CSV file."""

    default_to = "grades.csv"

    def selection(self, gradebook: Gradebook) -> tuple[list, list[str]]:
        """(students, assignment names): every one in the gradebook unless --student/--assignment narrow it."""
        wanted_students = {str(s) for s in self.student}
        wanted_assignments = {str(a) for a in self.assignment}
        names = sorted(a.name for a in gradebook.assignments)  # the course's names sort in teaching order
        assignments = [name for name in names if not wanted_assignments or name in wanted_assignments]
        unknown = wanted_assignments - set(assignments)
        if unknown:
            raise ValueError(f"no assignment {sorted(unknown)} in the gradebook (it has {names})")
        students = [s for s in gradebook.students if not wanted_students or s.id in wanted_students]
        return students, assignments

    def rows(self, gradebook: Gradebook) -> Iterator[list[str]]:
        raise NotImplementedError

    def export(self, gradebook: Gradebook) -> None:
        dest = self.to or self.default_to
        self.log.info("Exporting grades to %s (%s)", dest, type(self).__name__)
        try:
            rows = list(self.rows(gradebook))
        except ValueError as error:  # an --assignment the gradebook does not have: one line, not a traceback
            self.log.error("%s", error)
            raise SystemExit(1) from None
        with open(dest, "w", newline="", encoding="utf-8") as f:
            csv.writer(f).writerows(rows)


class CanvasExport(_Export):
    """Canvas's Gradebook import CSV (see the module docstring for the documented format)."""

    default_to = "canvas.csv"
    assignment_ids = Dict(
        key_trait=Unicode(),
        value_trait=Unicode(),
        help="Canvas assignment id of each nbgrader assignment: its column is then '<name> (<id>)'",
    ).tag(config=True)
    section = Unicode("", help="The Section column (Canvas accepts it empty)").tag(config=True)

    def column(self, assignment: str) -> str:
        canvas_id = self.assignment_ids.get(assignment)
        return f"{assignment} ({canvas_id})" if canvas_id else assignment

    def rows(self, gradebook: Gradebook) -> Iterator[list[str]]:
        students, assignments = self.selection(gradebook)
        yield ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", *map(self.column, assignments)]
        maxima = [gradebook.find_assignment(a).max_score for a in assignments]
        yield ["Points Possible", "", "", "", "", *map(number, maxima)]
        for student in students:
            name = ", ".join(part for part in (student.last_name, student.first_name) if part) or student.id
            scores = [number(result(gradebook, a, student.id).score) for a in assignments]
            yield [name, student.lms_user_id or "", "", student.id, self.section, *scores]


class MoodleExport(_Export):
    """Moodle's grade import CSV (see the module docstring for the documented format)."""

    default_to = "moodle.csv"
    item_names = Dict(
        key_trait=Unicode(),
        value_trait=Unicode(),
        help="Moodle grade item name of each nbgrader assignment (its column header; default: the assignment name)",
    ).tag(config=True)

    def rows(self, gradebook: Gradebook) -> Iterator[list[str]]:
        students, assignments = self.selection(gradebook)
        yield [
            "First name",
            "Last name",
            "ID number",
            "Email address",
            *(self.item_names.get(a, a) for a in assignments),
        ]
        for student in students:
            if not student.email and not student.lms_user_id:
                self.log.warning("%s has neither an email nor an LMS id: Moodle cannot match them", student.id)
            scores = [number(result(gradebook, a, student.id).score) for a in assignments]
            yield [
                student.first_name or "",
                student.last_name or "",
                student.lms_user_id or "",
                student.email or "",
                *scores,
            ]


class PerTestExport(_Export):
    """A plain CSV with each test cell's points and each submission's lateness (see the module docstring)."""

    default_to = "tests.csv"

    def rows(self, gradebook: Gradebook) -> Iterator[list[str]]:
        students, assignments = self.selection(gradebook)
        tests = {a: list(test_columns(gradebook, a)) for a in assignments}
        header = ["student_id", "first_name", "last_name", "email", "lms_user_id"]
        for a in assignments:
            header += [a, f"{a}: max", f"{a}: seconds late", f"{a}: penalty", *tests[a]]
        yield header
        for student in students:
            row = [student.id, student.first_name or "", student.last_name or "", student.email or ""]
            row.append(student.lms_user_id or "")
            for a in assignments:
                r = result(gradebook, a, student.id)
                submitted = r.score is not None
                row += [number(r.score), number(r.max_score)]
                row += [number(r.seconds_late if submitted else None), number(r.penalty if submitted else None)]
                row += [number(r.tests.get(column)) for column in tests[a]]
            yield row


# --- roster import ---------------------------------------------------------------------------------------------

FIELDS = ("id", "first_name", "last_name", "email", "lms_user_id")
#: Roster formats: column (any case, "_" or " " between words) -> the gradebook fields it fills. The course's own.
COURSE_COLUMNS = {
    "id": ("id",),
    "first name": ("first_name",),
    "last name": ("last_name",),
    "email": ("email",),
    "lms id": ("lms_user_id",),
}
#: Canvas's gradebook export (the roster Canvas gives an instructor): "Student" is "Last, First", "ID" Canvas's user
#: id, "SIS Login ID" the login, which is the nbgrader id.
CANVAS_COLUMNS = {"student": ("last_name, first_name",), "id": ("lms_user_id",), "sis login id": ("id",)}
#: Moodle's grade export or participants download: "ID number" is the LMS id, and the nbgrader id too unless
#: there is a "Username" column.
MOODLE_COLUMNS = {"first name": ("first_name",), "last name": ("last_name",), "email address": ("email",)}


def _key(column: str) -> str:
    return re.sub(r"[\s_]+", " ", column.strip().lower())


def _format(path: Path, columns: dict[str, str]) -> tuple[str, dict[str, tuple[str, ...]]]:
    """(name, columns wanted) of the roster format whose header this is."""
    if "sis login id" in columns or "sis user id" in columns:
        return "Canvas", CANVAS_COLUMNS
    if "email address" in columns:
        if "username" in columns:
            return "Moodle", {**MOODLE_COLUMNS, "username": ("id",), "id number": ("lms_user_id",)}
        return "Moodle", {**MOODLE_COLUMNS, "id number": ("id", "lms_user_id")}
    return "course", COURSE_COLUMNS


def read_roster(path: Path) -> list[dict[str, str]]:
    """The students of a roster CSV (the course's columns, or Canvas's or Moodle's export), as dicts of FIELDS.

    Raises ValueError naming a missing column, or the line of a student without an id."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        header = reader.fieldnames or []
        rows = list(reader)
    columns = {_key(c): c for c in header}
    kind, wanted = _format(path, columns)
    missing = [name for name in wanted if name not in columns]
    if missing:
        found = ", ".join(repr(c) for c in header) or "none"
        raise ValueError(
            f"{path}: no {' / '.join(repr(m) for m in missing)} column in this {kind} roster "
            f"(the course's roster has: id, first name, last name, email, LMS id); columns found: {found}"
        )
    students = []
    for line, row in enumerate(rows, start=2):
        student = dict.fromkeys(FIELDS, "")
        for name, targets in wanted.items():
            value = (row.get(columns[name]) or "").strip()
            for target in targets:
                if target == "last_name, first_name":
                    last, _, first = value.partition(",")
                    student["last_name"], student["first_name"] = last.strip(), first.strip()
                else:
                    student[target] = value
        if kind == "Canvas" and "points possible" in (row.get(columns["student"]) or "").lower():
            continue  # the row under the header of Canvas's export
        if not student["id"]:
            id_column = next(columns[name] for name, targets in wanted.items() if "id" in targets)
            raise ValueError(f"{path}, line {line}: the {id_column!r} column (the student's id) is empty")
        students.append(student)
    return students


def import_roster(gradebook: Gradebook, students: list[dict[str, str]]) -> list[str]:
    """Add or update each student through nbgrader's Gradebook; one line per student added or changed.

    An empty value never erases what the gradebook knows (Canvas's roster has no email, for example)."""
    report = []
    for student in students:
        values = {f: v for f, v in student.items() if f != "id" and v}
        try:
            known = gradebook.find_student(student["id"])
        except MissingEntry:
            gradebook.update_or_create_student(student["id"], **values)
            report.append(f"added {student['id']}: " + ", ".join(f"{f}={v!r}" for f, v in values.items()))
            continue
        changes = {f: v for f, v in values.items() if getattr(known, f) != v}
        if changes:
            before = {f: getattr(known, f) for f in changes}
            gradebook.update_or_create_student(student["id"], **changes)
            report.append(
                f"updated {student['id']}: " + ", ".join(f"{f} {before[f]!r} -> {v!r}" for f, v in changes.items())
            )
    return report


# --- due dates -------------------------------------------------------------------------------------------------


def parse_due(text: str) -> datetime.datetime:
    """A due date as nbgrader stores it (naive UTC): ISO 8601, or "2026-12-20 23:59 Europe/Berlin"; without a
    zone, UTC."""
    from nbgrader.utils import parse_utc

    try:
        return parse_utc(text)
    except (ValueError, OverflowError) as error:
        raise ValueError(
            f"not a date and time: {text!r} (write e.g. 2026-12-20T23:59 or 2026-12-20T23:59+01:00)"
        ) from error


def set_due_date(gradebook: Gradebook, course: Path, assignment: str, due: datetime.datetime) -> None:
    """Give `assignment` (in the gradebook, or a folder of the course's source/) its due date."""
    known = [a.name for a in gradebook.assignments]
    sources = sorted(p.name for p in (course / "source").glob("*") if p.is_dir())
    if assignment not in known and assignment not in sources:
        raise ValueError(
            f"no assignment {assignment!r} in the gradebook or source/ (known: {sorted(set(known + sources))})"
        )
    gradebook.update_or_create_assignment(assignment, duedate=due)


def course_gradebook(course: Path) -> Gradebook:
    """The gradebook of the course rooted at `course`, as its nbgrader_config.py sets it."""
    from autograder.cli.autograde import _gradebook

    return _gradebook(course)


def roster_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder roster", description="add or update students")
    parser.add_argument("action", choices=["import"])
    parser.add_argument("csv", type=Path, help="id, first name, last name, email, LMS id (or Canvas's/Moodle's export)")
    parser.add_argument("--course", type=Path, default=Path.cwd(), help="the course root (default: here)")
    args = parser.parse_args(argv)
    try:
        students = read_roster(args.csv)
    except (ValueError, OSError) as error:
        print(f"roster: {error}", file=sys.stderr)
        return 2
    with course_gradebook(args.course) as gradebook:
        lines = import_roster(gradebook, students)
    print("\n".join(lines) if lines else "roster: nothing to change")
    print(f"roster: {len(students)} students read, {len(lines)} added or updated")
    return 0


def duedate_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder duedate", description="set or list due dates")
    parser.add_argument("assignment", nargs="?")
    parser.add_argument("due", nargs="?", help="e.g. 2026-12-20T23:59 (UTC), 2026-12-20T23:59+01:00")
    parser.add_argument("--course", type=Path, default=Path.cwd(), help="the course root (default: here)")
    args = parser.parse_args(argv)
    with course_gradebook(args.course) as gradebook:
        if args.due is not None:
            try:
                set_due_date(gradebook, args.course, args.assignment, parse_due(args.due))
            except ValueError as error:
                print(f"duedate: {error}", file=sys.stderr)
                return 2
        for a in gradebook.assignments:
            if args.assignment in (None, a.name):
                print(f"{a.name}: {a.duedate.isoformat(sep=' ') + ' UTC' if a.duedate else 'no due date'}")
    return 0
