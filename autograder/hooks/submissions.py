"""nbgrader hooks of the course (set in nbgrader_config.py): no submission can make nbgrader follow a link.

* ``reject_links``: autograde's pre-convert hook. A submission folder holding a symbolic link (to the
  gradebook, to ``source/``, to another student's work ...) is never opened: nbgrader would read, copy
  and write through the link. The folder is moved aside to ``rejected/<student>/<assignment>-<time>/``
  for the instructor, and replaced by the released (blank) notebook, so the student scores zero and
  the reason is printed.
* ``SafeCollect``: ``nbgrader collect`` copies links as links (nbgrader's own copy follows them), so the
  check above sees them; and the collected folder is made read-only for everyone but its owner.
* ``SafeRelease``: ``nbgrader release_assignment`` refuses an assignment that was never generated into the
  gradebook (``notebooks/`` is committed, so nbgrader's own check, "run `nbgrader generate_assignment`
  first", never fires, and grading fails later).
* ``announce_grading`` and ``report_score``: plain ``nbgrader autograde`` says at its start whether submissions
  run sandboxed, and prints one line per student with their score (autograde's post-convert hook).
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
from nbgrader.exchange.default.release_assignment import ExchangeReleaseAssignment
from nbgrader.preprocessors import ClearHiddenTests
from nbgrader.preprocessors import OverwriteCells as _OverwriteCells


def coursedir_of(configurable):
    """The nbgrader CourseDirectory of the converter or app above `configurable` (a preprocessor, a plugin), or
    None outside nbgrader."""
    while configurable is not None:
        coursedir = getattr(configurable, "coursedir", None)
        if coursedir is not None:
            return coursedir
        configurable = getattr(configurable, "parent", None)
    return None


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


PREFIX = "[cnn-course]"
_announced = []


def quiet_sqlalchemy() -> None:
    """Silence SQLAlchemy's harmless "not in session" warnings from nbgrader's ``Gradebook.add_submission``: it
    builds each submitted assignment, notebook and grade through relationships (SQLAlchemy 2 no longer adds
    them to the session by cascade) and adds them itself right after. Only that message, category and module."""
    import warnings

    from sqlalchemy.exc import SAWarning

    warnings.filterwarnings(
        "ignore",
        message=r"Object of type <Submitted(Assignment|Notebook)> not in session, add operation along '[A-Za-z.]+' "
        r"will not proceed",
        category=SAWarning,
        module=r"nbgrader\.api",
    )


def sandbox_label(sandboxed: bool) -> str:
    return "sandboxed" if sandboxed else "NOT sandboxed: CNN_COURSE_NO_SANDBOX=1"


def announce_grading() -> None:
    """Once per process, on stderr: whether this autograde runs each submission in the sandbox."""
    from autograder.hooks.execute import sandboxed as _sandboxed

    sandboxed = _sandboxed()
    if _announced:
        return
    _announced.append(True)
    if sandboxed:
        text = (
            f"{PREFIX} autograde: every submission runs split and sandboxed (bubblewrap: autograder/sandbox/); "
            "one score line per student on stdout"
        )
    else:
        bar = "!" * 100
        text = (
            f"{bar}\n{PREFIX} autograde: NOT sandboxed (CNN_COURSE_NO_SANDBOX=1): each student's code runs in an "
            f"ordinary kernel, as you, and can read source/ and rewrite the gradebook. Trusted code only.\n{bar}"
        )
    print(text, file=sys.stderr, flush=True)


def _gradebook_of(course: Path) -> tuple[str, str]:
    """(database URL, course id) of the running ``nbgrader autograde``, else the course folder's defaults."""
    from nbgrader.apps.autogradeapp import AutogradeApp

    # inside the Jupyter server (the Formgrader) the singleton is the ServerApp: AutogradeApp.instance() would raise
    app = AutogradeApp._instance if AutogradeApp.initialized() else None
    if isinstance(app, AutogradeApp):
        return app.coursedir.db_url, app.coursedir.course_id
    return f"sqlite:///{course.resolve() / 'gradebook.db'}", "cnn-course"


def graded_score(gradebook, assignment: str, student: str) -> tuple[float | None, float]:
    """(the student's score, or None when the gradebook has no submission of theirs; the assignment's maximum):
    the numbers ``nbgrader export`` gives. Every score the course prints is read here."""
    maximum = gradebook.find_assignment(assignment).max_score
    try:
        return gradebook.find_submission(assignment, student).score, maximum
    except MissingEntry:
        return None, maximum


