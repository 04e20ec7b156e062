"""Real Unix users for the tests that act as students or as an instructor without root (tests run as root).

``unix_users`` creates them (``useradd``, with a home) and always deletes them; ``run_as`` runs a shell script
as one of them (``runuser``) with a minimal environment; ``python_as`` runs Python code as one of them with
Debian's python3 and the course's site-packages, for what a student's own program could do."""

from __future__ import annotations

import contextlib
import os
import pwd
import shlex
import shutil
import subprocess
import sysconfig
import uuid
from pathlib import Path

RUNUSER = shutil.which("runuser") or "runuser"
SITE_PACKAGES = sysconfig.get_paths()["purelib"]
AVAILABLE = os.name == "posix" and os.geteuid() == 0 and bool(shutil.which("useradd") and shutil.which("runuser"))
WHY_NOT = "creates Unix users with useradd and runs commands as them with runuser: needs root (CI runs as root)"


@contextlib.contextmanager
def unix_users(*roles: str, prefix: str = "cnn"):
    """{role: user name} for new users (names unique to this run), deleted with their homes afterwards."""
    tag = uuid.uuid4().hex[:6]
    names = {role: f"{prefix}{role[:6]}{tag}" for role in roles}
    try:
        for name in names.values():
            subprocess.run(["useradd", "--create-home", "--shell", "/bin/sh", name], check=True, capture_output=True)
        yield names
    finally:
        for name in names.values():
            subprocess.run(["userdel", "--remove", "--force", name], capture_output=True)


def run_as(user: str, script: str, cwd: Path, env: dict[str, str], timeout: float = 900) -> subprocess.CompletedProcess:
    """`script` run by bash (-e, pipefail) as `user` in `cwd`, with HOME, USER, a plain PATH and `env`."""
    home = pwd.getpwnam(user).pw_dir
    full = {"HOME": home, "USER": user, "LOGNAME": user, "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", **env}
    return subprocess.run(
        [RUNUSER, "-u", user, "--", "/bin/bash", "-eo", "pipefail", "-c", script],
        cwd=cwd,
        env=full,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def python_as(user: str, code: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Python `code` run as `user` by Debian's python3, with the course's site-packages on its path."""
    return run_as(
        user, f"/usr/bin/python3 -c {shlex.quote(code)}", Path("/"), {"PYTHONPATH": SITE_PACKAGES, **(env or {})}
    )
