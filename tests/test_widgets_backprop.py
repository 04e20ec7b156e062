"""05's widgets driven headless: every gradient shown is checked against autograd called here."""

from __future__ import annotations

import itertools

import pytest
import torch
import torch.nn.functional as F

from course_utils.widgets import backprop as bp


def _autograd_dx(layer, kernel, stride, padding, dY):
    X = bp.X_EXAMPLE[None, None].clone().requires_grad_()
    W = bp.W_EXAMPLE[:kernel, :kernel][None, None].clone().requires_grad_()
    if layer == "conv":
        out = F.conv2d(X, W, stride=stride, padding=padding)
    elif layer == "max pool":
        out = F.max_pool2d(X, kernel, stride)
    else:
        out = F.avg_pool2d(X, kernel, stride)
    (out * dY).sum().backward()
    return out.shape[-2:], X.grad[0, 0], (W.grad[0, 0] if layer == "conv" else None)


REACH_CASES = [
    (layer, k, s, p)
    for layer, k, s, p in itertools.product(bp.LAYERS, (2, 3), (1, 2, 3), (0, 1))
    if layer == "conv" or p == 0
]
REACH_FAST = {("conv", 3, 2, 1), ("max pool", 2, 1, 0), ("avg pool", 3, 2, 0)}  # one per layer; the rest is slow


@pytest.mark.parametrize(
    "layer,kernel,stride,padding",
    [case if case in REACH_FAST else pytest.param(*case, marks=pytest.mark.slow) for case in REACH_CASES],
)
def test_gradient_reach_shows_autograds_dx_and_dw_for_every_cell(layer, kernel, stride, padding):
    widget = bp.GradientReach()
    widget.set(layer=layer, kernel=kernel, stride=stride, padding=padding, cell=0)
    shape, _, _ = _autograd_dx(layer, kernel, stride, padding, 0.0)
    assert widget.controls["cell"].max == shape[0] * shape[1] - 1
    for cell in range(0, shape[0] * shape[1], 2):
        state = widget.set(cell=cell)
        r, c = divmod(cell, shape[1])
        dY = torch.zeros(shape, dtype=torch.float64)
        dY[r, c] = 1.0
        _, dX, dW = _autograd_dx(layer, kernel, stride, padding, dY)
        assert torch.equal(widget.displayed("dY"), dY)
        assert torch.allclose(widget.displayed("dX"), dX)
        top, left, h, w = widget.artists["window"].position
        outside = torch.ones_like(dX, dtype=torch.bool)
        outside[top : top + h, left : left + w] = False
        assert (dX[outside] == 0).all(), "gradient outside the highlighted window"
        if layer == "conv":
            assert torch.allclose(widget.displayed("dW"), dW)
        elif layer == "max pool":
            winner = int(dX.argmax())
            assert dX.count_nonzero() == 1 and f"X[{winner // 6}, {winner % 6}]" in widget.readout.value
        else:
            assert torch.allclose(dX[~outside], torch.full((h * w,), 1 / kernel**2, dtype=torch.float64))
        assert state.row == r and state.col == c
    assert widget.artists["dW"].ax.get_visible() == (layer == "conv")
    assert widget.controls["padding"].disabled == (layer != "conv")


FLIPPED_FAST = {(1, 0), (2, 1)}  # both strides, with and without padding; the rest of the grid is slow


@pytest.mark.parametrize(
    "stride,padding",
    [
        case if case in FLIPPED_FAST else pytest.param(*case, marks=pytest.mark.slow)
        for case in itertools.product((1, 2), (0, 1, 2))
    ],
)
def test_flipped_kernel_construction_equals_autograd_and_numerical(stride, padding):
    widget = bp.FlippedKernelView()
    state = widget.set(stride=stride, padding=padding, step=0)
    X = bp.X_EXAMPLE[None, None].clone().requires_grad_()
    out = F.conv2d(X, bp.W_EXAMPLE[None, None], stride=stride, padding=padding)
    dY = bp.DY_EXAMPLE[: out.shape[2], : out.shape[3]]
    (out * dY).sum().backward()
    assert torch.equal(state.dY, dY)
    assert torch.allclose(state.constructed, X.grad[0, 0], rtol=0, atol=1e-12)
    # 05's text: k-1-p zero rows above the dilated dY, k-1-p plus the r rows the floor dropped below, and the full
    # correlation with the rotated kernel gives exactly the input's 6 rows (nothing cropped, nothing filled in)
    k, o = 3, out.shape[2]
    r = (6 + 2 * padding - k) - (o - 1) * stride
    dilated = (o - 1) * stride + 1
    spread = widget.displayed("spread")
    assert spread.shape == (dilated + 2 * (k - 1 - padding) + r,) * 2
    assert not spread[: k - 1 - padding].any() and not spread[k - 1 - padding + dilated :].any()
    full = F.conv2d(spread[None, None], bp.W_EXAMPLE.flip(0).flip(1)[None, None])[0, 0]
    assert full.shape == (6, 6) and torch.allclose(full, X.grad[0, 0], rtol=0, atol=1e-12)
    below = f"k−1−p+r = {k - 1 - padding + r} below" if r else f"k−1−p = {k - 1 - padding} below"
    assert widget.artists["spread"].ax.get_title().endswith(below)
    assert torch.allclose(widget.displayed("autograd"), X.grad[0, 0])
    assert torch.allclose(widget.displayed("numerical"), X.grad[0, 0], atol=1e-5)
    assert torch.equal(widget.displayed("rotated"), bp.W_EXAMPLE.flip(0).flip(1))
    assert "agrees with autograd" in widget.equation.value
    for step in (5, 17, 35):
        state = widget.set(step=step)
        partial = widget.displayed("partial").flatten()
        assert not partial[: step + 1].isnan().any() and partial[step + 1 :].isnan().all()
        row, col = divmod(step, 6)
        assert state.equation.startswith(f"dX[{row}, {col}] = ")
        value = float(X.grad[0, 0, row, col])
        assert state.equation.endswith(f"= {bp.format_number(value)}") or "= 0:" in state.equation


def test_rows_no_window_reaches_get_zero_gradient():
    state = bp.flipped_kernel_state(stride=2, padding=0, step=35)  # 6x6, kernel 3, stride 2: rows 0-4 read
    assert state.reached == (5, 5) and state.dropped == 1
    assert (state.constructed[5] == 0).all() and (state.constructed[:, 5] == 0).all()
    assert "no output window reads this cell" in state.equation
