"""Which Python 3.11 ``make env`` builds .venv with: ``python3 -m autograder.cli.python_choice`` prints its path.

A venv's ``python`` is a link to the interpreter that made it, so everyone who runs the course's .venv (the
students, on a shared machine) must be able to run that interpreter: a pyenv under ``/root`` or a private home
is out of their reach. Of the candidates (every ``python3.11`` on PATH, in order, then /usr/bin and
/usr/local/bin), the first one that is Python 3.11 and that other users can run (every folder above its real
path passable by others, the file executable by others) is chosen; when none is, the first Python 3.11, with a
warning that only its owner can use that .venv. The reasons go to stderr, one line each. Standard library only.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from autograder.reach import closed_folder

VERSION = (3, 11)
FALLBACKS = ("/usr/bin/python3.11", "/usr/local/bin/python3.11")


def candidates(path: str | None = None) -> list[str]:
    """Every python3.11 on `path` (PATH by default), in order, then the usual system places; no repeats."""
    found = []
    for folder in (path if path is not None else os.environ.get("PATH", "")).split(os.pathsep):
        if folder:
            found.append(os.path.join(folder, "python3.11"))
    found += FALLBACKS
    unique = []
    for name in found:
        if name not in unique and os.path.isfile(name) and os.access(name, os.X_OK):
            unique.append(name)
    return unique


def version_of(python: str) -> tuple[int, int] | None:
    """The (major, minor) version `python` reports, or None when it does not run."""
    try:
        out = subprocess.run(
            [python, "-c", "import sys; print(*sys.version_info[:2])"], capture_output=True, text=True, timeout=30
        ).stdout.split()
        return (int(out[0]), int(out[1]))
    except (OSError, ValueError, IndexError, subprocess.TimeoutExpired):
        return None


def out_of_reach(python: str) -> str | None:
    """Why other users cannot run `python` (its real file), or None when they can."""
    real = Path(os.path.realpath(python))
    closed = closed_folder(real)
    if closed is not None:
        return f"{closed} is not passable by other users, so they cannot run {real}"
    if not os.stat(real).st_mode & stat.S_IXOTH:
        return f"{real} is not executable by other users"
    return None


def choose(found: list[str], version=version_of, reach=out_of_reach) -> tuple[str, list[str]]:
    """(the Python to build .venv with, one note per candidate). SystemExit, saying what to install, when no
    candidate is Python 3.11."""
    notes, usable = [], []
    for python in found:
        got = version(python)
        if got != VERSION:
            what = "does not run" if got is None else f"Python {got[0]}.{got[1]}"
            notes.append(f"skipped {python}: {what}, not 3.11")
            continue
        why = reach(python)
        if why is None:
            notes.append(f"chose {python}: Python 3.11, runnable by every user")
            return python, notes
        notes.append(f"skipped {python}: {why}")
        usable.append(python)
    if usable:
        notes.append(
            f"chose {usable[0]}: no Python 3.11 here is runnable by other users, so this .venv serves its owner "
            "only (on a shared machine install Debian's python3.11, or make env PYTHON=/path/to/python3.11)"
        )
        return usable[0], notes
    raise SystemExit(
        "make env: no Python 3.11 found (looked for python3.11 on PATH, " + ", ".join(FALLBACKS) + "): "
        "install one (Debian: apt-get install python3.11 python3.11-venv), or make env PYTHON=/path/to/python3.11"
    )


def main() -> int:
    python, notes = choose(candidates())
    for note in notes:
        print(f"env: {note}", file=sys.stderr)
    print(python)
    return 0


if __name__ == "__main__":
    sys.exit(main())
