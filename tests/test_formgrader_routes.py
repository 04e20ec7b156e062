"""The exchange's guarantees hold on the Formgrader's route too (nbgrader inside the Jupyter server), not only on
the command line: release refuses an assignment the gradebook does not know, and collect leaves folders that no
student can change. Real Unix students fetch and submit; the instructor's server is driven through its REST API.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import tempfile
import urllib.request
from pathlib import Path

import pytest

from conftest import ROOT, make_course, nbgrader
from servers import jupyter_server
from unix_users import AVAILABLE, SITE_PACKAGES, WHY_NOT, python_as, run_as, unix_users

NAME = "01_convolution"
STUDENT_CONFIG = (
    'c = get_config()  # noqa: F821\nc.CourseDirectory.course_id = "cnn-course"\nc.Exchange.root = {exchange!r}\n'
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not AVAILABLE, reason=WHY_NOT),
    pytest.mark.skipif(not Path("/usr/bin/python3").exists(), reason="the students run Debian's python3"),
]


def _api(server: dict, path: str) -> dict:
    request = urllib.request.Request(
        f"{server['base']}/formgrader/api/{path}",
        data=b"{}",
        method="POST",
        headers={"Authorization": f"token {server['token']}"},
    )
    with urllib.request.urlopen(request, timeout=300) as response:
        return json.loads(response.read())


def _nbgrader_as(user: str, args: str, exchange: Path) -> None:
    """`nbgrader ARGS` as the student `user`, in their home, with README's student configuration."""
    home = Path(os.path.expanduser(f"~{user}"))
    config = home / ".jupyter" / "nbgrader_config.py"
    if not config.exists():
        config.parent.mkdir()
        config.write_text(STUDENT_CONFIG.format(exchange=str(exchange)))
        shutil.chown(config.parent, user, user)
        shutil.chown(config, user, user)
    result = run_as(user, f"/usr/bin/python3 -m nbgrader {args}", home, {"PYTHONPATH": SITE_PACKAGES})
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def _attempt(user: str, code: str) -> str:
    """What `user` gets from `code` (Python that may raise OSError): 'ok' or the error's name."""
    wrapped = "try:\n" + "".join(f"    {line}\n" for line in code.splitlines()) + "    print('ok')\n"
    wrapped += "except OSError as e:\n    print(type(e).__name__)\n"
    result = python_as(user, wrapped)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.fixture(scope="module")
def shared():
    """A folder every user can reach, holding the exchange (1777) and the course (root's)."""
    top = Path(tempfile.mkdtemp(prefix="cnn-routes-", dir="/tmp"))
    top.chmod(0o755)
    exchange = top / "exchange"
    exchange.mkdir(mode=0o1777)
    exchange.chmod(0o1777)
    course = make_course(top / "course", [NAME])
    shutil.copytree(ROOT / "notebooks" / NAME, course / "notebooks" / NAME)
    course.chmod(0o700)
    server_root = top / "server"
    server_root.mkdir()
    with unix_users("alice", "bob") as users:
        try:
            with jupyter_server(course, server_root, "server", env={"CNN_COURSE_EXCHANGE": str(exchange)}) as server:
                yield {"course": course, "exchange": exchange, "server": server, "users": users, "top": top}
        finally:
            shutil.rmtree(top, ignore_errors=True)


def _released(exchange: Path) -> Path:
    return exchange / "cnn-course" / "outbound" / NAME


def test_release_of_an_assignment_never_generated_is_refused_on_every_route(shared):
    course, exchange, server = shared["course"], shared["exchange"], shared["server"]
    assert (course / "notebooks" / NAME / f"{NAME}.ipynb").exists()  # committed: nbgrader's own check passes
    answer = _api(server, f"assignment/{NAME}/release")
    text = json.dumps(answer)
    assert answer["success"] is False, answer
    assert "Not released" in text and f"nbgrader generate_assignment {NAME} --force" in text, answer
    assert not _released(exchange).exists()

    result = nbgrader("release_assignment", NAME, cwd=course, env={"CNN_COURSE_EXCHANGE": str(exchange)})
    assert result.returncode != 0
    assert "Not released" in result.stderr and f"nbgrader generate_assignment {NAME} --force" in result.stderr
    assert not _released(exchange).exists()

    # generated (the Formgrader's Generate button), the same release goes through: the refusal is not blanket
    assert _api(server, f"assignment/{NAME}/assign")["success"] is True
    answer = _api(server, f"assignment/{NAME}/release")
    assert answer["success"] is True, answer
    assert (_released(exchange) / f"{NAME}.ipynb").is_file()


