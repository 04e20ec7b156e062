"""What the course's JupyterHub needs to know, shared by jupyterhub_config.py, `make hub`, the tests and
the benchmark: where things are, who is an instructor or a student, and each user's environment.

Every setting has a default for a real deployment and an environment variable to override it (the tests
start hubs on free ports, with their own exchange and Unix groups):

  CNN_HUB_PORT            public port of the proxy on 127.0.0.1          (8000)
  CNN_HUB_API_PORT        the hub's own port (the proxy's API is on the next one)   (8081)
  CNN_HUB_STATE           the hub's database, cookie secret and logs     (/var/lib/cnn-course-hub)
  CNN_HUB_EXCHANGE        nbgrader's exchange, shared by everyone        (/srv/nbgrader/exchange)
  CNN_HUB_STUDENTS        Unix group of the students                     (cnn-students)
  CNN_HUB_INSTRUCTORS     Unix group of the instructors                  (cnn-instructors)
  CNN_HUB_UPDATES         the course updates' git repository, for nbgitpuller (/srv/cnn-course/updates.git)
"""

from __future__ import annotations

import grp
import os
import pwd
import stat
from pathlib import Path

from autograder.reach import closed_folder, passable

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent  # the course repository
VENV = Path(os.environ.get("CNN_HUB_VENV", ROOT / ".venv"))
PROXY = HERE / "node_modules" / ".bin" / "configurable-http-proxy"
JUPYTER_CONFIG = HERE / "jupyter"  # the users' Jupyter config, one folder per role
COURSE_ID = "cnn-course"
KERNEL = "cnn-course"


def setting(name: str, default: str) -> str:
    return os.environ.get(name) or default


PORT = int(setting("CNN_HUB_PORT", "8000"))
API_PORT = int(setting("CNN_HUB_API_PORT", "8081"))
STATE = Path(setting("CNN_HUB_STATE", "/var/lib/cnn-course-hub"))
EXCHANGE = Path(setting("CNN_HUB_EXCHANGE", "/srv/nbgrader/exchange"))
STUDENTS = setting("CNN_HUB_STUDENTS", "cnn-students")
INSTRUCTORS = setting("CNN_HUB_INSTRUCTORS", "cnn-instructors")
UPDATES = Path(setting("CNN_HUB_UPDATES", "/srv/cnn-course/updates.git"))


def members(group: str) -> set[str]:
    """Users of a Unix group: listed members and those whose primary group it is."""
    try:
        g = grp.getgrnam(group)
    except KeyError:
        return set()
    return set(g.gr_mem) | {p.pw_name for p in pwd.getpwall() if p.pw_gid == g.gr_gid}


def role(user: str) -> str:
    return "instructor" if user in members(INSTRUCTORS) else "student"


def course_root(user: str) -> Path:
    """An instructor's own course folder (nbgrader_config.py and source/), private to them."""
    return Path(pwd.getpwnam(user).pw_dir) / "cnn-course"


def user_environment(user: str) -> dict[str, str]:
    """The environment of `user`'s server and of nbgrader commands run as them (see deploy/jupyterhub)."""
    env = {
        "PATH": os.pathsep.join([str(USERS_BIN), "/usr/local/bin", "/usr/bin", "/bin"]),
        # the `cnn-course` kernel as users start it (`python` is the Python of their server: USERS_BIN's)
        "JUPYTER_PATH": str(JUPYTER_CONFIG / "share"),
        # nbgrader_config.py (exchange, course), jupyter_server_config.py and labconfig/ of the user's role
        "JUPYTER_CONFIG_PATH": str(JUPYTER_CONFIG / role(user)),
        "CNN_COURSE_EXCHANGE": str(EXCHANGE),
        "CNN_COURSE_CONFIG": str(ROOT / "nbgrader_config.py"),
        "CNN_COURSE_LAB_SETTINGS": str(JUPYTER_CONFIG / "lab-settings"),
        "LANG": "C.UTF-8",
        # /etc/gitconfig plus: trust the updates' repository, which belongs to root (nbgitpuller clones it)
        "GIT_CONFIG_SYSTEM": str(gitconfig()),
    }
    env.update(python_environment())
    if role(user) == "instructor":
        env["CNN_COURSE_ROOT"] = str(course_root(user))
    for name in ("COURSE_DATA", "COURSE_QUICK"):
        if os.environ.get(name):
            env[name] = os.environ[name]
    return env


def gitconfig() -> Path:
    """The users' system git config: /etc/gitconfig, and UPDATES as a safe.directory. Git refuses a
    repository of another owner, even to clone it, unless trusted in config it reads before the
    repository's own (an environment variable like GIT_CONFIG_COUNT does not reach a local clone)."""
    import hashlib

    path = VENV / "etc" / f"cnn-course-gitconfig-{hashlib.sha1(str(UPDATES).encode()).hexdigest()[:8]}"
    text = f"[include]\n\tpath = /etc/gitconfig\n[safe]\n\tdirectory = {UPDATES}\n"
    if os.geteuid() == 0 and (not path.exists() or path.read_text() != text):
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
        path.chmod(0o644)
    return path


def ensure_exchange(path: Path = EXCHANGE) -> Path:
    """The shared exchange: owned by root, everyone may create their course's folder in it, nobody may
    remove another's (1777, like /tmp). nbgrader itself makes <course>/inbound 733 (write, no listing),
    outbound 755 and feedback 711 (fetchable only by a name derived from one's own submission)."""
    path.mkdir(parents=True, exist_ok=True)
    for parent in [path, *path.parents]:
        if parent == Path("/"):
            break
        mode = parent.stat().st_mode
        if not mode & stat.S_IXOTH:
            raise SystemExit(
                f"{parent} is not searchable by others: the exchange {path} must be reachable by every user"
            )
    path.chmod(0o1777)
    return path


