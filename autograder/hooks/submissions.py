"""nbgrader hooks of the course (set in nbgrader_config.py): no submission can make nbgrader follow a link.

* ``reject_links``: autograde's pre-convert hook. A submission folder holding a symbolic link (to the
  gradebook, to ``source/``, to another student's work ...) is never opened: nbgrader would read, copy
  and write through the link. The folder is moved aside to ``rejected/<student>/<assignment>-<time>/``
  for the instructor, and replaced by the released (blank) notebook, so the student scores zero and
  the reason is printed.
* ``SafeCollect``: ``nbgrader collect`` copies links as links (nbgrader's own copy follows them), so the
  check above sees them; and the collected folder is made read-only for everyone but its owner.
* ``OverwriteCells``: nbgrader's, except that a test cell released without its hidden tests is not
  reported as changed (see the class).
"""

from __future__ import annotations

import os
import shutil
import stat
import sys
import time
from pathlib import Path

from nbformat.notebooknode import NotebookNode
from nbgrader import utils
from nbgrader.api import MissingEntry
from nbgrader.exchange.default.collect import ExchangeCollect
from nbgrader.preprocessors import ClearHiddenTests
from nbgrader.preprocessors import OverwriteCells as _OverwriteCells


def links_in(folder: Path) -> list[str]:
    """The symbolic links under `folder` (relative paths), without following any."""
    found = []
    for root, dirs, files in os.walk(folder, followlinks=False):
        for name in dirs + files:
            path = Path(root) / name
            if path.is_symlink():
                found.append(str(path.relative_to(folder)))
    return sorted(found)


def reject_links(assignment: str = "", student: str = "", notebooks: list | None = None, **_: object) -> None:
    """Zero, with the reason printed, for a submission folder that holds a symbolic link."""
    if not notebooks:
        return
    folder = Path(notebooks[0]).parent
    if folder.is_symlink():
        folder_links = ["."]
    else:
        folder_links = links_in(folder)
    if not folder_links:
        return
    assignment_id, student_id = folder.name, folder.parent.name
    root = folder.parent.parent.parent
    aside = root / "rejected" / student_id / f"{assignment_id}-{time.strftime('%Y%m%dT%H%M%S')}"
    aside.parent.mkdir(parents=True, exist_ok=True)
    os.rename(folder, aside)  # the links themselves, untouched, for the instructor to look at
    folder.mkdir()
    released = root / "notebooks" / assignment_id
    for notebook in notebooks:
        blank = released / Path(notebook).name
        if blank.is_file():
            shutil.copyfile(blank, folder / Path(notebook).name)
    stamp = aside / "timestamp.txt"
    if stamp.is_file() and not stamp.is_symlink():
        shutil.copyfile(stamp, folder / "timestamp.txt")
    print(
        f"[cnn-course] {student_id}: the submission of {assignment_id} holds symbolic links "
        f"({', '.join(folder_links[:5])}): graded as a blank notebook (zero). The submission is kept in {aside}",
        file=sys.stderr,
        flush=True,
    )


class SafeCollect(ExchangeCollect):
    """nbgrader's collect, but links are copied as links and the copy is read-only for others."""

    def do_copy(self, src, dest, log=None):
        shutil.copytree(src, dest, symlinks=True, ignore=shutil.ignore_patterns(*self.coursedir.ignore))
        for root, dirs, files in os.walk(dest, followlinks=False):
            for name in dirs + files:
                path = os.path.join(root, name)
                if os.path.islink(path):
                    continue
                mode = 0o755 if os.path.isdir(path) else 0o644
                os.chmod(path, mode)
        os.chmod(dest, 0o755)
        if stat.S_IMODE(os.stat(dest).st_mode) != 0o755:
            raise OSError(f"could not make {dest} read-only for others")


class OverwriteCells(_OverwriteCells):
    """nbgrader's OverwriteCells (autograde's sanitizing step), without its false alarm on hidden tests.

    The gradebook keeps each test cell as written in ``source/``, hidden tests included, with the checksum of
    that text; the released cell has the hidden-test region removed. So nbgrader's check of a locked cell
    ("Attribute 'checksum' for cell ... has changed!") fires for every test cell with hidden tests in every
    submission, untouched or not, and a real edit drowns among them. Here a locked cell whose text is exactly
    the gradebook's minus its hidden-test region (what the student was given) first gets the gradebook's text
    back, silently; nbgrader's own check then passes. Any other change is still reported, and undone, by
    nbgrader as before. Set in nbgrader_config.py (``Autograde.sanitize_preprocessors``).
    """

    def preprocess_cell(self, cell, resources, cell_index):
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id is not None and cell.cell_type == "code":
            try:
                source_cell = self.gradebook.find_source_cell(grade_id, self.notebook_id, self.assignment_id)
            except MissingEntry:
                source_cell = None
            if (
                source_cell is not None
                and source_cell.locked
                and cell.source != source_cell.source
                and source_cell.cell_type == cell.cell_type
                and utils.is_locked(cell)
            ):
                released = NotebookNode({"source": source_cell.source})
                had_hidden = ClearHiddenTests(parent=self)._remove_hidden_test_region(released)
                if had_hidden and released.source == cell.source:
                    cell.source = source_cell.source
        return super().preprocess_cell(cell, resources, cell_index)