def test_formgrader_collect_leaves_folders_no_student_can_change_and_skips_only_an_oversized_one(shared):
    course, exchange, server, users = shared["course"], shared["exchange"], shared["server"], shared["users"]
    alice, bob = users["alice"], users["bob"]
    if not _released(exchange).exists():
        pytest.skip("needs the release of the test above")
    for user in (alice, bob):
        _nbgrader_as(user, f"fetch_assignment {NAME}", exchange)
        _nbgrader_as(user, f"submit {NAME}", exchange)
    # alice makes her submission writable by everyone before the instructor collects it
    inbound = exchange / "cnn-course" / "inbound"
    (mine,) = [p for p in inbound.iterdir() if p.name.startswith(f"{alice}+")]
    assert (
        _attempt(alice, f"import os\nos.chmod({str(mine)!r}, 0o777)\nos.chmod({str(mine / f'{NAME}.ipynb')!r}, 0o666)")
        == "ok"
    )

    # bob makes his submission look 200 MB large (a sparse file), over nbgrader's max_dir_size (100 MB)
    (his,) = [p for p in inbound.iterdir() if p.name.startswith(f"{bob}+")]
    assert (
        _attempt(bob, f"os = __import__('os')\nos.truncate(open({str(his / 'big.bin')!r}, 'w').name, 200 * 10**6)")
        == "ok"
    )

    answer = _api(server, f"assignment/{NAME}/collect")
    assert answer["success"] is True, answer  # the class is collected, bob's folder left out with the reason
    assert f"not collected: {his}" in answer["log"] and "max_dir_size" in answer["log"], answer
    assert not (course / "submitted" / bob / NAME).exists()
    collected = course / "submitted" / alice / NAME
    notebook = collected / f"{NAME}.ipynb"
    digest = hashlib.sha256(notebook.read_bytes()).hexdigest()
    for path in [collected.parent, collected, *collected.rglob("*")]:
        mode = stat.S_IMODE(path.lstat().st_mode)
        assert mode & 0o022 == 0, f"{path} is writable by others after the Formgrader's collect: {oct(mode)}"

    course.chmod(0o755)  # even where bob can reach the course folder, he can change nothing of alice's
    try:
        moves = f"import os\nos.rename({str(notebook)!r}, {str(collected / 'moved.ipynb')!r})"
        writes = f"open({str(notebook)!r}, 'a').write('x')"
        assert _attempt(bob, moves) == "PermissionError"
        assert _attempt(bob, writes) == "PermissionError"
        assert _attempt(alice, moves) == "PermissionError"  # nor can alice change hers after the deadline

        # the same attack on nbgrader's own copy (no SafeCollect) succeeds: this test can fail
        from nbgrader.exchange.default.collect import ExchangeCollect

        plain = shared["top"] / "plain" / alice
        plain.parent.mkdir(mode=0o755)
        from nbgrader.coursedir import CourseDirectory

        ExchangeCollect(coursedir=CourseDirectory()).do_copy(str(mine), str(plain))
        plain_moves = f"import os\nos.rename({str(plain / f'{NAME}.ipynb')!r}, {str(plain / 'moved.ipynb')!r})"
        assert _attempt(bob, plain_moves) == "ok"
    finally:
        course.chmod(0o700)
    assert hashlib.sha256(notebook.read_bytes()).hexdigest() == digest
    assert not (collected / "moved.ipynb").exists() and "timestamp.txt" in os.listdir(collected)


def test_the_formgrader_refuses_to_generate_while_others_can_read_the_course(shared):
    """autograder.hooks.privacy.RefuseExposed, first of generate_assignment's steps, on the Formgrader's route (the
    command line refuses before nbgrader starts: tests/test_privacy.py)."""
    course, server = shared["course"], shared["server"]
    course.chmod(0o755)  # a course folder as a git clone leaves it: 0755 folders, 0644 files inside
    try:
        answer = _api(server, f"assignment/{NAME}/assign")
    finally:
        course.chmod(0o700)
    text = json.dumps(answer)
    assert answer["success"] is False, answer
    assert "other users of this machine can read" in text and f"{course / 'source'} (drwxr-xr-x)" in text, answer
    assert "make instructor" in text
    assert _api(server, f"assignment/{NAME}/assign")["success"] is True  # private again, it generates
