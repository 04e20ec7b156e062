"""What other users of the machine (neither the owner nor the group) can reach of a path. Standard library only:
``make env`` runs it with the Python it is about to choose (autograder/cli/python_choice.py)."""

from __future__ import annotations

import os
import stat
from pathlib import Path


def closed_folder(path: Path | str) -> Path | None:
    """The first folder above `path`, from ``/`` down, that others may not pass (no ``o+x``); None if none."""
    for parent in reversed(Path(os.path.abspath(path)).parents):
        if not os.stat(parent).st_mode & stat.S_IXOTH:
            return parent
    return None


def passable(path: Path | str) -> bool:
    """Whether others may pass through every folder above `path` (``o+x`` on each), so reach it by name."""
    return closed_folder(path) is None


def open_to_others(path: Path | str) -> bool:
    """Whether `path` itself lets others read it, or, for a folder, pass into it (not following a link)."""
    mode = os.lstat(path).st_mode
    if stat.S_ISLNK(mode):
        return False
    return bool(mode & stat.S_IROTH or (stat.S_ISDIR(mode) and mode & stat.S_IXOTH))
