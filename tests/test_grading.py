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

from autograder.cli.simulate import submission as _submission
from conftest import ROOT, benchmark_json, make_course, nbgrader
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
    index = next(
        i for i, c in enumerate(duplicated.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == "conv2d"
    )
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
    # what stops (or escapes) plain nbgrader, and what only the parallel tool's own steps are tested on
    for student in ["renamed", "not_json", "missing", "duplicated", "deleted_tests", "huge_output"]:
        shutil.rmtree(serial / "submitted" / student)
    result = nbgrader("autograde", NAME, cwd=serial)
    assert result.returncode == 0, result.stderr[-5000:]
    serial_log = result.stdout + result.stderr
    parallel = runs["parallel"]
    from autograder import tool_env

    result = subprocess.run(
        [sys.executable, "-m", "autograder", "autograde", NAME, "--jobs", "2"],
        cwd=parallel,
        capture_output=True,
        text=True,
        env={**tool_env(), "PYTHONPATH": str(ROOT)},
        timeout=1200,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    return {
        "serial": _export(serial, base / "serial.csv"),
        "parallel": _export(parallel, base / "parallel.csv"),
        "report": result.stdout,
        "progress": result.stderr,
        "course": parallel,
        "serial_log": serial_log,
    }


@pytest.mark.slow
@pytest.mark.xdist_group("grading")  # the class is graded once, on one worker
def test_parallel_scores_equal_serial_nbgrader(graded):
    serial, parallel = graded["serial"], graded["parallel"]
    assert set(serial) == {*WELL_FORMED, "edited_metadata"}
    assert {s: parallel[s] for s in serial} == serial
    for student in WELL_FORMED:
        assert parallel[student] == CASES[NAME][student][1]


@pytest.mark.slow
@pytest.mark.xdist_group("grading")  # the class is graded once, on one worker
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
    assert re.search(rf"solved\s+{full:g}/{full:g}\s+graded", lines["solved"])
    assert "graded 8 of 10" in report
    assert "autograde 01_convolution" in graded["progress"] and "student" in graded["progress"]  # the tqdm bar
    assert (graded["course"] / "submitted" / "not_json" / NAME / f"{NAME}.ipynb.invalid").exists()


@pytest.mark.slow
@pytest.mark.xdist_group("grading")  # the class is graded once, on one worker
def test_untouched_test_cells_raise_no_checksum_warning_and_no_kernel_banner(graded):
    """Plain `nbgrader autograde`: a test cell released without its hidden tests is no "changed" cell (the
    gradebook holds it with them; autograder.hooks.submissions.OverwriteCells), an edited one still is; the
    sandbox kernel prints no ipykernel banner into the log."""
    log = graded["serial_log"]
    parts = re.split(r"Sanitizing \S*[/\\]submitted[/\\]([^/\\]+)[/\\]", log)
    warnings = {}
    for student, text in zip(parts[1::2], parts[2::2]):
        warnings[student] = re.findall(r"Attribute 'checksum' for cell (\w+) has changed", text)
    assert warnings["solved"] == [] and warnings["blank"] == [] and warnings["cheater"] == [], warnings
    assert len(warnings["edited_metadata"]) >= 6, warnings  # its test cells say `pass`: reported, and undone
    assert "Ctrl-C will not work" not in log and "To connect another client" not in log


def test_report_never_gives_a_score_it_did_not_give_and_shows_nbgraders_traceback():
    from autograder.cli.autograde import Outcome, report

    log = (
        "[AutogradeApp | ERROR] There was an error processing assignment: /c/submitted/me/01_convolution\n"
        "[AutogradeApp | ERROR] Traceback (most recent call last):\n"
        '      File "/x/nbgrader/converters/autograde.py", line 154, in init_assignment\n'
        "        raise NbGraderException(msg)\n"
        "    nbgrader.converters.base.NbGraderException: No notebooks found, did you forget to run "
        "'nbgrader generate_assignment'?\n"
        "[AutogradeApp | ERROR] Please see the the above traceback for details on the specific errors\n"
    )
    lost = Outcome(
        "me", notes=["nbgrader failed: NbGraderException: No notebooks found"], score=0.0, max_score=20.0, log=log
    )
    fine = Outcome("you", graded=True, score=20.0, max_score=20.0)
    text = report([lost, fine], NAME)
    me = text.splitlines()[1]
    assert "NOT GRADED" in me and "0/20" not in me and "—" in me
    assert "Traceback (most recent call last)" in text and "raise NbGraderException(msg)" in text
    assert re.search(r"you\s+20/20\s+graded", text)
    assert "graded 1 of 2: the others have no score" in text and "every student has a score" not in text


@pytest.mark.slow
def test_autograde_before_generate_assignment_stops_and_says_what_to_run(tmp_path):
    """notebooks/ is committed, so a plain `generate_assignment` skips it and the gradebook never learns the
    notebooks: the tool stops before grading (nbgrader would fail everyone and record submissions that then
    block `generate_assignment --force`)."""
    from autograder import tool_env

    course = make_course(tmp_path / "course", [NAME])
    shutil.copytree(ROOT / "notebooks" / NAME, course / "notebooks" / NAME)
    skipped = nbgrader("generate_assignment", NAME, cwd=course)
    assert "Skipping existing assignment" in skipped.stdout + skipped.stderr
    folder = course / "submitted" / "me" / NAME
    folder.mkdir(parents=True)
    shutil.copy(course / "notebooks" / NAME / f"{NAME}.ipynb", folder)
    result = subprocess.run(
        [sys.executable, "-m", "autograder", "autograde", NAME, "--no-progress"],
        cwd=course,
        capture_output=True,
        text=True,
        env=tool_env(),
        timeout=300,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"run `nbgrader generate_assignment {NAME} --force` here first" in result.stderr
    assert "graded" not in result.stdout
    result = nbgrader("generate_assignment", NAME, "--force", cwd=course)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]


@pytest.mark.slow
def test_make_check_grades_a_learners_copy_with_every_test_listed(tmp_path):
    """`make check TOPIC=...` (python -m autograder check): a solved copy gets full points, a blank one zero,
    every test listed with its points, and nothing in the repository changes."""
    from autograder import tool_env

    released = nbformat.read(ROOT / "notebooks" / NAME / f"{NAME}.ipynb", as_version=4)
    source = nbformat.read(ROOT / "source" / NAME / f"{NAME}.ipynb", as_version=4)
    tests = [c.metadata["nbgrader"]["grade_id"] for c in source.cells if c.metadata.get("nbgrader", {}).get("grade")]
    git = [
        "git",
        "status",
        "--porcelain",
        "--ignored",
        "--",
        "source",
        "notebooks",
        "nbgrader_config.py",
        "gradebook.db",
        "submitted",
        "autograded",
        "feedback",
        "rejected",
    ]
    state = subprocess.run(git, cwd=ROOT, capture_output=True, text=True).stdout
    full = CASES[NAME]["solved"][1]
    for case, total in [("solved", f"{full:g}/{full:g}"), ("blank", f"0/{full:g}")]:
        work = tmp_path / case
        (work / NAME).mkdir(parents=True)
        nbformat.write(_submission(released, source, CASES[NAME][case][0]), work / NAME / f"{NAME}.ipynb")
        result = subprocess.run(
            [sys.executable, "-m", "autograder", "check", NAME, "--work", str(work)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            env=tool_env(),
            timeout=900,
        )
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        lines = {}  # test -> its row and the lines of its message below it (indented further)
        for line in result.stdout.splitlines():
            if re.match(r"  \S", line):
                lines[line.split()[0]] = line
            elif line.startswith("      ") and lines:
                lines[list(lines)[-1]] += "\n" + line
        assert sorted(lines) == sorted(tests), result.stdout
        assert f"total {total}" in result.stdout and f"source/{NAME}/{NAME}.ipynb" in result.stdout
        if case == "blank":  # a question's test reads the answer variable the blank answer cell never set
            assert all(
                " 0/" in line and ("NotImplementedError" in line or "is not defined" in line) for line in lines.values()
            ), result.stdout
        else:
            assert not any(re.search(r" 0/\d", line) for line in lines.values()), result.stdout
    assert subprocess.run(git, cwd=ROOT, capture_output=True, text=True).stdout == state  # nothing changed or made


@pytest.mark.slow
@pytest.mark.xdist_group("grading")  # the class is graded once, on one worker
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
    # a line that also appears in a visible test (or inside one of its lines) is no secret
    hidden_lines = {line for line in hidden_lines if not any(line in visible for visible in shown)}
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
    figures = benchmark_json("autograde.py", "--submissions", "1", "--jobs", "2", only_line=False)
    assert set(figures) >= {"serial_s", "parallel_s", "unsafe_s", "jobs", "submissions", "safe_over_unsafe_wall"}
    assert figures["submissions"] == 1 and figures["jobs"] == 2
    assert figures["serial_s"] > 0 and figures["parallel_s"] > 0 and figures["unsafe_s"] > 0
    for kind in ("safe", "unsafe", "parallel"):  # the CPU of the graders' processes, not of the benchmark alone
        assert figures[f"{kind}_cpu_s_per_submission"] > 0.5, figures


def test_grading_without_bubblewrap_says_to_install_it_or_set_no_sandbox(monkeypatch):
    from autograder.cli import autograde
    from autograder.hooks import execute

    monkeypatch.setattr(execute.shutil, "which", lambda name, *a, **k: None)
    monkeypatch.delenv("CNN_COURSE_NO_SANDBOX", raising=False)
    assert "CNN_COURSE_NO_SANDBOX=1" in autograde.sandbox_missing() and "bubblewrap" in autograde.sandbox_missing()
    monkeypatch.setenv("CNN_COURSE_NO_SANDBOX", "1")
    assert autograde.sandbox_missing() is None


def test_the_grader_computes_a_helpers_reference_only_for_small_work():
    """A helper request comes from the student's sandbox: the grader answers it with PyTorch only when the
    answer is cheap (each tensor small, the product of their sizes bounded, small integers)."""
    import torch

    from autograder.trusted.grader_kernel import HELPER_MAX_INT, _check_helper_size

    _check_helper_size([torch.zeros(2, 3, 10, 10), torch.zeros(4, 3, 3, 3)], {"padding": 2})
    for args, kwargs in [
        ([torch.zeros(2**23)], {}),
        ([torch.zeros(2**21), torch.zeros(2**21)], {}),
        ([torch.zeros(3, 3)], {"padding": HELPER_MAX_INT + 1}),
        ([[1, [2, 10**9]]], {}),
    ]:
        with pytest.raises(ValueError, match="too large"):
            _check_helper_size(args, kwargs)


def test_a_students_own_module_imports_in_the_sandbox_but_never_replaces_a_course_module(tmp_path):
    """The sandbox's kernel runs `python -P` in the student's folder; the worker's finder, last in sys.meta_path,
    finds the student's own modules only when nothing else does."""
    (tmp_path / "course_utils.py").write_text("raise SystemExit('the student replaced course_utils')\n")
    (tmp_path / "autograder.py").write_text("raise SystemExit('the student replaced autograder')\n")
    (tmp_path / "helpers_of_mine.py").write_text("VALUE = 42\n")
    code = (
        "import sys, autograder.sandbox.worker as w; sys.meta_path.append(w.StudentFolder('.')); "
        "import course_utils, helpers_of_mine; print(course_utils.__file__, helpers_of_mine.VALUE)"
    )
    result = subprocess.run(
        [sys.executable, "-P", "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == [str(ROOT / "course_utils" / "__init__.py"), "42"]


def test_make_checks_messages_are_wrapped_whole_never_cut(tmp_path):
    """`make check` prints a failed test's whole message (every line, every word), wrapped to the terminal between
    words: a bias vector's digits or a dtype's name is never cut, and only a message of over 30 lines is shortened,
    saying by how much."""
    from autograder.cli.check import MESSAGE_LINES, _messages, wrap_message

    message = (
        "conv2d(X, W, b) differs from PyTorch's at 12 of 18 places: with b = [0.1235, -2.5, 3.75] "
        "the output's first row is [1.2346, 2.3457, 3.4568, 4.5679] where torch gives [1.3581, 2.4692, 3.5803, 4.6914]"
        "\nthe input's dtype is torch.float64 and yours returned torch.float32"
    )
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("check()", metadata={"nbgrader": {"grade": True, "grade_id": "test_x"}})
    cell.outputs = [nbformat.v4.new_output("error", ename="AssertionError", evalue=message, traceback=[])]
    nb.cells = [cell, nbformat.v4.new_code_cell("x = 1")]
    nbformat.write(nb, tmp_path / "graded.ipynb")
    found = _messages(tmp_path / "graded.ipynb")
    assert found == {"test_x": f"AssertionError: {message}"}
    lines = wrap_message(found["test_x"], indent=6, width=60)
    assert all(len(line) <= 60 and line.startswith("      ") for line in lines), lines
    assert " ".join(line.strip() for line in lines).split() == found["test_x"].split()  # every word, whole, in order
    assert any(line.strip().startswith("the input's dtype") for line in lines)  # its own line break is kept

    many = "\n".join(f"line {i}" for i in range(100))
    shown = wrap_message(many, width=80)
    assert len(shown) == MESSAGE_LINES and shown[-1].strip() == f"... and {100 - MESSAGE_LINES + 1} more lines " + (
        "(run the notebook's test cell to see them)"
    )
    assert [line.strip() for line in shown[:-1]] == [f"line {i}" for i in range(MESSAGE_LINES - 1)]
