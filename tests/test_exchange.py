"""The real exchange round trip with two local Unix users, and zip_collect of an LMS download.

Runs as root (as CI does): creates two users, releases 01_convolution into an exchange directory
of its own, lets each user fetch and submit as themselves (Debian's python3 with the course's
site-packages: the users can't use the venv's interpreter under /root), then collects, autogrades
(sandboxed), generates and releases feedback, lets them fetch it, and exports grades.
"""

from __future__ import annotations

import csv
import os
import pwd
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import uuid
import zipfile
from pathlib import Path

import nbformat
import pytest

from autograder.simulate import submission as _submission
from conftest import make_course, nbgrader
from roundtrip_cases import CASES

NAME = "01_convolution"
SITE_PACKAGES = sysconfig.get_paths()["purelib"]
SYSTEM_PYTHON = "/usr/bin/python3"
RUNUSER = shutil.which("runuser") or "runuser"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.name != "posix" or os.geteuid() != 0,
                       reason="creates Unix users: needs root (CI runs as root)"),
    pytest.mark.skipif(not (shutil.which("useradd") and shutil.which("runuser")), reason="needs useradd and runuser"),
    pytest.mark.skipif(not Path(SYSTEM_PYTHON).exists() or sys.version_info[:2] != (3, 11),
                       reason="students run Debian's python3 (3.11) with the course's site-packages"),
]


