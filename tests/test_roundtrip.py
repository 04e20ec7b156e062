"""A simulated class through plain nbgrader: generate, submit, autograde, export, feedback."""

from __future__ import annotations

import csv
import os
import re
from html import unescape

import nbformat
import pytest

from autograder.cli.simulate import submission, submit
from autograder.hooks.feedback import docstring_title
from autograder.hooks.submissions import sandbox_label
from conftest import assignments, error_outputs, make_course, nbgrader
from roundtrip_cases import CASES

ROUNDTRIP = [name for name in assignments() if name in CASES]
# A cell that never finishes (01's infinite_loop) runs, and burns a CPU, until the cell timeout: 60 s in
# nbgrader_config.py. 01's other cells take well under a second each, so its class is graded with 15 s.
CELL_TIMEOUT = {"01_convolution": 15}


@pytest.mark.slow
@pytest.mark.parametrize("name", ROUNDTRIP)
def test_class_roundtrip_gives_each_student_the_exact_score(name, tmp_path):
    course = make_course(tmp_path / "course", [name])
    result = nbgrader("generate_assignment", name, cwd=course)
    assert result.returncode == 0, result.stderr
    released = nbformat.read(course / "notebooks" / name / f"{name}.ipynb", as_version=4)
    source = nbformat.read(course / "source" / name / f"{name}.ipynb", as_version=4)

    cases = CASES[name]
    for student, (edits, _) in cases.items():
        submit(course, name, student, submission(released, source, edits))

    timeout = [f"--Execute.timeout={CELL_TIMEOUT[name]}"] if name in CELL_TIMEOUT else []
    result = nbgrader("autograde", name, *timeout, cwd=course)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    for student in cases:
        assert (course / "autograded" / student / name / f"{name}.ipynb").exists(), f"{student} was not graded"
    # plain nbgrader says whether it sandboxes, prints each student's score, and no SQLAlchemy warning
    sandboxed = os.environ.get("CNN_COURSE_NO_SANDBOX", "") in ("", "0")
    full = cases["solved"][1]
    said = sorted(line for line in result.stdout.splitlines() if line.startswith("[cnn-course] "))
    assert said == sorted(
        f"[cnn-course] {student} {name}: {points:g}/{full:g} ({sandbox_label(sandboxed)})"
        for student, (_, points) in cases.items()
    ), (
        "\n".join(said)
        + "\nerrors per student:\n"
        + "\n".join(
            f"{student}: {error_outputs(nbformat.read(course / 'autograded' / student / name / f'{name}.ipynb', 4))}"
            for student in cases
        )
    )
    banner = "every submission runs split and sandboxed" if sandboxed else "NOT sandboxed (CNN_COURSE_NO_SANDBOX=1)"
    assert result.stderr.count(banner) == 1 and "SAWarning" not in result.stderr, result.stderr[-3000:]

    result = nbgrader("export", "--to", str(tmp_path / "grades.csv"), cwd=course)
    assert result.returncode == 0, result.stderr
    with open(tmp_path / "grades.csv") as f:
        rows = {row["student_id"]: row for row in csv.DictReader(f) if row["assignment"] == name}
    scores = {student: float(row["score"]) for student, row in rows.items()}
    expected = {student: float(points) for student, (_, points) in cases.items()}
    assert scores == expected
    max_scores = {float(row["max_score"]) for row in rows.values()}
    assert max_scores == {expected["solved"]}

    tests = {
        cell.metadata.nbgrader["grade_id"]: docstring_title(cell.source) or cell.metadata.nbgrader["grade_id"]
        for cell in source.cells
        if cell.metadata.get("nbgrader", {}).get("grade") and not cell.metadata.nbgrader.get("solution")
    }
    assert tests
    figures = sum(cell.source.count("](figures/") for cell in released.cells if cell.cell_type == "markdown")
    result = nbgrader("generate_feedback", name, cwd=course)
    assert result.returncode == 0, result.stderr
    for student in cases:
        html = (course / "feedback" / student / name / f"{name}.html").read_text()
        assert "<html" in html.lower() and name in html
        total = re.search(r"Score:\s*([\d.]+)\s*/\s*([\d.]+)", html)
        assert total and float(total.group(1)) == expected[student], (
            f"{student}'s feedback shows {total and total.group(0)}"
        )
        # its index names each test (not nbgrader's "Test cell"), and every image is in the page itself
        toc = html[html.index('<div id="toc">') : html.index("</ol>", html.index('<div id="toc">'))]
        links = {grade_id: unescape(text) for grade_id, text in re.findall(r'<a href="#([^"]+)">([^<]*)</a>', toc)}
        assert "Test cell" not in toc and tests.items() <= links.items(), (tests, links)
        sources = re.findall(r"<img\b[^>]*?\bsrc=[\"']([^\"']*)", html)
        assert len(sources) >= figures and all(src.startswith("data:") for src in sources), [s[:80] for s in sources]
