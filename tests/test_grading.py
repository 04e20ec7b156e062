"""`python -m autograder autograde`: malformed submissions, parallel grading equal to serial nbgrader, feedback."""

from __future__ import annotations

import csv
import html
import re
import shutil
import subprocess
import sys

import nbformat
import pytest

from autograder.simulate import submission as _submission
from conftest import ROOT, make_course, nbgrader
from roundtrip_cases import CASES

NAME = "01_convolution"
WELL_FORMED = ["solved", "blank", "cheater"]


def _class(course):
    """Write a class into course/submitted: three students from the round trip plus malformed submissions."""
    released = nbformat.read(course / "notebooks" / NAME / f"{NAME}.ipynb", as_version=4)
    source = nbformat.read(course / "source" / NAME / f"{NAME}.ipynb", as_version=4)
    solved = _submission(released, source, CASES[NAME]["solved"][0])

    def folder(student):
        path = course / "submitted" / student / NAME
        path.mkdir(parents=True)
        (path / "timestamp.txt").write_text("2026-11-20 10:00:00.000000 UTC")
        return path

    for student in WELL_FORMED:
        nbformat.write(_submission(released, source, CASES[NAME][student][0]), folder(student) / f"{NAME}.ipynb")
    duplicated = nbformat.from_dict(solved)
    index = next(i for i, c in enumerate(duplicated.cells)
                 if c.metadata.get("nbgrader", {}).get("grade_id") == "conv2d")
    copy = nbformat.from_dict(duplicated.cells[index])
    copy.id = "conv2d-copy"
    duplicated.cells.insert(index + 1, copy)
    nbformat.write(duplicated, folder("duplicated") / f"{NAME}.ipynb")
    deleted = nbformat.from_dict(solved)
    deleted.cells = [c for c in deleted.cells if not c.metadata.get("nbgrader", {}).get("grade")]
    nbformat.write(deleted, folder("deleted_tests") / f"{NAME}.ipynb")
    edited = nbformat.from_dict(solved)
    for cell in edited.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade"):
            meta["points"] = 100
            cell.source = "pass"
    nbformat.write(edited, folder("edited_metadata") / f"{NAME}.ipynb")
    huge = nbformat.from_dict(solved)
    huge.cells.insert(2, nbformat.v4.new_code_cell("print('x' * 10_000_000)"))
    nbformat.write(huge, folder("huge_output") / f"{NAME}.ipynb")
    nbformat.write(solved, folder("renamed") / "Untitled.ipynb")
    (folder("not_json") / f"{NAME}.ipynb").write_text('{"cells": [ this is not json')
    folder("missing")


