"""The 04_losses widgets driven headless: what they display equals PyTorch's numbers."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_utils.widgets import losses as lw


@pytest.mark.parametrize("p", [0.001, 0.25, 0.5, 0.9, 0.999])
def test_bce_curve_marks_torchs_losses(p):
    widget = lw.BCECurve()
    widget.set(p=p)
    shown = widget.displayed_points()
    pt = torch.tensor([p], dtype=torch.float64)
    assert shown["y1"] == pytest.approx((p, float(F.binary_cross_entropy(pt, torch.ones(1, dtype=torch.float64)))))
    assert shown["y0"] == pytest.approx((p, float(F.binary_cross_entropy(pt, torch.zeros(1, dtype=torch.float64)))))


def test_bce_curve_slider_path():
    widget = lw.BCECurve()
    widget.controls["p"].value = 0.1
    assert widget.displayed_points()["y1"][1] == pytest.approx(-np.log(0.1))
    assert f"loss if y=1: {-np.log(0.1):.4f}" in widget.readout.value


def test_softmax_bars_show_torchs_softmax_and_loss():
    widget = lw.SoftmaxBars()
    z = torch.log(torch.tensor([20.0, 40.0, 60.0, 80.0], dtype=torch.float64))
    expected = torch.tensor([0.1, 0.2, 0.3, 0.4], dtype=torch.float64)
    assert torch.allclose(widget.displayed_probabilities(), expected, atol=1e-4)
    assert widget.state.loss == pytest.approx(np.log(2.5), abs=1e-4)
    state = widget.set(temperature=2.0, target=1, z0=1.0)
    z = torch.tensor(
        [
            1.0,
            float(widget.controls["z1"].value),
            float(widget.controls["z2"].value),
            float(widget.controls["z3"].value),
        ],
        dtype=torch.float64,
    )
    assert torch.allclose(widget.displayed_probabilities(), F.softmax(z / 2.0, dim=0))
    assert state.loss == pytest.approx(float(F.cross_entropy((z / 2.0)[None], torch.tensor([1]))))
    assert "class 1" in widget.artists["title"].get_text()


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("example", list(lw.REDUCTION_EXAMPLES))
def test_reduction_switch_shows_per_sample_losses_and_the_reduction(example, reduction):
    widget = lw.ReductionSwitch()
    state = widget.set(example=example, reduction=reduction)
    p, y = lw.REDUCTION_EXAMPLES[example]()
    expected = F.binary_cross_entropy(p.double(), y.double(), reduction="none")
    assert torch.allclose(widget.displayed_per_sample(), expected)
    assert torch.allclose(state.reduced, F.binary_cross_entropy(p.double(), y.double(), reduction=reduction))
    if reduction == "mean":
        assert widget.artists["line"].get_ydata()[0] == pytest.approx(float(expected.mean()))
        assert f"{float(expected.mean()):.4f}" in widget.artists["title"].get_text()


def test_saturation_table_shows_the_clamp():
    rows = {x: (a, b) for x, a, b in lw.saturation_table([-200.0, 0.0])}
    assert rows[-200.0] == (100.0, 200.0)
    assert rows[0.0][0] == pytest.approx(np.log(2)) and rows[0.0][1] == pytest.approx(np.log(2))
