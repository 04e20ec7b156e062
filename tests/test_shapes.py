"""cu.pair: the int-or-pair rule of topic 02's `_pair`, for the topics that import it instead of rewriting it."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import course_utils as cu
from tests.test_self_study import solutions

GOOD = [3, 0, -1, (2, 1), [2, 1], (0, 5), True]
BAD = [2.0, "2", (1, 2, 3), (1,), (1.0, 2), [1, "2"], None, torch.tensor(2)]


def test_pair_turns_an_int_or_a_pair_into_a_pair():
    assert cu.pair(3, "stride") == (3, 3)
    assert cu.pair([2, 1], "padding") == (2, 1)
    assert type(cu.pair([2, 1], "padding")) is tuple
    assert cu.shapes.pair is cu.pair


@pytest.mark.parametrize("value", BAD, ids=repr)
def test_pair_names_the_argument_and_the_value(value):
    with pytest.raises(ValueError, match=r"^kernel_size must be an int or a pair of ints; got "):
        cu.pair(value, "kernel_size")
    with pytest.raises(ValueError) as info:
        cu.pair(value, "kernel_size")
    assert repr(value) in str(info.value)


def test_pair_is_topic_02s_solution_exactly():
    """Same results and the same error messages as the `_pair` 02 grades (through pad2d)."""
    student_rule = solutions("02_padding_stride")["_pair"]
    for value in GOOD:
        assert cu.pair(value, "padding") == student_rule(value, "padding")
    for value in BAD:
        with pytest.raises(ValueError) as ours:
            cu.pair(value, "padding")
        with pytest.raises(ValueError) as theirs:
            student_rule(value, "padding")
        assert str(ours.value) == str(theirs.value)


def test_pair_reads_padding_as_pytorch_does():
    """(ph, pw) is rows top and bottom, columns left and right, as F.conv2d's padding."""
    ph, pw = cu.pair((2, 1), "padding")
    out = F.conv2d(torch.ones(1, 1, 5, 5), torch.ones(1, 1, 1, 1), padding=(2, 1))
    assert tuple(out.shape[-2:]) == (5 + 2 * ph, 5 + 2 * pw)
