"""A real graded class of 03_pooling: the class report (autograder/cli/report.py) and LMS exports (cli/lms.py).

One class is graded once for the whole module (about a minute of CPU): the round-trip students of 03_pooling with
their known scores (tests/cases/roundtrip/03_pooling), one whose error message is a ``<script>`` element, one who
submits a solved notebook three hours after the due date, and one on the roster who never submits. The roster and
the due date go in through the course's own commands, and nbgrader's ``zero`` late penalty is on.
"""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from autograder import tool_env
from autograder.cli import report
from autograder.cli.simulate import SOLVED, submission, submit
from conftest import ROOT, make_course, nbgrader
from roundtrip_cases import CASES
from servers import CHROMIUM, chromium

NAME = "03_pooling"
XSS = "<script>alert(1)</script>"
DUE = "2026-11-20T12:00"  # the round-trip students' timestamps are 2026-11-20 10:00 UTC: on time
LATE = "2026-11-20 15:00:00.000000 UTC"  # three hours after the due date
ROSTER = {  # nbgrader id -> (first name, last name, email, LMS id)
    **{
        student: (f"First{i}", f"Last{i}", f"{student}@uni.example", f"10{i:02d}")
        for i, student in enumerate(CASES[NAME])
    },
    "xss": ("Xavier", "Script", "xss@uni.example", "1090"),
    "late": ("Laura", "Tardy", "late@uni.example", "1091"),
    "absent": ("Abe", "Sent", "absent@uni.example", "1092"),
}
ARTIFACTS = ROOT / "test-artifacts" / "report"

pytestmark = pytest.mark.xdist_group("graded_class")  # one worker grades the class once


def autograder_command(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "autograder", *args], cwd=cwd, capture_output=True, text=True, env=tool_env()
    )


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("graded_class")
    course = make_course(root / "course", [NAME])
    result = nbgrader("generate_assignment", NAME, cwd=course)
    assert result.returncode == 0, result.stderr

    roster = root / "roster.csv"
    with open(roster, "w", newline="") as f:
        csv.writer(f).writerows([["id", "first name", "last name", "email", "LMS id"]])
        csv.writer(f).writerows([student, *fields] for student, fields in ROSTER.items())
    result = autograder_command("roster", "import", str(roster), cwd=course)
    assert result.returncode == 0, result.stderr
    assert f"{len(ROSTER)} students read, {len(ROSTER)} added or updated" in result.stdout
    result = autograder_command("duedate", NAME, DUE, cwd=course)
    assert result.returncode == 0, result.stderr

    released = nbformat.read(course / "notebooks" / NAME / f"{NAME}.ipynb", as_version=4)
    source = nbformat.read(course / "source" / NAME / f"{NAME}.ipynb", as_version=4)
    for student, (edits, _) in CASES[NAME].items():
        submit(course, NAME, student, submission(released, source, edits))
    solved = CASES[NAME]["solved"][0]
    broken = {
        **solved,
        "max_pool2d": f"def max_pool2d(X, kernel_size, stride=None, padding=0):\n    raise ValueError({XSS!r})\n",
    }
    submit(course, NAME, "xss", submission(released, source, broken))
    late = submit(course, NAME, "late", submission(released, source, dict.fromkeys(solved, SOLVED)))
    (late / "timestamp.txt").write_text(LATE)

    result = nbgrader("autograde", NAME, "--LateSubmissionPlugin.penalty_method=zero", cwd=course)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    return course


@pytest.fixture(scope="module")
def report_html(course, tmp_path_factory) -> str:
    out = tmp_path_factory.mktemp("report") / "report.html"
    result = autograder_command("report", NAME, "--out", str(out), cwd=course)
    assert result.returncode == 0, result.stderr
    return out.read_text()


def export(course: Path, exporter: str, *args: str) -> list[list[str]]:
    dest = course / f"{exporter}.csv"
    result = nbgrader("export", "--exporter", f"autograder.cli.lms.{exporter}", "--to", str(dest), *args, cwd=course)
    assert result.returncode == 0, result.stderr
    with open(dest, newline="") as f:
        return list(csv.reader(f))


