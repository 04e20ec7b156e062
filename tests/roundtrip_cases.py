"""Simulated classes for the nbgrader round trip: a file per student, ``tests/cases/roundtrip/<assignment>/<name>.py``.

A file's header gives the student's exact score (``# points: 14``) and the solution cells they submit as the
source notebook's solution, nbgrader's markers removed (``# solved: corr2d conv2d``). Each ``# %% cell <grade_id>``
line starts the whole new source of that solution cell. Cells named nowhere are submitted as released (the
stub). The comment lines above the header say why the score is what it is.
"""

from __future__ import annotations

import re
from pathlib import Path

from autograder.cli.simulate import SOLVED

FOLDER = Path(__file__).parent / "cases" / "roundtrip"
_CELL = re.compile(r"^# %% cell (\w+)$", re.M)


def read_case(path: Path) -> tuple[dict, float]:
    """(edits {grade_id: SOLVED or new source}, exact score) of one student's file."""
    text = path.read_text()
    header, *cells = _CELL.split(text)
    points = re.search(r"^# points: ([\d.]+)$", header, re.M)
    solved = re.search(r"^# solved:(.*)$", header, re.M)
    if points is None or solved is None:
        raise ValueError(f"{path}: the header needs '# points: N' and '# solved: grade_id ...' lines")
    edits: dict = {grade_id: SOLVED for grade_id in solved.group(1).split()}
    for grade_id, source in zip(cells[::2], cells[1::2]):
        edits[grade_id] = source.lstrip("\n")
    return edits, float(points.group(1))


def load(folder: Path = FOLDER) -> dict[str, dict[str, tuple[dict, float]]]:
    """assignment -> student -> (edits, exact score), "solved" first."""
    return {
        topic.name: {
            path.stem: read_case(path)
            for path in sorted(topic.glob("*.py"), key=lambda p: (p.stem != "solved", p.stem))
        }
        for topic in sorted(folder.iterdir())
        if topic.is_dir()
    }


CASES = load()
