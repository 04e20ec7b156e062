"""LMS exports, roster import and due dates (autograder/cli/lms.py) on a tiny gradebook built through nbgrader's API.

Expected files are written out from each LMS's documented format (cited in autograder/cli/lms.py), with the scores
worked out by hand from the grades put in the gradebook, never read back from the exporter."""

from __future__ import annotations

import csv
import datetime
import warnings

import pytest
from nbgrader.api import Gradebook
from sqlalchemy.exc import SAWarning

from autograder.cli import lms
from conftest import make_course

DUE = datetime.datetime(2026, 12, 20, 23, 59)


@pytest.fixture
def gradebook(tmp_path):
    """01_convolution (test_a 4 + test_b 6 points) and 02_padding_stride (test_c 5). ada submits both (4+6, 2.5);
    bob submits 01 three hours late and nbgrader recorded a 3-point penalty (4+6-3); cy submits nothing."""
    with Gradebook(f"sqlite:///{tmp_path / 'gradebook.db'}") as gb:
        gb.add_assignment("01_convolution", duedate=DUE)
        gb.add_notebook("01_convolution", "01_convolution")
        gb.add_grade_cell("test_a", "01_convolution", "01_convolution", max_score=4, cell_type="code")
        gb.add_grade_cell("test_b", "01_convolution", "01_convolution", max_score=6, cell_type="code")
        gb.add_assignment("02_padding_stride")
        gb.add_notebook("02_padding_stride", "02_padding_stride")
        gb.add_grade_cell("test_c", "02_padding_stride", "02_padding_stride", max_score=5, cell_type="code")
        gb.add_student("ada", first_name="Ada", last_name="Lovelace", email="ada@example.org", lms_user_id="1001")
        gb.add_student("bob", first_name="Bob", last_name="Babbage", email="bob@example.org", lms_user_id="1002")
        gb.add_student("cy", first_name="Cy", last_name="Young", email="cy@example.org", lms_user_id="1003")
        grades = {
            ("ada", "01_convolution", "2026-12-20 10:00:00 UTC"): {"test_a": 4, "test_b": 6},
            ("ada", "02_padding_stride", "2026-12-20 10:00:00 UTC"): {"test_c": 2.5},
            ("bob", "01_convolution", "2026-12-21 02:59:00 UTC"): {"test_a": 4, "test_b": 6},
        }
        for (student, assignment, timestamp), points in grades.items():
            with warnings.catch_warnings():  # nbgrader's add_submission trips SQLAlchemy's autoflush warning
                warnings.simplefilter("ignore", SAWarning)
                gb.add_submission(assignment, student, timestamp=timestamp)
            for cell, score in points.items():
                gb.find_grade(cell, assignment, assignment, student).auto_score = score
        gb.find_submission_notebook("01_convolution", "01_convolution", "bob").late_submission_penalty = 3.0
        gb.db.commit()
        yield gb


def read_rows(path) -> list[list[str]]:
    with open(path, newline="") as f:
        return list(csv.reader(f))


def test_canvas_export_is_canvas_gradebook_import_csv(gradebook, tmp_path):
    dest = tmp_path / "canvas.csv"
    lms.CanvasExport(to=str(dest), assignment_ids={"01_convolution": "1234"}).export(gradebook)
    # Canvas Instructor Guide, "How do I import grades in the Gradebook?": Student, ID, SIS User ID, SIS Login ID,
    # Section, then "<assignment name> (<assignment id>)" or the bare name; "Points Possible" under the header.
    # Students in the gradebook's order (nbgrader sorts them by last name).
    # A student without a submission: an empty cell (ungraded), not 0.
    assert read_rows(dest) == [
        ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "01_convolution (1234)", "02_padding_stride"],
        ["Points Possible", "", "", "", "", "10", "5"],
        ["Babbage, Bob", "1002", "", "bob", "", "7", ""],
        ["Lovelace, Ada", "1001", "", "ada", "", "10", "2.5"],
        ["Young, Cy", "1003", "", "cy", "", "", ""],
    ]