class Elements(HTMLParser):
    """The attributes of every start tag of a page, by tag name."""

    def __init__(self, text: str):
        super().__init__()
        self.tags: dict[str, list[dict[str, str]]] = {}
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.setdefault(tag, []).append(dict(attrs))


@pytest.mark.slow
def test_canvas_export_of_the_graded_class(course):
    rows = export(course, "CanvasExport", f'--CanvasExport.assignment_ids={{"{NAME}": "4711"}}')
    # Canvas's Gradebook import CSV: these five columns, then "<assignment> (<Canvas id>)"; Points Possible next.
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", f"{NAME} (4711)"]
    assert rows[1] == ["Points Possible", "", "", "", "", "25"]
    by_login = {row[3]: row for row in rows[2:]}
    assert set(by_login) == set(ROSTER)
    for student, (_, points) in CASES[NAME].items():
        first, last, _, lms_id = ROSTER[student]
        assert by_login[student][:2] == [f"{last}, {first}", lms_id]
        assert float(by_login[student][5]) == points, student
    assert by_login["late"][5] == "0"  # solved, but late, and nbgrader's "zero" penalty took the 25 points
    assert by_login["absent"][5] == ""  # no submission: no grade, not 0


@pytest.mark.slow
def test_moodle_export_carries_the_emails_moodle_maps_on(course):
    rows = export(course, "MoodleExport")
    assert rows[0] == ["First name", "Last name", "ID number", "Email address", NAME]
    by_email = {row[3]: row for row in rows[1:]}
    for student, (_, points) in CASES[NAME].items():
        first, last, email, lms_id = ROSTER[student]
        assert by_email[email][:3] == [first, last, lms_id]
        assert float(by_email[email][4]) == points
    assert by_email["absent@uni.example"][4] == ""


@pytest.mark.slow
def test_a_submission_after_the_due_date_is_reported_late(course):
    header, *rows = export(course, "PerTestExport")
    rows = {row[0]: dict(zip(header, row)) for row in rows}
    late, solved = rows["late"], rows["solved"]
    assert float(late[f"{NAME}: seconds late"]) == 3 * 3600  # 15:00 UTC against a 12:00 UTC due date
    assert float(solved[f"{NAME}: seconds late"]) == 0
    assert (late[f"{NAME}: penalty"], late[NAME]) == ("25", "0")
    tests = [column for column in header if column.startswith(f"{NAME}: test_")]
    assert tests and sum(float(late[column]) for column in tests) == 25  # every test passed; the penalty took it all
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        assert gb.find_submission(NAME, "late").total_seconds_late == 3 * 3600


@pytest.mark.slow
def test_report_pass_shares_are_the_gradebooks_per_cell_scores(course, report_html):
    shown = {
        row["data-test"]: (int(row["data-full"]), int(row["data-graded"]))
        for row in Elements(report_html).tags["tr"]
        if "data-test" in row
    }
    expected = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        submitted = [s.student.id for s in gb.find_assignment(NAME).submissions]
        for notebook in gb.find_assignment(NAME).notebooks:
            for cell in notebook.grade_cells:
                scores = [gb.find_grade(cell.name, notebook.name, NAME, student).score for student in submitted]
                expected[cell.name] = (sum(score == cell.max_score for score in scores), len(scores))
    assert len(submitted) == len(ROSTER) - 1  # everyone but "absent"
    assert shown == expected
    assert 0 < expected["test_max_pool_hidden"][0] < len(submitted)  # a cell some passed and some failed


@pytest.mark.slow
def test_report_histogram_counts_the_exported_scores(course, report_html):
    rows = export(course, "CanvasExport")
    scores = [float(row[5]) for row in rows[2:] if row[5] != ""]
    bars = [b for b in Elements(report_html).tags["rect"] if b.get("class") == "bar"]
    assert len(bars) == 10 and float(bars[0]["data-low"]) == 0 and float(bars[-1]["data-high"]) == 25
    for i, bar in enumerate(bars):
        low, high = float(bar["data-low"]), float(bar["data-high"])
        inside = [s for s in scores if low <= s < high or (i == len(bars) - 1 and s == high)]
        assert int(bar["data-count"]) == len(inside), (low, high, scores)
    assert sum(int(b["data-count"]) for b in bars) == len(scores) == len(ROSTER) - 1