def score_line(gradebook, assignment: str, student: str, sandboxed: bool) -> str:
    """``[cnn-course] <student> <assignment>: 31/34 (sandboxed)``, from the gradebook."""
    score, maximum = graded_score(gradebook, assignment, student)
    shown = "not graded" if score is None else f"{score:g}"
    return f"{PREFIX} {student} {assignment}: {shown}/{maximum:g} ({sandbox_label(sandboxed)})"


def report_score(assignment: str = "", student: str = "", notebooks: list | None = None, **_):
    """Autograde's post-convert hook: the student's score line, on stdout (``nbgrader autograde ... 2>/dev/null``
    prints only these lines). `student` and `assignment` are nbgrader's patterns ("*"): the folder names them."""
    from nbgrader.api import Gradebook

    from autograder.hooks.execute import sandboxed

    if not notebooks:
        return
    folder = Path(notebooks[0]).parent
    course = folder.parent.parent.parent
    with Gradebook(*_gradebook_of(course)) as gradebook:
        print(score_line(gradebook, folder.name, folder.parent.name, sandboxed()), flush=True)


class SafeCollect(ExchangeCollect):
    """nbgrader's collect, but links are copied as links, the copy is read-only for others, and a submission over
    nbgrader's size limit is left out (logged) instead of stopping the collection of the class."""

    def do_copy(self, src, dest, log=None):
        size, limit = self.get_size(src), 1000 * self.coursedir.max_dir_size  # nbgrader's own limits, kept
        if size > limit:  # nbgrader stops collecting the class here; this submission alone is left out
            self.log.error(
                "[cnn-course] not collected: %s holds %d bytes, more than CourseDirectory.max_dir_size (%d bytes); "
                "the rest of the class is collected",
                src,
                size,
                limit,
            )
            return
        ignore = utils.ignore_patterns(
            exclude=self.coursedir.ignore,
            include=self.coursedir.include,
            max_file_size=self.coursedir.max_file_size,
            log=self.log,
        )
        shutil.copytree(src, dest, symlinks=True, ignore=ignore)
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


def ungenerated(db_url: str, course_id: str, assignment: str, released: list[str]) -> str | None:
    """Why `assignment` cannot be released or graded yet (None when it can): its notebooks `released` (names
    without ``.ipynb``) must all be in the gradebook at `db_url`, i.e. ``nbgrader generate_assignment`` has run.
    Both the release (``SafeRelease``) and ``python -m autograder autograde`` ask here."""
    from nbgrader.api import Gradebook

    if db_url.startswith("sqlite:///") and not os.path.isfile(db_url[len("sqlite:///") :]):
        return f"there is no gradebook ({db_url[len('sqlite:///') :]})"
    with Gradebook(db_url, course_id) as gradebook:
        try:
            recorded = {notebook.name for notebook in gradebook.find_assignment(assignment).notebooks}
        except MissingEntry:
            return f"{assignment} is not in the gradebook"
    missing = sorted(set(released) - recorded)
    if missing:
        return f"the gradebook has no record of {', '.join(n + '.ipynb' for n in missing)}"
    return None


class SafeRelease(ExchangeReleaseAssignment):
    """nbgrader's release_assignment, refusing an assignment that was never generated into the gradebook.

    nbgrader refuses only when the release folder is missing ("run `nbgrader generate_assignment` first"); the
    course commits ``notebooks/``, so without this an assignment the gradebook does not know is released, and
    every submission then fails to grade. Set for every route (command line and Formgrader) in
    nbgrader_config.py (``ExchangeFactory.release_assignment``)."""

    def init_src(self):
        super().init_src()
        assignment = self.coursedir.assignment_id
        released = sorted(p.stem for p in Path(self.src_path).glob("*.ipynb"))
        reason = ungenerated(self.coursedir.db_url, self.coursedir.course_id, assignment, released)
        if reason:
            self.fail(
                f"Not released: {reason}, so its submissions could not be graded. Generate it first: "
                f"`nbgrader generate_assignment {assignment} --force` (or the Formgrader's Generate button; "
                "README, For instructors), then release it."
            )


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
