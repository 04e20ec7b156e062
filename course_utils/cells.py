"""nbgrader's solution markers in a notebook cell (the static figures of 06's networks build from solved cells)."""

from __future__ import annotations

import re

MARKER = re.compile(r"### (BEGIN|END) SOLUTION")


def solved_source(source: str) -> str:
    """A solution cell with nbgrader's markers removed (what a student who solved it submits)."""
    return "\n".join(line for line in source.splitlines() if not MARKER.search(line))
