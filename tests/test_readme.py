"""README's instructor section, run as written, by an instructor and two students who are real Unix users.

The shell blocks README marks with ``<!-- readme-test: ... -->`` are parsed from README.md and run
unchanged: the instructor's two blocks (exchange, generate_assignment, release; then collect, autograde,
feedback, export) as a Unix user without root in a fresh course folder in their home, the student's block
(fetch, then submit after solving the notebook, or not) as two others, with README's student
nbgrader_config.py in their ~/.jupyter. The exported grades must give each student exactly their score;
one student can neither list nor guess the other's submission; each fetches their feedback. (This is the
exchange round trip of nbgrader, with a non-root instructor; tests/test_exchange.py keeps zip_collect.)

The instructor's ``.venv`` is a virtual environment made with Debian's /usr/bin/python3.11 whose
site-packages are hard links to this environment's (the real .venv's interpreter may be out of other
users' reach, e.g. a pyenv under /root); the student runs nbgrader from Debian's python3 with the
course's site-packages, as in tests/test_exchange.py.
"""

from __future__ import annotations

import csv
import os
import pwd
import re
import shlex
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest

from autograder.cli.simulate import submission as _submission
from conftest import ROOT
from roundtrip_cases import CASES
from unix_users import SITE_PACKAGES, run_as, unix_users

NAME = "01_convolution"
DEBIAN_PYTHON = "/usr/bin/python3.11"
MARKER = re.compile(r"<!-- readme-test: (?P<label>[^>]+?) -->\s*```(?P<lang>\w+)\n(?P<code>.*?)```", re.S)


def readme_blocks() -> dict[str, str]:
    """The code blocks README.md marks for this test, by label."""
    text = (ROOT / "README.md").read_text()
    instructors = text[text.index("## For instructors") :]
    instructors = instructors[: instructors.index("\n## ", 1)]
    return {m["label"].strip(): m["code"] for m in MARKER.finditer(instructors)}


def commands(block: str) -> list[str]:
    return [line for line in block.splitlines() if line.split("#")[0].strip()]


def test_readme_marks_the_instructor_and_student_blocks():
    blocks = readme_blocks()
    assert set(blocks) == {
        "instructor, before the students",
        "student nbgrader_config.py",
        "student",
        "instructor, after the students",
    }
    before = blocks["instructor, before the students"]
    assert f"nbgrader generate_assignment {NAME} --force" in before  # registers the notebooks though notebooks/ exists
    assert [c.split("#")[0].split()[:2] for c in commands(blocks["student"])] == [
        ["nbgrader", "fetch_assignment"],
        ["nbgrader", "submit"],
    ]
    after = [c.split("#")[0].split()[:2] for c in commands(blocks["instructor, after the students"])]
    assert ["nbgrader", "collect"] in after and ["nbgrader", "autograde"] in after and ["nbgrader", "export"] in after


