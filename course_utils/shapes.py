"""Shape arguments as PyTorch takes them: ``cu.pair`` turns an int or an ``(h, w)`` pair into a pair.

Topic 02 asks students to write this themselves (as ``_pair``, graded through ``pad2d``); later topics
import it from here instead of writing it again.
"""

from __future__ import annotations

from typing import Any


def pair(value: Any, name: str) -> tuple[int, int]:
    """An int or an (h, w) pair of ints -> (h, w); ValueError naming `name` and the value otherwise.

    ``pair(3, "stride")`` is ``(3, 3)``; ``pair([2, 1], "padding")`` is ``(2, 1)``; a float, a string or
    a pair of the wrong length raises ``ValueError("stride must be an int or a pair of ints; got ...")``.
    The values themselves are not range-checked: each caller says what it needs (kernel sizes >= 1, ...).
    """
    both = (value, value) if isinstance(value, int) else value
    if isinstance(both, (tuple, list)) and len(both) == 2 and all(isinstance(v, int) for v in both):
        return tuple(both)
    raise ValueError(f"{name} must be an int or a pair of ints; got {value!r}")