def _as(user: str, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    """Run `python -m nbgrader ARGS` as `user`, in `cwd`, with the course's packages but the user's own rights."""
    home = pwd.getpwnam(user).pw_dir
    env = {"HOME": home, "USER": user, "PATH": "/usr/bin:/bin", "PYTHONPATH": SITE_PACKAGES, "LANG": "C.UTF-8"}
    return subprocess.run([RUNUSER, "-u", user, "--", SYSTEM_PYTHON, "-m", "nbgrader", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def _as_python(user: str, code: str) -> subprocess.CompletedProcess:
    return subprocess.run([RUNUSER, "-u", user, "--", SYSTEM_PYTHON, "-c", code], capture_output=True, text=True,
                          env={"HOME": pwd.getpwnam(user).pw_dir, "PATH": "/usr/bin:/bin"}, timeout=60)


@pytest.fixture(scope="module")
def users():
    tag = uuid.uuid4().hex[:6]
    names = [f"cnnalice{tag}", f"cnnbob{tag}"]
    try:
        for name in names:
            subprocess.run(["useradd", "--create-home", "--shell", "/usr/sbin/nologin", name], check=True,
                           capture_output=True)
        probe = _as_python(names[0], f"import sys; sys.path.insert(0, {SITE_PACKAGES!r}); import nbgrader")
        if probe.returncode != 0:
            pytest.skip(f"a new user cannot import nbgrader from {SITE_PACKAGES} (a parent folder is not "
                        f"readable by others?): {probe.stderr.strip().splitlines()[-1:]}")
        yield names
    finally:
        for name in names:
            subprocess.run(["userdel", "--remove", "--force", name], capture_output=True)


@pytest.fixture(scope="module")
def exchange():
    root = Path(tempfile.mkdtemp(prefix="cnn-course-exchange-", dir="/tmp"))
    root.chmod(0o777)
    yield root
    shutil.rmtree(root, ignore_errors=True)


def test_exchange_round_trip_with_two_unix_users(tmp_path, users, exchange):
    alice, bob = users
    course = make_course(tmp_path / "course", [NAME])
    flags = [f"--Exchange.root={exchange}"]
    student_flags = [*flags, "--course=cnn-course"]
    assert nbgrader("generate_assignment", NAME, cwd=course).returncode == 0
    result = nbgrader("release_assignment", NAME, *flags, cwd=course)
    assert result.returncode == 0, result.stderr[-3000:]

    source = nbformat.read(course / "source" / NAME / f"{NAME}.ipynb", as_version=4)
    work = {}
    for user, student in [(alice, "solved"), (bob, "blank")]:
        home = Path(pwd.getpwnam(user).pw_dir)
        result = _as(user, "fetch_assignment", NAME, *student_flags, cwd=home)
        assert result.returncode == 0, result.stderr[-3000:]
        fetched = home / NAME / f"{NAME}.ipynb"
        assert fetched.exists() and fetched.stat().st_uid == pwd.getpwnam(user).pw_uid
        nb = _submission(nbformat.read(fetched, as_version=4), source, CASES[NAME][student][0])
        nbformat.write(nb, fetched)
        result = _as(user, "submit", NAME, *student_flags, cwd=home)
        assert result.returncode == 0, result.stderr[-3000:]
        work[user] = home

    inbound = exchange / "cnn-course" / "inbound"
    submissions = [p for p in inbound.iterdir() if p.name.startswith(f"{alice}+")]
    assert len(submissions) == 1
    # nbgrader's guarantee: the inbound folder can be written but not listed (733), and each submission's
    # folder ends in 72 random bits, so another student can neither list nor guess it
    assert (inbound.stat().st_mode & 0o777) == 0o733
    assert len(submissions[0].name.rsplit("+", 1)[1]) >= 12
    guess = inbound / "+".join(submissions[0].name.split("+")[:3]) / f"{NAME}.ipynb"  # all but the random part
    snoop = _as_python(bob, "import glob, os\n"
                            f"try:\n    print(os.listdir({str(inbound)!r}))\n"
                            "except OSError as e:\n    print('LIST', type(e).__name__)\n"
                            f"print('GLOB', glob.glob({str(inbound)!r} + '/*'))\n"
                            f"try:\n    open({str(guess)!r}).read(); print('READ ok')\n"
                            "except OSError as e:\n    print('READ', type(e).__name__)\n")
    assert "LIST PermissionError" in snoop.stdout, snoop.stdout + snoop.stderr
    assert "GLOB []" in snoop.stdout and "READ FileNotFoundError" in snoop.stdout, snoop.stdout + snoop.stderr

    result = nbgrader("collect", NAME, *flags, cwd=course)
    assert result.returncode == 0, result.stderr[-3000:]
    assert {p.name for p in (course / "submitted").iterdir()} == {alice, bob}
    result = nbgrader("autograde", NAME, cwd=course)
    assert result.returncode == 0, result.stderr[-5000:]
    assert nbgrader("generate_feedback", NAME, cwd=course).returncode == 0
    result = nbgrader("release_feedback", NAME, *flags, cwd=course)
    assert result.returncode == 0, result.stderr[-3000:]
    expected = {alice: CASES[NAME]["solved"][1], bob: CASES[NAME]["blank"][1]}
    for user, home in work.items():
        result = _as(user, "fetch_feedback", NAME, *student_flags, cwd=home)
        assert result.returncode == 0, result.stderr[-3000:]
        pages = list((home / NAME / "feedback").glob(f"*/{NAME}.html"))
        assert len(pages) == 1, list((home / NAME).rglob("*"))
        assert f"Score: {expected[user]:g}" in pages[0].read_text().replace(".0 /", " /") or \
            f"Score: {expected[user]}" in pages[0].read_text()
    result = nbgrader("export", "--to", str(tmp_path / "grades.csv"), cwd=course)
    assert result.returncode == 0, result.stderr
    with open(tmp_path / "grades.csv") as f:
        assert {r["student_id"]: float(r["score"]) for r in csv.DictReader(f)} == expected


def test_zip_collect_of_an_lms_download(tmp_path):
    course = make_course(tmp_path / "course", [NAME])
    assert nbgrader("generate_assignment", NAME, cwd=course).returncode == 0
    released = nbformat.read(course / "notebooks" / NAME / f"{NAME}.ipynb", as_version=4)
    source = nbformat.read(course / "source" / NAME / f"{NAME}.ipynb", as_version=4)
    archive = course / "downloaded" / NAME / "archive"
    archive.mkdir(parents=True)
    with zipfile.ZipFile(archive / "lms_download.zip", "w") as z:
        for student, case in [("carol", "solved"), ("dave", "wrong_convolve2d")]:
            z.writestr(f"{student}_attempt_2026-11-20-10-00-00_{NAME}.ipynb",
                       nbformat.writes(_submission(released, source, CASES[NAME][case][0])))
    regexp = rf".*/(?P<student_id>[a-z]+)_attempt_(?P<timestamp>[0-9\-]+)_(?P<file_id>{NAME}\.ipynb)"
    result = nbgrader("zip_collect", NAME, f"--FileNameCollectorPlugin.named_regexp={regexp}",
                      "--FileNameCollectorPlugin.valid_ext=['.ipynb']", cwd=course)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    for student in ("carol", "dave"):
        assert (course / "submitted" / student / NAME / f"{NAME}.ipynb").exists(), result.stdout[-3000:]
    assert nbgrader("autograde", NAME, cwd=course).returncode == 0
    assert nbgrader("export", "--to", str(tmp_path / "grades.csv"), cwd=course).returncode == 0
    with open(tmp_path / "grades.csv") as f:
        scores = {r["student_id"]: float(r["score"]) for r in csv.DictReader(f)}
    assert scores == {"carol": CASES[NAME]["solved"][1], "dave": CASES[NAME]["wrong_convolve2d"][1]}