def _course_state() -> str:
    return subprocess.run(
        ["git", "status", "--porcelain", "--", "source", "notebooks", "nbgrader_config.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout


def _instructor_venv(venv: Path) -> None:
    """A venv of Debian's python3.11 holding this environment's packages (hard links) and console scripts."""
    subprocess.run([DEBIAN_PYTHON, "-m", "venv", "--without-pip", str(venv)], check=True, capture_output=True)
    site = venv / "lib" / "python3.11" / "site-packages"
    shutil.rmtree(site)
    subprocess.run(["cp", "-al", SITE_PACKAGES, str(site)], check=True)
    for data in ("share", "etc"):  # nbconvert's templates (feedback), Jupyter's configuration
        if (Path(sys.prefix) / data).is_dir():
            subprocess.run(["cp", "-al", str(Path(sys.prefix) / data), str(venv / data)], check=True)
    for script in Path(sys.executable).parent.iterdir():
        if script.name.startswith(("python", "activate", "pip")) or not script.is_file():
            continue
        with open(script, "rb") as f:
            first = f.readline()
            if not (first.startswith(b"#!") and b"python" in first):
                continue
            rest = f.read()
        target = venv / "bin" / script.name
        target.write_bytes(f"#!{venv / 'bin' / 'python'}\n".encode() + rest)
        target.chmod(0o755)


@pytest.fixture(scope="module")
def people():
    with unix_users("instructor", "solved", "blank") as names:
        yield names


def _snoop(user: str, inbound: Path, guess: Path, env: dict[str, str]) -> str:
    """What `user` learns of the inbound folder: a listing, a glob, a guessed submission."""
    code = (
        "import glob, os\n"
        f"try:\n    print(os.listdir({str(inbound)!r}))\n"
        "except OSError as e:\n    print('LIST', type(e).__name__)\n"
        f"print('GLOB', glob.glob({str(inbound)!r} + '/*'))\n"
        f"try:\n    open({str(guess)!r}).read(); print('READ ok')\n"
        "except OSError as e:\n    print('READ', type(e).__name__)\n"
    )
    return run_as(user, f"/usr/bin/python3 -c {shlex.quote(code)}", Path("/"), env).stdout


@pytest.mark.slow
@pytest.mark.skipif(
    os.name != "posix" or os.geteuid() != 0,
    reason="creates an instructor and two students with useradd: needs root (CI runs as root)",
)
@pytest.mark.skipif(not (shutil.which("useradd") and shutil.which("runuser")), reason="needs useradd and runuser")
@pytest.mark.skipif(
    not Path(DEBIAN_PYTHON).exists() or sys.version_info[:2] != (3, 11),
    reason="the users run Debian's python3.11 with the course's packages",
)
@pytest.mark.skipif(shutil.which("bwrap") is None, reason="README's autograde sandboxes with bubblewrap")
def test_readme_instructor_section_as_written_with_real_unix_users(people):
    blocks = readme_blocks()
    teach = people["instructor"]
    teach_pw = pwd.getpwnam(teach)
    before = _course_state()
    shared = Path(tempfile.mkdtemp(prefix="cnn-readme-", dir="/tmp"))
    try:
        shared.chmod(0o755)
        # the exchange: a folder of the instructor's (no root), as README says; its 1777 folder is README's mkdir
        (shared / "teach").mkdir()
        os.chown(shared / "teach", teach_pw.pw_uid, teach_pw.pw_gid)
        exchange = shared / "teach" / "exchange"
        env = {"CNN_COURSE_EXCHANGE": str(exchange)}

        # a fresh course folder in the instructor's home, theirs alone (source/ holds the solutions)
        course = Path(teach_pw.pw_dir) / "cnn-course"
        course.mkdir(mode=0o700)
        shutil.copy(ROOT / "nbgrader_config.py", course)
        shutil.copytree(ROOT / "source" / NAME, course / "source" / NAME)
        shutil.copytree(ROOT / "notebooks" / NAME, course / "notebooks" / NAME)  # committed: generate must --force
        subprocess.run(["chown", "-R", f"{teach}:", str(course)], check=True)
        _instructor_venv(course / ".venv")  # root's, read-only for the instructor (hard links stay root's)

        result = run_as(teach, blocks["instructor, before the students"], course, env)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        assert stat.S_IMODE(exchange.stat().st_mode) == 0o1777 and exchange.stat().st_uid == teach_pw.pw_uid

        # each student: README's nbgrader_config.py, then fetch, work (or not), submit
        source = nbformat.read(ROOT / "source" / NAME / f"{NAME}.ipynb", as_version=4)
        fetch, *submit = commands(blocks["student"])
        homes, student_envs = {}, {}
        for case in ("solved", "blank"):
            user = people[case]
            home = Path(pwd.getpwnam(user).pw_dir)
            (home / ".jupyter").mkdir()
            (home / ".jupyter" / "nbgrader_config.py").write_text(blocks["student nbgrader_config.py"])
            bin_dir = home / "bin"
            bin_dir.mkdir()
            (bin_dir / "nbgrader").write_text('#!/bin/sh\nexec /usr/bin/python3 -m nbgrader "$@"\n')
            (bin_dir / "nbgrader").chmod(0o755)
            subprocess.run(["chown", "-R", f"{user}:", str(home / ".jupyter"), str(bin_dir)], check=True)
            student_env = {**env, "PATH": f"{bin_dir}:/usr/bin:/bin", "PYTHONPATH": SITE_PACKAGES}
            result = run_as(user, fetch, home, student_env)
            assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
            fetched = home / NAME / f"{NAME}.ipynb"
            assert fetched.stat().st_uid == pwd.getpwnam(user).pw_uid
            nb = _submission(nbformat.read(fetched, as_version=4), source, CASES[NAME][case][0])
            nbformat.write(nb, fetched)
            result = run_as(user, "\n".join(submit), home, student_env)
            assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
            homes[case], student_envs[case] = home, student_env

        # nbgrader's guarantee: the inbound folder can be written but not listed (733), and each submission's
        # folder ends in 72 random bits, so another student can neither list nor guess it
        inbound = exchange / "cnn-course" / "inbound"
        alice, bob = people["solved"], people["blank"]
        submissions = [p for p in inbound.iterdir() if p.name.startswith(f"{alice}+")]
        assert len(submissions) == 1 and (inbound.stat().st_mode & 0o777) == 0o733
        assert len(submissions[0].name.rsplit("+", 1)[1]) >= 12
        guess = inbound / "+".join(submissions[0].name.split("+")[:3]) / f"{NAME}.ipynb"  # all but the random part
        snoop = _snoop(bob, inbound, guess, student_envs["blank"])
        assert "LIST PermissionError" in snoop and "GLOB []" in snoop and "READ FileNotFoundError" in snoop, snoop

        result = run_as(teach, blocks["instructor, after the students"], course, env)
        log = result.stdout + result.stderr
        assert result.returncode == 0, log[-5000:]
        assert "has changed!" not in log and "Ctrl-C will not work" not in log, log[-5000:]

        expected = {people[case]: float(CASES[NAME][case][1]) for case in ("solved", "blank")}
        for user in expected:
            collected = course / "submitted" / user / NAME
            assert collected.stat().st_uid == teach_pw.pw_uid
            assert stat.S_IMODE(collected.stat().st_mode) == 0o755  # the student can't change it before grading
            assert stat.S_IMODE((collected / f"{NAME}.ipynb").stat().st_mode) == 0o644
        with open(course / "grades.csv") as f:
            rows = list(csv.DictReader(f))
        assert {r["student_id"]: float(r["score"]) for r in rows} == expected
        full = CASES[NAME]["solved"][1]
        assert {(r["assignment"], float(r["max_score"])) for r in rows} == {(NAME, full)} and len(rows) == 2

        for case, home in homes.items():  # README's comment: students fetch their feedback
            result = run_as(people[case], f"nbgrader fetch_feedback {NAME}", home, student_envs[case])
            assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
            pages = list((home / NAME / "feedback").glob(f"*/{NAME}.html"))
            assert len(pages) == 1, list((home / NAME).rglob("*"))
            score = expected[people[case]]
            assert re.search(rf"Score: {score:g}(\.0)? / {full:g}", pages[0].read_text()), pages[0].read_text()[:2000]
        assert _course_state() == before  # the repository's course files are untouched
    finally:
        shutil.rmtree(shared, ignore_errors=True)
