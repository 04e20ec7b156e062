"""Simulated students for tests and benchmarks: a released notebook with some solution cells filled in."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat

from course_utils.cells import solved_source

#: Stands for "the source notebook's solution, markers removed" in a student's edits.
SOLVED = object()


def submission(released: nbformat.NotebookNode, source: nbformat.NotebookNode, edits: dict) -> nbformat.NotebookNode:
    """`released` with the solution cells named in `edits` replaced: SOLVED or a new cell source."""
    solutions = {
        c.metadata["nbgrader"]["grade_id"]: c.source
        for c in source.cells
        if c.metadata.get("nbgrader", {}).get("solution")
    }
    unknown = set(edits) - set(solutions)
    if unknown:
        raise ValueError(f"not solution cells of this notebook: {sorted(unknown)}")
    nb = nbformat.from_dict(released)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in edits:
            edit = edits[grade_id]
            cell.source = solved_source(solutions[grade_id]) if edit is SOLVED else edit
    return nb


def make_course(dest: Path, root: Path, names: list[str]) -> Path:
    """A fresh course directory: `root`'s nbgrader_config.py and source/ for `names`."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy(root / "nbgrader_config.py", dest / "nbgrader_config.py")
    for name in names:
        shutil.copytree(root / "source" / name, dest / "source" / name)
    return dest


def submit(course: Path, assignment: str, student: str, nb: nbformat.NotebookNode) -> Path:
    """Write `nb` as `student`'s submission in course/submitted, with a timestamp."""
    folder = course / "submitted" / student / assignment
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / f"{assignment}.ipynb")
    (folder / "timestamp.txt").write_text("2026-11-20 10:00:00.000000 UTC")
    return folder