def test_moodle_export_is_moodle_grade_import_csv(gradebook, tmp_path):
    dest = tmp_path / "moodle.csv"
    lms.MoodleExport(to=str(dest), item_names={"02_padding_stride": "Padding and stride"}).export(gradebook)
    # Moodle docs, Grade import (the CSV export format): user fields, then one column per grade item; the
    # importer maps "Email address" to useremail and reads an empty cell as no grade.
    assert read_rows(dest) == [
        ["First name", "Last name", "ID number", "Email address", "01_convolution", "Padding and stride"],
        ["Bob", "Babbage", "1002", "bob@example.org", "7", ""],
        ["Ada", "Lovelace", "1001", "ada@example.org", "10", "2.5"],
        ["Cy", "Young", "1003", "cy@example.org", "", ""],
    ]


def test_per_test_export_has_a_column_per_test_cell_and_the_lateness(gradebook, tmp_path):
    dest = tmp_path / "tests.csv"
    lms.PerTestExport(to=str(dest), assignment=["01_convolution"]).export(gradebook)
    header, *rows = read_rows(dest)
    rows = {row[0]: dict(zip(header, row)) for row in rows}
    ada, bob, cy = rows["ada"], rows["bob"], rows["cy"]
    assert (ada["01_convolution: test_a"], ada["01_convolution: test_b"], ada["01_convolution"]) == ("4", "6", "10")
    assert ada["01_convolution: seconds late"] == "0"
    # bob's timestamp 2026-12-21 02:59 is 3 h after the due date 2026-12-20 23:59
    assert bob["01_convolution: seconds late"] == str(3 * 3600)
    assert (bob["01_convolution: penalty"], bob["01_convolution"]) == ("3", "7")
    assert cy["01_convolution"] == cy["01_convolution: test_a"] == cy["01_convolution: seconds late"] == ""
    assert "02_padding_stride" not in read_rows(dest)[0]


def test_export_of_an_unknown_assignment_names_it(gradebook, tmp_path):
    exporter = lms.CanvasExport(to=str(tmp_path / "x.csv"), assignment=["04_nope"])
    with pytest.raises(ValueError, match=r"no assignment \['04_nope'\] in the gradebook \(it has \['01_conv"):
        exporter.selection(gradebook)
    with pytest.raises(SystemExit, match="1"):
        exporter.export(gradebook)
    assert not (tmp_path / "x.csv").exists()


def write(path, text: str):
    path.write_text(text)
    return path


def test_roster_in_the_course_columns_adds_then_reports_only_changes(tmp_path):
    roster = write(
        tmp_path / "roster.csv",
        "id,first name,last name,email,LMS id\nada,Ada,Lovelace,ada@example.org,1001\nbob,Bob,Babbage,,1002\n",
    )
    with Gradebook(f"sqlite:///{tmp_path / 'gradebook.db'}") as gb:
        assert lms.import_roster(gb, lms.read_roster(roster)) == [
            "added ada: first_name='Ada', last_name='Lovelace', email='ada@example.org', lms_user_id='1001'",
            "added bob: first_name='Bob', last_name='Babbage', lms_user_id='1002'",
        ]
        assert lms.import_roster(gb, lms.read_roster(roster)) == []
        roster = write(roster, "ID,First_Name,Last_Name,Email,LMS_ID\nada,Ada,Lovelace,ada@uni.example,\n")
        assert lms.import_roster(gb, lms.read_roster(roster)) == [
            "updated ada: email 'ada@example.org' -> 'ada@uni.example'"
        ]
        ada = gb.find_student("ada")
        assert (ada.email, ada.lms_user_id) == ("ada@uni.example", "1001")  # an empty cell erases nothing


