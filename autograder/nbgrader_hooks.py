"""nbgrader hooks of the course (set in nbgrader_config.py): no submission can make nbgrader follow a link.

* ``reject_links``: autograde's pre-convert hook. A submission folder holding a symbolic link (to the
  gradebook, to ``source/``, to another student's work ...) is never opened: nbgrader would read, copy
  and write through the link. The folder is moved aside to ``rejected/<student>/<assignment>-<time>/``
  for the instructor, and replaced by the released (blank) notebook, so the student scores zero and
  the reason is printed.
* ``SafeCollect``: ``nbgrader collect`` copies links as links (nbgrader's own copy follows them), so the
  check above sees them; and the collected folder is made read-only for everyone but its owner.
"""

from __future__ import annotations

import os
import shutil
import stat
import sys
import time
from pathlib import Path

from nbgrader.exchange.default.collect import ExchangeCollect


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
    print(f"[cnn-course] {student_id}: the submission of {assignment_id} holds symbolic links "
          f"({', '.join(folder_links[:5])}): graded as a blank notebook (zero). The submission is kept in {aside}",
          file=sys.stderr, flush=True)


class SafeCollect(ExchangeCollect):
    """nbgrader's collect, but links are copied as links and the copy is read-only for others."""

    def do_copy(self, src, dest, log=None):
        shutil.copytree(src, dest, symlinks=True,
                        ignore=shutil.ignore_patterns(*self.coursedir.ignore))
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
