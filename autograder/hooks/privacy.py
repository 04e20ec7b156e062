"""The instructor's course folder is private: no other user of the machine reads the solutions, the hidden tests
(in ``source/`` and inside ``gradebook.db``), the class's work or its grades.

* ``exposed(course)``: every path of the course folder that others (neither its owner nor its group) can reach,
  with its mode. A path is reachable when every folder above it lets others through (``o+x``) and it lets them
  read (``o+r``) or, for a folder, pass (``o+x``: a known name inside, such as ``source/01_convolution/``,
  can then be opened).
* ``refuse_if_exposed(course)``: raises ``CourseExposed`` naming each such path and the fix. nbgrader_config.py
  calls it before ``nbgrader autograde``, ``generate_assignment``, ``generate_feedback``, ``export`` and
  ``collect`` start on the command line, and ``RefuseExposed`` (a preprocessor, first in each converter's list)
  does on every route, the Formgrader's included (it runs nbgrader inside the Jupyter server).
* ``make_private(course)``: what ``make instructor`` (``python -m autograder private``) does: the course folder
  becomes 0700 (0750 when its group may read it: a group of instructors only) and nothing in it is left
  readable, writable or passable by others.
* ``PrivateCsvExport``: ``nbgrader export``'s CSV, checked first and written 0600 wherever ``--to`` puts it.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

from nbconvert.preprocessors import Preprocessor
from nbgrader.plugins import CsvExportPlugin
from traitlets import Bool

from autograder.reach import open_to_others, passable

#: What nbgrader reads and writes in the course folder that no student may read.
PRIVATE = ("source", "gradebook.db", "autograded", "submitted", "feedback", "rejected", "grades.csv")
#: The nbgrader commands that read or write them on the command line (checked before they start).
CHECKED_COMMANDS = ("autograde", "generate_assignment", "generate_feedback", "export", "collect", "zip_collect")
FIX = "run `make instructor` in the course folder (or `python -m autograder private`)"


class CourseExposed(RuntimeError):
    """Others can read the course's private files: nothing is done until the modes are fixed."""


def exposed(course: Path) -> list[str]:
    """The paths (with their modes) of the course folder and its private files that others can reach."""
    course = Path(course).absolute()
    found = []
    if not passable(course):
        return found
    candidates = [course] if open_to_others(course) else []
    if os.stat(course).st_mode & stat.S_IXOTH:  # others can pass into the course folder: its private names matter
        for name in PRIVATE:
            top = course / name
            if not top.exists() or not open_to_others(top):
                continue
            candidates.append(top)
            if top.is_dir() and os.stat(top).st_mode & stat.S_IXOTH:
                candidates += [p for p in sorted(top.rglob("*")) if open_to_others(p) and passable(p)]
    for path in candidates:
        found.append(f"{path} ({stat.filemode(os.lstat(path).st_mode)})")
    return found


#: Set by ``make release`` (autograder/cli/release.py) alone: it regenerates the public notebooks/ of the repository
#: with a throwaway gradebook in a private temporary folder, so a clone's readable source/ is no reason to refuse it.
PUBLIC_RELEASE = "CNN_COURSE_PUBLIC_RELEASE"


def refuse_if_exposed(course: Path, generating: bool = False) -> None:
    """Raise CourseExposed when others can read the course folder's private files (`generating`: for
    generate_assignment, the one step ``make release`` may run in a readable clone)."""
    if generating and os.environ.get(PUBLIC_RELEASE) == "1":
        return
    paths = exposed(course)
    if paths:
        shown = "; ".join(paths[:5]) + (f"; and {len(paths) - 5} more" if len(paths) > 5 else "")
        raise CourseExposed(
            f"other users of this machine can read this course's solutions, hidden tests or grades: {shown}. "
            f"Nothing was generated, graded or exported. To make the course folder private, {FIX}."
        )


def make_private(course: Path, group: bool = False) -> list[str]:
    """Take every permission of others away in the course folder's private files and the folder itself (0700, or
    0750 with `group`); returns what was changed. ``.venv`` and the rest keep their modes inside."""
    course = Path(course).absolute()
    changed = []

    def restrict(path: Path, mode: int) -> None:
        if os.lstat(path).st_mode & 0o7777 != mode:
            os.chmod(path, mode)
            changed.append(f"{path}: {mode:o}")

    for name in PRIVATE:
        top = course / name
        if not top.exists() or top.is_symlink():
            continue
        for path in [top, *top.rglob("*")]:
            if not path.is_symlink():
                old = stat.S_IMODE(os.lstat(path).st_mode)
                restrict(path, old & (0o770 if group else 0o700))
    restrict(course, 0o750 if group else 0o700)
    return changed


def _course_of(configurable) -> Path:
    """The course folder of the nbgrader converter or app above `configurable` (else the current folder)."""
    from autograder.hooks.submissions import coursedir_of

    coursedir = coursedir_of(configurable)
    return Path(coursedir.root if coursedir is not None and coursedir.root else os.getcwd())


class RefuseExposed(Preprocessor):
    """First step of generate_assignment, autograde and generate_feedback on every route: refuse to run while
    others can read the course's private files (``refuse_if_exposed``)."""

    enabled = Bool(True, help="nbconvert skips preprocessors that are not enabled").tag(config=True)

    def preprocess(self, nb, resources):
        from nbgrader.converters import GenerateAssignment

        generating = isinstance(getattr(self, "parent", None) and self.parent.parent, GenerateAssignment)
        refuse_if_exposed(_course_of(self), generating=generating)
        return nb, resources


class PrivateCsvExport(CsvExportPlugin):
    """nbgrader's CSV export, refused while the course is exposed; the file is written 0600."""

    def export(self, gradebook) -> None:
        refuse_if_exposed(_course_of(self))
        dest = self.to or "grades.csv"
        old = os.umask(0o077)
        try:
            if os.path.exists(dest):
                os.chmod(dest, 0o600)
            super().export(gradebook)
        finally:
            os.umask(old)
        os.chmod(dest, 0o600)


def main(argv: list[str]) -> int:
    """``python -m autograder private [--group]``: make the course folder (the current one) private."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m autograder private", description=main.__doc__)
    parser.add_argument("--group", action="store_true", help="let the folder's group (instructors only) read it")
    args = parser.parse_args(argv)
    course = Path.cwd()
    if not (course / "nbgrader_config.py").exists():
        print("run this from the course root, where nbgrader_config.py is", file=sys.stderr)
        return 2
    changed = make_private(course, args.group)
    print(f"private: {course} is {'0750' if args.group else '0700'}; {len(changed)} mode(s) changed")
    left = exposed(course)
    if left:
        print(f"private: still readable by others: {'; '.join(left)}", file=sys.stderr)
        return 1
    return 0
