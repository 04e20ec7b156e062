"""The pooling explorer driven headless: the displayed output is PyTorch's, windows and winners are right."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from course_utils.widgets import pooling as pw

OPTIONS = [
    (kind, k, s, p, ceil, inc)
    for kind in ("max", "avg")
    for k in (2, 3)
    for s in (pw.SAME_AS_KERNEL, 1, 2)
    for p in (0, 1)
    for ceil in (False, True)
    for inc in (True, False)
    if p <= k // 2
]


# every input with every fifth option; the fast tier takes each option once, on the inputs in turn
POOLING_CASES = [(*option, name) for i, name in enumerate(pw.INPUTS) for option in OPTIONS[::5]]
POOLING_FAST = {
    (*option, name)
    for j, option in enumerate(OPTIONS[::5])
    for i, name in enumerate(pw.INPUTS)
    if j % len(pw.INPUTS) == i
}


@pytest.mark.parametrize(
    "kind,kernel,stride,padding,ceil,include,name",
    [case if case in POOLING_FAST else pytest.param(*case, marks=pytest.mark.slow) for case in POOLING_CASES],
)
def test_explorer_displays_torchs_pooling(name, kind, kernel, stride, padding, ceil, include):
    widget = pw.PoolingExplorer()
    widget.set(
        input=name, kind=kind, kernel=kernel, stride=stride, padding=padding, ceil_mode=ceil, count_include_pad=include
    )
    X = pw.INPUTS[name]().double()[None, None]
    s = None if stride == pw.SAME_AS_KERNEL else stride
    if kind == "max":
        expected = F.max_pool2d(X, kernel, s, padding, ceil_mode=ceil)[0, 0]
    else:
        expected = F.avg_pool2d(X, kernel, s, padding, ceil_mode=ceil, count_include_pad=include)[0, 0]
    assert torch.allclose(widget.displayed_output(), expected)
    assert widget.controls["window"].max == expected.numel() - 1


def test_winner_is_the_maximum_of_the_window_and_padding_is_minus_infinity():
    widget = pw.PoolingExplorer()
    state = widget.set(input="signed 5x5 (negatives)", kind="max", kernel=2, stride=2, padding=1, window=4)
    window = state.padded[state.row : state.row + 2, state.col : state.col + 2]
    assert state.padded[0, 0] == float("-inf")
    assert state.padded[state.winner] == window.max()
    r, c = divmod(4, state.output.shape[1])
    assert state.output[r, c] == window.max()
    assert widget.artists["winner"].position == (*state.winner, 1, 1)


def test_window_slider_through_the_observe_path():
    widget = pw.PoolingExplorer()
    widget.controls["input"].value = "two-channel 4x4: channel 1"
    widget.controls["stride"].value = 1
    widget.controls["window"].value = 5
    assert widget.state.row == 1 and widget.state.col == 2
    assert "max of the window = 6" in widget.readout.value


def test_invalid_padding_shows_torchs_refusal():
    widget = pw.PoolingExplorer()
    state = widget.set(kernel=2, padding=2)
    assert state.output is None and "pad should be at most half" in state.message
    assert not widget.artists["output"].ax.get_visible()
    widget.set(padding=1)
    assert widget.artists["output"].ax.get_visible()