def _export(course, path):
    result = nbgrader("export", "--to", str(path), cwd=course)
    assert result.returncode == 0, result.stderr[-3000:]
    with open(path) as f:
        return {row["student_id"]: float(row["score"]) for row in csv.DictReader(f) if row["assignment"] == NAME}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The same class graded twice: plain serial nbgrader (well-formed part), and the tool with --jobs 2."""
    base = tmp_path_factory.mktemp("grading")
    runs = {}
    for kind in ("serial", "parallel"):
        course = make_course(base / kind, [NAME])
        result = nbgrader("generate_assignment", NAME, cwd=course)
        assert result.returncode == 0, result.stderr
        _class(course)
        runs[kind] = course
    serial = runs["serial"]
    for student in ["renamed", "not_json", "missing", "duplicated"]:  # what stops (or escapes) plain nbgrader
        shutil.rmtree(serial / "submitted" / student)
    result = nbgrader("autograde", NAME, cwd=serial)
    assert result.returncode == 0, result.stderr[-5000:]
    parallel = runs["parallel"]
    from autograder import tool_env
    result = subprocess.run([sys.executable, "-m", "autograder", "autograde", NAME, "--jobs", "2"], cwd=parallel,
                            capture_output=True, text=True, env={**tool_env(), "PYTHONPATH": str(ROOT)}, timeout=1200)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    return {"serial": _export(serial, base / "serial.csv"), "parallel": _export(parallel, base / "parallel.csv"),
            "report": result.stdout, "progress": result.stderr, "course": parallel}


@pytest.mark.slow
def test_parallel_scores_equal_serial_nbgrader(graded):
    serial, parallel = graded["serial"], graded["parallel"]
    assert set(serial) == {*WELL_FORMED, "deleted_tests", "edited_metadata", "huge_output"}
    assert {s: parallel[s] for s in serial} == serial
    for student in WELL_FORMED:
        assert parallel[student] == CASES[NAME][student][1]


@pytest.mark.slow
def test_malformed_submissions_are_repaired_or_zeroed_with_a_reason(graded):
    scores, report = graded["parallel"], graded["report"]
    full = CASES[NAME]["solved"][1]
    assert scores["renamed"] == full and scores["duplicated"] == full and scores["huge_output"] == full
    assert scores["edited_metadata"] == full  # nbgrader restores test cells and their points from the gradebook
    assert scores["deleted_tests"] == full  # OverwriteCells.add_missing_cells puts the deleted tests back
    assert scores["not_json"] == 0 and scores["missing"] == 0
    lines = {line.split()[0]: line for line in report.splitlines()[1:-1]}
    assert "renamed Untitled.ipynb to 01_convolution.ipynb" in lines["renamed"]
    assert "not a valid notebook" in lines["not_json"] and "NOT GRADED" in lines["not_json"]
    assert "not submitted" in lines["missing"]
    assert "cell 'conv2d' appears 2 times" in lines["duplicated"]
    assert re.search(r"solved\s+20/20\s+graded", lines["solved"])
    assert "graded 8 of 10" in report
    assert "autograde 01_convolution" in graded["progress"] and "student" in graded["progress"]  # the tqdm bar
    assert (graded["course"] / "submitted" / "not_json" / NAME / f"{NAME}.ipynb.invalid").exists()


@pytest.mark.slow
def test_feedback_shows_test_names_but_no_hidden_test_code(graded):
    course = graded["course"]
    result = nbgrader("generate_feedback", NAME, cwd=course)
    assert result.returncode == 0, result.stderr[-3000:]
    source = nbformat.read(ROOT / "source" / NAME / f"{NAME}.ipynb", as_version=4)
    hidden_lines, names, shown = set(), [], set()
    for cell in source.cells:
        outside = re.sub(r"### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS", "", cell.source, flags=re.S)
        shown |= {line.strip() for line in outside.splitlines()}
        if "### BEGIN HIDDEN TESTS" in cell.source:
            region = cell.source.split("### BEGIN HIDDEN TESTS", 1)[1].split("### END HIDDEN TESTS", 1)[0]
            hidden_lines |= {line.strip() for line in region.splitlines() if len(line.strip()) > 15}
            names.append(cell.source.strip().splitlines()[0].strip('"').strip()[:60])
    hidden_lines -= shown  # a line that also appears in a visible test is no secret
    assert hidden_lines and names
    for student in ["solved", "blank", "cheater"]:
        feedback = (course / "feedback" / student / NAME / f"{NAME}.html").read_text()
        page = html.unescape(re.sub(r"<[^>]+>", "", feedback))
        leaked = [line for line in hidden_lines if line in page]
        assert leaked == [], f"{student}'s feedback shows hidden test code: {leaked[:3]}"
        assert all(name in page for name in names), f"{student}'s feedback lost a test's name"
        assert "hidden tests (" in page
    blank = html.unescape(re.sub(r"<[^>]+>", "", (course / "feedback" / "blank" / NAME / f"{NAME}.html").read_text()))
    assert "NotImplementedError" in blank  # the message stays, the traceback's code lines go


@pytest.mark.slow
def test_autograde_benchmark_prints_its_json_line():
    import json

    result = subprocess.run([sys.executable, "benchmarks/autograde.py", "--json", "--submissions", "2", "--jobs", "2"],
                            cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert set(figures) >= {"serial_s", "parallel_s", "jobs", "submissions"}
    assert figures["submissions"] == 2 and figures["jobs"] == 2
    assert figures["serial_s"] > 0 and figures["parallel_s"] > 0
