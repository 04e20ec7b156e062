"""zip_collect of an LMS download. (nbgrader's exchange round trip with real Unix users, a non-root
instructor and README's commands as written is tests/test_readme.py.)"""

from __future__ import annotations

import csv
import zipfile

import nbformat
import pytest

from autograder.cli.simulate import submission as _submission
from conftest import make_course, nbgrader
from roundtrip_cases import CASES

NAME = "01_convolution"


@pytest.mark.slow
def test_zip_collect_of_an_lms_download(tmp_path):
    course = make_course(tmp_path / "course", [NAME])
    assert nbgrader("generate_assignment", NAME, cwd=course).returncode == 0
    released = nbformat.read(course / "notebooks" / NAME / f"{NAME}.ipynb", as_version=4)
    source = nbformat.read(course / "source" / NAME / f"{NAME}.ipynb", as_version=4)
    archive = course / "downloaded" / NAME / "archive"
    archive.mkdir(parents=True)
    with zipfile.ZipFile(archive / "lms_download.zip", "w") as z:
        for student, case in [("carol", "solved"), ("dave", "wrong_convolve2d")]:
            z.writestr(
                f"{student}_attempt_2026-11-20-10-00-00_{NAME}.ipynb",
                nbformat.writes(_submission(released, source, CASES[NAME][case][0])),
            )
    regexp = rf".*/(?P<student_id>[a-z]+)_attempt_(?P<timestamp>[0-9\-]+)_(?P<file_id>{NAME}\.ipynb)"
    result = nbgrader(
        "zip_collect",
        NAME,
        f"--FileNameCollectorPlugin.named_regexp={regexp}",
        "--FileNameCollectorPlugin.valid_ext=['.ipynb']",
        cwd=course,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    for student in ("carol", "dave"):
        assert (course / "submitted" / student / NAME / f"{NAME}.ipynb").exists(), result.stdout[-3000:]
    assert nbgrader("autograde", NAME, cwd=course).returncode == 0
    assert nbgrader("export", "--to", str(tmp_path / "grades.csv"), cwd=course).returncode == 0
    with open(tmp_path / "grades.csv") as f:
        scores = {r["student_id"]: float(r["score"]) for r in csv.DictReader(f)}
    assert scores == {"carol": CASES[NAME]["solved"][1], "dave": CASES[NAME]["wrong_convolve2d"][1]}