def test_roster_from_canvas_gradebook_export(tmp_path):
    # Canvas's gradebook export: Student ("Last, First"), ID, SIS User ID, SIS Login ID, Section, assignments...,
    # with a "Points Possible" row under the header.
    roster = write(
        tmp_path / "canvas.csv",
        "Student,ID,SIS User ID,SIS Login ID,Section,Quiz 1 (77)\n"
        "    Points Possible,,,,,10\n"
        '"Lovelace, Ada",1001,S-1,ada,CNN 101,9\n',
    )
    assert lms.read_roster(roster) == [
        {"id": "ada", "first_name": "Ada", "last_name": "Lovelace", "email": "", "lms_user_id": "1001"}
    ]


def test_roster_from_moodle_export(tmp_path):
    # Moodle's grade export (plain text): First name, Last name, ID number, Institution, Department, Email address...
    roster = write(
        tmp_path / "moodle.csv",
        '"First name","Last name","ID number",Institution,Department,"Email address"\n'
        "Ada,Lovelace,u1001,Uni,CS,ada@example.org\n",
    )
    assert lms.read_roster(roster) == [
        {
            "id": "u1001",
            "first_name": "Ada",
            "last_name": "Lovelace",
            "email": "ada@example.org",
            "lms_user_id": "u1001",
        }
    ]
    header = "Username,First name,Last name,ID number,Email address\n"
    with_username = write(tmp_path / "m2.csv", header + "ada,A,L,7,a@x\n")
    assert lms.read_roster(with_username)[0] == {
        "id": "ada",
        "first_name": "A",
        "last_name": "L",
        "email": "a@x",
        "lms_user_id": "7",
    }


def test_roster_without_a_column_names_it(tmp_path):
    roster = write(tmp_path / "roster.csv", "id,first name,last name,LMS id\nada,Ada,Lovelace,1001\n")
    with pytest.raises(ValueError, match=r"no 'email' column .*columns found: 'id', 'first name'"):
        lms.read_roster(roster)
    canvas = write(tmp_path / "canvas.csv", "Student,ID,SIS User ID,Section\nx,1,2,3\n")
    with pytest.raises(ValueError, match="no 'sis login id' column in this Canvas roster"):
        lms.read_roster(canvas)


def test_roster_student_without_an_id_names_the_line(tmp_path):
    roster = write(tmp_path / "roster.csv", "id,first name,last name,email,LMS id\nada,A,L,a@x,1\n,B,M,b@x,2\n")
    with pytest.raises(ValueError, match=r"line 3: the 'id' column \(the student's id\) is empty"):
        lms.read_roster(roster)


def test_roster_and_duedate_commands_write_the_course_gradebook(tmp_path, capsys):
    course = make_course(tmp_path / "course", ["03_pooling"])
    roster = write(tmp_path / "roster.csv", "id,first name,last name,email,LMS id\nada,Ada,Lovelace,ada@x,1001\n")
    assert lms.roster_main(["import", str(roster), "--course", str(course)]) == 0
    assert "added ada" in capsys.readouterr().out
    assert lms.duedate_main(["03_pooling", "2026-12-20T23:59+01:00", "--course", str(course)]) == 0
    assert capsys.readouterr().out == "03_pooling: 2026-12-20 22:59:00 UTC\n"  # +01:00 is an hour ahead of UTC
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        assert gb.find_assignment("03_pooling").duedate == datetime.datetime(2026, 12, 20, 22, 59)
        assert gb.find_student("ada").lms_user_id == "1001"


def test_duedate_refuses_an_unknown_assignment_and_a_bad_date(tmp_path, capsys):
    course = make_course(tmp_path / "course", ["03_pooling"])
    assert lms.duedate_main(["09_nope", "2026-12-20T23:59", "--course", str(course)]) == 2
    assert "no assignment '09_nope'" in capsys.readouterr().err
    assert lms.duedate_main(["03_pooling", "next friday-ish", "--course", str(course)]) == 2
    assert "not a date and time: 'next friday-ish'" in capsys.readouterr().err
