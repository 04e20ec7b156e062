"""What every stepping widget shares: a Play button linked to its step slider, shown beside it."""

from __future__ import annotations

import ipywidgets
import pytest
import torch.nn.functional as F

from course_utils import examples
from course_utils.widgets import backprop as bp
from course_utils.widgets import convolution as cw
from course_utils.widgets import padding_stride as ps
from course_utils.widgets import pooling as pw
from course_utils.widgets.base import play_button

# widget, its step slider, the step the state shows (row-major index), control values with several steps
STEPPING = {
    "sliding window": (cw.SlidingWindowExplorer, "step", lambda s: s.step, {}),
    "conv arithmetic": (ps.ConvArithmeticExplorer, "placement", lambda s: s.placement, {}),
    "receptive field": (ps.ReceptiveFieldExplorer, "unit", lambda s: s.unit[0] * ps.LAST_MAP_SIDE + s.unit[1], {}),
    "pooling": (pw.PoolingExplorer, "window", lambda s: s.window, {"stride": 1}),  # 2x2 windows on the 3x3 input
    "gradient reach": (bp.GradientReach, "cell", lambda s: s.row * s.dY.shape[1] + s.col, {}),
    "flipped kernel": (bp.FlippedKernelView, "step", lambda s: s.step, {}),
}


def _rows_of(widget: ipywidgets.Widget):
    """Every box's list of children in the widget tree."""
    children = list(getattr(widget, "children", ()))
    if children:
        yield children
    for child in children:
        yield from _rows_of(child)


@pytest.mark.parametrize("name", list(STEPPING))
def test_a_play_button_beside_the_step_slider_walks_the_steps(name):
    factory, step, shown, setup = STEPPING[name]
    widget = factory()
    widget.set(**setup)
    play, slider = widget.play, widget.controls[step]
    assert isinstance(play, ipywidgets.Play)
    assert (play.min, play.max, play.value) == (slider.min, slider.max, slider.value)
    assert any(row[i : i + 2] == [play, slider] for row in _rows_of(widget.widget) for i in range(len(row))), (
        "the Play button is not shown just before its slider"
    )
    assert slider.max >= 3
    for value in (1, 2, slider.max):  # what the Play button sends at each tick, and at the end
        play.value = value
        assert slider.value == value and shown(widget.state) == value


def test_play_follows_the_range_of_a_slider_that_follows_the_example():
    widget = cw.SlidingWindowExplorer()
    widget.set(example="6x6 input, 3x3 filter", mode="full", step=0)
    X, K = examples.grid6_input(), examples.grid6_filter()
    steps = F.conv2d(X[None, None].double(), K[None, None].double(), padding=2).numel()
    assert widget.play.max == steps - 1  # the 64 positions of the full 8x8 output, one tick each
    widget.play.value = steps - 1
    assert (widget.state.row, widget.state.col) == (7, 7)
    widget.set(mode="valid")  # 4x4 now: the slider and its Play clamp to the last position
    assert widget.play.max == widget.controls["step"].max == 15 and widget.play.value == 15


def test_play_button_links_value_and_range_both_ways():
    slider = ipywidgets.IntSlider(2, min=1, max=5)
    play = play_button(slider)
    assert (play.min, play.max, play.value) == (1, 5, 2)
    play.value = 4
    assert slider.value == 4
    slider.value = 3
    assert play.value == 3
    slider.max = 2
    assert play.max == 2 and play.value == 2