@pytest.mark.slow
def test_report_lists_the_common_failures_escaped_and_no_student_names(report_html):
    assert f"ValueError: {XSS}".replace("<", "&lt;").replace(">", "&gt;") in report_html
    assert "NotImplementedError" in report_html  # the blank student's failure
    assert "<script" not in report_html.lower() and "script" not in Elements(report_html).tags
    for first, last, email, _ in ROSTER.values():
        assert first not in report_html and last not in report_html and email not in report_html


@pytest.mark.slow
@pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is missing (make installs Debian's chromium)")
def test_report_page_in_chromium_shows_the_script_as_text(report_html, tmp_path):
    page_path = tmp_path / "report.html"
    page_path.write_text(report_html)
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        dialogs, requests = [], []
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        page.on("request", lambda request: requests.append(request.url))
        page.goto(page_path.as_uri())
        assert page.locator("script").count() == 0
        assert f"ValueError: {XSS}" in page.inner_text("body")  # shown as text
        assert page.locator("svg.histogram rect.bar").count() == 10
        assert page.locator("tr.test").count() > 0
        screenshot = tmp_path / "report.png"
        page.screenshot(path=str(screenshot), full_page=True)
    assert dialogs == []  # alert(1) never ran
    assert requests == [page_path.as_uri()]  # self-contained: the page loads nothing else
    assert screenshot.stat().st_size > 10_000
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(screenshot, ARTIFACTS / "report.png")


@pytest.mark.slow
def test_report_of_an_unknown_assignment_names_it(course):
    result = autograder_command("report", "09_nope", cwd=course)
    assert result.returncode == 2 and "no assignment '09_nope'" in result.stderr


# --- unit tests of the pieces, no grading run ---


def test_histogram_bins_are_half_open_and_the_last_one_closed():
    bars = report.histogram([0, 2.4, 2.5, 24.9, 25], 25)
    assert [(low, high) for low, high, _ in bars] == [(2.5 * i, 2.5 * (i + 1)) for i in range(10)]
    assert [count for *_, count in bars] == [2, 1, 0, 0, 0, 0, 0, 0, 0, 2]


def test_failure_message_is_the_last_errors_name_and_value_on_one_line():
    def cell(*outputs):
        return nbformat.v4.new_code_cell(outputs=[nbformat.from_dict(o) for o in outputs])

    error = {
        "output_type": "error",
        "ename": "CheckFailure",
        "evalue": "\x1b[31mexpected\n  (2, 2)\x1b[0m",
        "traceback": [],
    }
    assert report.failure_message(cell({"output_type": "stream", "name": "stdout", "text": "hi"}, error)) == (
        "CheckFailure: expected (2, 2)"
    )
    only_traceback = {
        "output_type": "error",
        "ename": "",
        "evalue": "",
        "traceback": ["Traceback", "KeyError: 'x'", ""],
    }
    assert report.failure_message(cell(only_traceback)) == "KeyError: 'x'"
    assert report.failure_message(cell({"output_type": "stream", "name": "stdout", "text": "ok"})) is None
    assert report.normalise("<object at 0x7f3a2b1c9d40>") == "<object at 0x…>"
    assert report.normalise("x" * 5000) == "x" * (report.MESSAGE_CHARS - 1) + "…"
    assert report.normalise("y" * 900) == "y" * 900  # a long course message (a CheckFailure) stays whole


def test_render_escapes_every_text_from_a_submission():
    stats = report.TestStats("a: test_x", 'test_"x"', 2.0, full=1, graded=3)
    stats.failures.update({XSS: 2, "ValueError: a & b": 1})
    page = report.render(report.ClassReport("03_pooling", 2.0, 3, [2.0, 0.0, 0.0], 0, [stats]))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "a &amp; b" in page
    assert "<script" not in page and 'data-test="test_&quot;x&quot;"' in page
    assert 'data-full="1" data-graded="3"' in page and "33% (1/3)" in page