def make_private(home: Path) -> None:
    """A user's home readable by nobody else (Debian's useradd makes it 0755)."""
    if home.is_dir() and home.stat().st_mode & 0o077:
        home.chmod(home.stat().st_mode & 0o700)


#: What the users' servers need from the course repository (ROOT): the .venv and the packages it runs, the users'
#: Jupyter config (deploy/), the released notebooks, and the course's public files.
SHARED = frozenset(
    {
        ".venv",
        "course_utils",
        "autograder",
        "deploy",
        "notebooks",
        "nbgrader_config.py",
        "pyproject.toml",
        "README.md",
        "ARCHITECTURE.md",
        "LICENSE",
        "Makefile",
        "environment.yml",
        "constraints.txt",
    }
)


def close_repository(root: Path = ROOT) -> list[Path]:
    """Close every top-level entry of the course repository that is not SHARED to all but its owner (root).

    A clone is world-readable: ``source/`` (every solution and hidden test), ``.git`` (the same, in its history),
    ``tests/`` and anything nbgrader wrote there would be open to every student on the machine. Only what is
    known to be needed stays open, so a new folder is closed by default. Run as root when the hub starts;
    instructors get their own copy of ``source/`` (setup_course). Returns what it closed."""
    closed = []
    for entry in sorted(root.iterdir()):
        if entry.name in SHARED or entry.is_symlink():
            continue
        mode = stat.S_IMODE(entry.stat().st_mode)
        if mode & 0o077:
            entry.chmod(mode & 0o700)
            closed.append(entry)
    return closed


def check_reachable(path: Path = VENV) -> None:
    """Every user runs the course's .venv: it and each folder above it must be searchable by others."""
    closed = closed_folder(path / "bin")  # `path` itself included
    if closed is not None:
        raise SystemExit(
            f"{closed} is not searchable by other users, so students cannot run {VENV}: "
            f"clone the course somewhere readable (e.g. /srv/cnn-course) or `chmod o+x {closed}`"
        )


USERS_BIN = VENV / "users-bin"  # what users run: the course's .venv through an interpreter they can reach
USERS_PYTHON = VENV / "python"  # a copy of .venv's base Python, made when the original is out of their reach


def _reachable(path: Path) -> bool:
    """Whether a user other than its owner can reach `path` (every folder above it searchable by others)."""
    return passable(path) and bool(path.stat().st_mode & stat.S_IROTH)


def _copied_python() -> bool:
    return os.path.realpath(USERS_BIN / "python").startswith(str(USERS_PYTHON) + os.sep)


def python_environment() -> dict[str, str]:
    """What USERS_BIN's python needs in its environment: where its standard library and libpython are."""
    if not _copied_python():
        return {}
    return {"PYTHONHOME": str(USERS_PYTHON), "LD_LIBRARY_PATH": str(USERS_PYTHON / "lib")}


def prepare_users_bin() -> Path:
    """USERS_BIN: `python` and every console script of .venv/bin, runnable by every user. Run as root.

    A venv's interpreter is a symlink to the Python that made it. When that Python lies where other users
    can't go (a pyenv under /root), a copy of it (its binary, libpython and standard library, ~150 MB) is
    made in .venv/python, and USERS_BIN/python links to it: it finds .venv's pyvenv.cfg one folder up
    and so runs with .venv's packages (sys.prefix is .venv), with PYTHONHOME pointing at the copy
    (python_environment()). The same version as .venv's, byte for byte: no second environment to keep
    in step, and the grading sandbox (which shows .venv read-only) sees it too. Each console script of
    .venv/bin becomes a small wrapper around that `python`.
    """
    import sys

    real = Path(os.path.realpath(VENV / "bin" / "python"))
    USERS_BIN.mkdir(exist_ok=True)
    if _reachable(real):
        target = real
    else:
        base = real.parent.parent  # the Python installation .venv was made with
        version = f"python{sys.version_info.major}.{sys.version_info.minor}"
        stamp = USERS_PYTHON / "COPIED_FROM"
        if not stamp.exists() or stamp.read_text() != f"{real} {real.stat().st_mtime}\n":
            import shutil

            shutil.rmtree(USERS_PYTHON, ignore_errors=True)
            (USERS_PYTHON / "bin").mkdir(parents=True)
            (USERS_PYTHON / "lib").mkdir()
            shutil.copy2(real, USERS_PYTHON / "bin" / version)
            for lib in (base / "lib").glob("libpython*.so*"):
                shutil.copy2(lib, USERS_PYTHON / "lib" / lib.name)
            shutil.copytree(
                base / "lib" / version,
                USERS_PYTHON / "lib" / version,
                symlinks=True,
                ignore=shutil.ignore_patterns("site-packages", "test", "idlelib", "tkinter", "turtledemo"),
            )
            (USERS_PYTHON / "lib" / version / "site-packages").mkdir()
            stamp.write_text(f"{real} {real.stat().st_mtime}\n")
        target = USERS_PYTHON / "bin" / version
    python = USERS_BIN / "python"
    for name in ("python", "python3"):
        link = USERS_BIN / name
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(target)
    exports = "".join(f'export {k}="{v}"\n' for k, v in python_environment().items())
    for script in (VENV / "bin").iterdir():
        if script.is_file() and not script.is_symlink() and os.access(script, os.X_OK):
            with open(script, "rb") as f:
                shebang = f.readline()
            if not (shebang.startswith(b"#!") and b"python" in shebang):
                continue
            wrapper = USERS_BIN / script.name
            wrapper.write_text(f'#!/bin/sh\n{exports}exec "{python}" "{script}" "$@"\n')
            wrapper.chmod(0o755)
    return USERS_BIN
