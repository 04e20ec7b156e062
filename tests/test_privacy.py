"""The instructor's course folder is private by construction (autograder/hooks/privacy.py): a student cannot read the
solutions, the gradebook or the grades of a course set up as README says, and nbgrader refuses to start while
others can. (The Formgrader's route: tests/test_formgrader_routes.py.)"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from autograder.hooks import privacy
from conftest import make_course, nbgrader
from unix_users import AVAILABLE, WHY_NOT, python_as, unix_users

NAME = "01_convolution"


@pytest.fixture
def shared():
    """A folder every user can pass through and list, like /home or /srv (pytest's own tmp_path is 0700)."""
    top = Path(tempfile.mkdtemp(prefix="cnn-private-", dir="/tmp"))
    top.chmod(0o755)
    try:
        yield top
    finally:
        shutil.rmtree(top, ignore_errors=True)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_exposed_names_each_path_others_can_read_and_make_private_closes_them(shared):
    course = shared / "course"
    (course / "source" / NAME).mkdir(parents=True, mode=0o755)
    (course / "source" / NAME).chmod(0o755)
    (course / "source" / NAME / f"{NAME}.ipynb").write_text("{}")
    (course / "gradebook.db").write_text("")
    (course / "notebooks").mkdir()
    for path in (course, course / "source", course / "source" / NAME):
        path.chmod(0o755)
    for path in (course / "gradebook.db", course / "source" / NAME / f"{NAME}.ipynb"):
        path.chmod(0o644)
    found = privacy.exposed(course)
    for path in (course, course / "source", course / "gradebook.db", course / "source" / NAME / f"{NAME}.ipynb"):
        assert any(entry.startswith(f"{path} (") for entry in found), (path, found)
    assert not any("notebooks" in entry for entry in found), found  # released copies are public anyway
    with pytest.raises(privacy.CourseExposed, match=r"make instructor") as refused:
        privacy.refuse_if_exposed(course)
    assert str(course / "gradebook.db") in str(refused.value)
    # make release's mark exempts generate_assignment alone (public notebooks/, a private throwaway gradebook)
    os.environ[privacy.PUBLIC_RELEASE] = "1"
    try:
        privacy.refuse_if_exposed(course, generating=True)
        with pytest.raises(privacy.CourseExposed):
            privacy.refuse_if_exposed(course)
    finally:
        del os.environ[privacy.PUBLIC_RELEASE]
    with pytest.raises(privacy.CourseExposed):
        privacy.refuse_if_exposed(course, generating=True)

    # a folder others may pass (o+x) but not list still exposes a file whose name is known
    course.chmod(0o711)
    assert any(entry.startswith(f"{course / 'gradebook.db'} (") for entry in privacy.exposed(course))

    privacy.make_private(course)
    assert _mode(course) == 0o700 and _mode(course / "gradebook.db") == 0o600 and _mode(course / "source") == 0o700
    assert privacy.exposed(course) == []
    course.chmod(0o755)  # the folder reopened, but everything private inside stays closed
    assert privacy.exposed(course) == [f"{course} (drwxr-xr-x)"]
    privacy.make_private(course, group=True)
    assert _mode(course) == 0o750 and privacy.exposed(course) == []


def test_a_course_below_a_private_folder_is_private_whatever_its_own_modes(tmp_path):
    assert _mode(tmp_path.parent.parent) & 0o001 == 0  # pytest's base folder is 0700
    course = tmp_path / "course"
    (course / "source").mkdir(parents=True)
    course.chmod(0o755)
    assert privacy.exposed(course) == []


@pytest.mark.slow
@pytest.mark.skipif(not AVAILABLE, reason=WHY_NOT)
def test_a_student_cannot_read_a_private_course_and_nbgrader_refuses_an_exposed_one(shared):
    course = make_course(shared / "course", [NAME])  # modes as a git clone leaves them: 0755 folders, 0644 files
    course.chmod(0o755)
    assert _mode(course / "source" / NAME / f"{NAME}.ipynb") & 0o004

    for command in (["generate_assignment", NAME, "--force"], ["autograde", NAME], ["export"]):
        result = nbgrader(*command, cwd=course)
        assert result.returncode == 2, (command, result.stderr[-2000:])
        assert f"[cnn-course] nbgrader {command[0]}: other users of this machine can read" in result.stderr
        assert f"{course / 'source'} (drwxr-xr-x)" in result.stderr and "make instructor" in result.stderr
    assert not (course / "gradebook.db").exists() and not (course / "release").exists()

    result = subprocess.run([sys.executable, "-m", "autograder", "private"], cwd=course, capture_output=True, text=True)
    assert result.returncode == 0 and "is 0700" in result.stdout, result.stdout + result.stderr
    assert nbgrader("generate_assignment", NAME, "--force", cwd=course).returncode == 0
    grades = shared / "grades.csv"  # exported outside the course folder, where others can list
    result = nbgrader("export", "--to", str(grades), cwd=course)
    assert result.returncode == 0, result.stderr[-2000:]
    assert _mode(grades) == 0o600 and _mode(course) == 0o700

    with unix_users("student") as users:
        reads = {
            "list course": f"os.listdir({str(course)!r})",
            "read source": f"open({str(course / 'source' / NAME / f'{NAME}.ipynb')!r}).read()",
            "read gradebook": f"open({str(course / 'gradebook.db')!r}, 'rb').read()",
            "read grades": f"open({str(grades)!r}).read()",
        }
        code = "import os\n" + "".join(
            f"try:\n    {expr}\n    print({what!r}, 'ok')\n"
            f"except OSError as e:\n    print({what!r}, type(e).__name__)\n"
            for what, expr in reads.items()
        )
        result = python_as(users["student"], code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [f"{what} PermissionError" for what in reads], result.stdout
    assert os.access(course / "gradebook.db", os.R_OK)  # the instructor still can


def test_the_hub_closes_every_part_of_the_repository_its_users_do_not_run(shared):
    """course_hub.close_repository: an allow-list, so a folder nobody thought of (here `extra/`) is closed too."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "deploy" / "jupyterhub"))
    try:
        import course_hub
    finally:
        sys.path.pop(0)
    repo = shared / "repo"
    for folder in ("source/01_convolution", ".git", "tests", "extra", ".venv/bin", "course_utils", "notebooks"):
        (repo / folder).mkdir(parents=True)
        (repo / folder).chmod(0o755)
    for name in ("gradebook.db", "nbgrader_config.py"):
        (repo / name).write_text("")
        (repo / name).chmod(0o644)
    closed = course_hub.close_repository(repo)
    assert sorted(p.name for p in closed) == [".git", "extra", "gradebook.db", "source", "tests"]
    for name in (".git", "extra", "gradebook.db", "source", "tests"):
        assert _mode(repo / name) & 0o077 == 0, name
    for name in (".venv", "course_utils", "notebooks"):
        assert _mode(repo / name) == 0o755, name
    assert _mode(repo / "nbgrader_config.py") == 0o644
    assert course_hub.close_repository(repo) == []  # nothing left to close
