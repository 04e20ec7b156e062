"""The pooling explorer driven headless: the displayed output is PyTorch's, windows and winners are right."""

from __future__ import annotations

import math
import re

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


def _slider_settings(widget: pw.PoolingExplorer):
    """Every combination the explorer's controls allow (the window slider aside)."""
    c = widget.controls
    for name in c["input"].options:
        for kind in c["kind"].options:
            for kernel in range(c["kernel"].min, c["kernel"].max + 1):
                for stride in c["stride"].options:
                    for padding in range(c["padding"].min, c["padding"].max + 1):
                        for ceil in (False, True):
                            for include in (True, False):
                                yield name, kind, kernel, stride, padding, ceil, include


def _evaluate(equation: str) -> int:
    """The value of a printed size equation such as 'ceil((4 + 2·1 − 2) / 3) + 1 − 1'."""
    expression = equation.replace("·", "*").replace("−", "-")
    assert re.fullmatch(r"[\d\s()+\-*/]*(ceil|floor)[\d\s()+\-*/]*", expression), equation
    return eval(expression, {"__builtins__": {}}, {"ceil": math.ceil, "floor": math.floor})  # digits and operators only


@pytest.mark.slow  # every setting: about 6 s
def test_readout_equation_evaluates_to_the_printed_size_and_torchs():
    widget = pw.PoolingExplorer()
    dropped = 0
    for name, kind, kernel, stride, padding, ceil, include in _slider_settings(widget):
        s = None if stride == pw.SAME_AS_KERNEL else stride
        state = pw.pooling_state(pw.INPUTS[name](), kind, kernel, s, padding, ceil, include, window=0)
        if state.output is None:  # PyTorch refused: the readout shows its message instead
            assert state.message and "output" not in state.description
            continue
        X = pw.INPUTS[name]().double()[None, None]
        expected = tuple(F.max_pool2d(X, kernel, s, padding, ceil_mode=ceil).shape[-2:])
        match = re.search(r"output (\d+)x(\d+) = (.*)$", state.description)
        assert match, state.description
        printed = (int(match[1]), int(match[2]))
        assert printed == expected == tuple(state.output.shape), (state.description, expected)
        rows, _, columns = match[3].partition("; columns: ")
        values = []
        for part in (rows, columns or rows):
            equation, _, why = part.partition("  (")
            values.append(_evaluate(equation))
            if why:
                dropped += 1
                assert why.startswith("ceil gives ") and "drops" in why, part
                assert int(why.split()[2].rstrip(";")) == values[-1] + 1, part  # the ceil value, before the drop
        assert tuple(values) == printed, state.description
    assert dropped > 0  # the settings include windows that ceil_mode drops (4x4, k=2, s=3, p=1)


def test_readout_says_why_ceil_mode_drops_a_window():
    state = pw.pooling_state(torch.zeros(4, 4), "max", 2, 3, 1, True, True, window=0)
    assert F.max_pool2d(torch.zeros(1, 1, 4, 4), 2, 3, 1, ceil_mode=True).shape[-2:] == (2, 2)
    assert "output 2x2 = ceil((4 + 2·1 − 2) / 3) + 1 − 1  (ceil gives 3;" in state.description
    assert "start at row 6" in state.description


def test_on_ties_the_winner_is_torchs_first_maximum_in_row_major_order():
    """03's text: the mark goes to the first of several equal maxima, as torch's kernels pick (undocumented)."""
    X = torch.tensor([[1.0, 3.0, 0.0], [3.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
    _, index = F.max_pool2d(X[None, None], 2, 1, return_indices=True)
    assert int(index[0, 0, 0, 0]) == 1  # (0, 1), not (1, 0): the first 3 in row-major order
    state = pw.pooling_state(X, "max", 2, 1, 0, False, True, window=0)
    assert state.winner == divmod(int(index[0, 0, 0, 0]), 3)
