"""Widgets of 05_backprop: where one output gradient goes, and dX built from the flipped kernel.

Every gradient shown comes from PyTorch's autograd (``course_utils.oracles``) or from central
differences (``course_utils.gradcheck``); the step-by-step construction of dX is checked against both.
"""

from __future__ import annotations

from dataclasses import dataclass

import ipywidgets as widgets
import torch
import torch.nn.functional as F
from matplotlib.figure import Figure

from course_utils import gradcheck, oracles
from course_utils.plotting import MatrixView, WindowHighlight, format_number, new_figure
from course_utils.widgets.base import CourseWidget

__all__ = [
    "DY_EXAMPLE",
    "FlippedKernelState",
    "FlippedKernelView",
    "GradientReach",
    "ReachState",
    "W_EXAMPLE",
    "X_EXAMPLE",
    "flipped_kernel_state",
    "reach_state",
]

#: The input and kernel of both widgets: distinct small integers (no ties for max pooling to break).
X_EXAMPLE = (torch.randperm(36, generator=torch.Generator().manual_seed(4)) - 17).double().reshape(6, 6)
W_EXAMPLE = torch.tensor([[1, 2, 0], [-1, 3, 1], [2, 0, -2]], dtype=torch.float64)
#: Upstream gradients: the top-left (out_h, out_w) corner is used, whatever the output size (at most 8×8).
DY_EXAMPLE = torch.randint(-3, 4, (8, 8), generator=torch.Generator().manual_seed(5)).double()

LAYERS = ("conv", "max pool", "avg pool")


@dataclass
class ReachState:
    """One output cell's gradient, sent back: dY one-hot at (row, col), and what reaches X and W."""

    layer: str
    kernel: int
    stride: int
    padding: int
    X: torch.Tensor  # (H, W) the input
    dY: torch.Tensor  # (out_h, out_w) one-hot
    dX: torch.Tensor  # (H, W) autograd's dX for that dY
    dW: torch.Tensor | None  # (k, k) for conv; None for pooling
    row: int
    col: int
    window: tuple[int, int, int, int]  # (top, left, h, w) of the window in unpadded input coordinates, clipped
    readout: str


def reach_state(layer: str = "conv", kernel: int = 3, stride: int = 1, padding: int = 0, cell: int = 0) -> ReachState:
    """Send a gradient of 1 back from output cell number `cell` (row-major) through the layer, by autograd."""
    if layer not in LAYERS:
        raise ValueError(f"layer must be one of {LAYERS}; got {layer!r}")
    X = X_EXAMPLE[None, None]
    W = W_EXAMPLE[:kernel, :kernel][None, None]
    if layer != "conv":
        padding = 0  # the pooling exercises have no padding
        out = F.max_pool2d(X, kernel, stride) if layer == "max pool" else F.avg_pool2d(X, kernel, stride)
    else:
        out = F.conv2d(X, W, stride=stride, padding=padding)
    out_h, out_w = out.shape[-2:]
    cell = max(0, min(int(cell), out_h * out_w - 1))
    row, col = divmod(cell, out_w)
    dY = torch.zeros_like(out)
    dY[0, 0, row, col] = 1.0
    dW = None
    if layer == "conv":
        dX, dW, _ = oracles.conv2d_backward(dY, X, W, stride=stride, padding=padding)
        dW = dW[0, 0]
    elif layer == "max pool":
        dX = oracles.max_pool2d_backward(dY, X, kernel, stride)
    else:
        dX = oracles.avg_pool2d_backward(dY, X, kernel, stride)
    H, Wd = X.shape[-2:]
    top, left = row * stride - padding, col * stride - padding
    t, l_ = max(top, 0), max(left, 0)
    b, r = min(top + kernel, H), min(left + kernel, Wd)
    window = (t, l_, b - t, r - l_)
    if layer == "conv":
        readout = (
            f"dY[{row}, {col}] = 1 reaches the input window rows {top}…{top + kernel - 1}, columns "
            f"{left}…{left + kernel - 1} (padding cells have no gradient to keep): dX there is the kernel "
            f"itself, unflipped; dW is that window of X; db gets 1."
        )
    elif layer == "max pool":
        winner = divmod(int(dX[0, 0].abs().flatten().argmax()), Wd)
        readout = (
            f"dY[{row}, {col}] = 1 goes entirely to the window's maximum, X[{winner[0]}, {winner[1]}] = "
            f"{format_number(float(X_EXAMPLE[winner]))}; every other cell of the window gets 0."
        )
    else:
        readout = (
            f"dY[{row}, {col}] = 1 is spread evenly: each of the {kernel}×{kernel} cells of the window gets "
            f"1/{kernel * kernel} = {format_number(1 / kernel**2)}."
        )
    if stride < kernel:
        readout += " Windows overlap: a cell in several windows adds up the gradients of all of them."
    return ReachState(layer, kernel, stride, padding, X_EXAMPLE, dY[0, 0], dX[0, 0], dW, row, col, window, readout)


class GradientReach(CourseWidget[ReachState]):
    """Pick an output-gradient cell: the input cells and weights it reaches, for conv, max and avg pooling."""

    def __init__(self) -> None:
        self.readout = widgets.HTML()
        super().__init__(
            {
                "layer": widgets.ToggleButtons(options=list(LAYERS), description="layer"),
                "kernel": widgets.IntSlider(3, min=2, max=3, description="kernel"),
                "stride": widgets.IntSlider(1, min=1, max=3, description="stride"),
                "padding": widgets.IntSlider(0, min=0, max=1, description="padding"),
                "cell": widgets.IntSlider(0, min=0, max=15, description="dY cell"),
            },
            play="cell",
        )

    def layout(self) -> widgets.Widget:
        return widgets.VBox(
            [
                self.controls_row(["layer", "cell"]),
                self.controls_row(["kernel", "stride", "padding"]),
                self.readout,
                self.figure_image.image,
                self.errors,
            ]
        )

    def follow(self, state: ReachState) -> None:
        self.controls["padding"].disabled = state.layer != "conv"
        self.controls["cell"].max = state.dY.numel() - 1

    def compute(self, **values) -> ReachState:
        return reach_state(**values)

    def build(self) -> tuple[Figure, dict]:
        fig = new_figure(11, 3.4)
        axes = fig.subplots(1, 4, gridspec_kw={"width_ratios": [6, 4, 6, 3]})
        blank = torch.zeros(1, 1)
        artists = {
            "X": MatrixView(axes[0], blank, cmap="Greys", vmin=-30, vmax=30, title="input X"),
            "dY": MatrixView(axes[1], blank, cmap="Reds", vmin=0, vmax=1, title="dY (one cell = 1)"),
            "dX": MatrixView(axes[2], blank, cmap="RdBu_r", vmin=-3, vmax=3, title="dX (autograd)"),
            "dW": MatrixView(axes[3], blank, cmap="RdBu_r", vmin=-18, vmax=18, title="dW (autograd)"),
        }
        artists["window"] = WindowHighlight(axes[0], color="red")
        artists["window_dX"] = WindowHighlight(axes[2], color="red")
        artists["cell"] = WindowHighlight(axes[1], color="black")
        fig.subplots_adjust(left=0.01, right=0.99, top=0.86, bottom=0.03, wspace=0.08)
        return fig, artists

    def draw(self, state: ReachState) -> None:
        a = self.artists
        a["X"].update(state.X)
        a["dY"].update(state.dY, title=f"dY {tuple(state.dY.shape)}: cell ({state.row}, {state.col}) = 1")
        a["dX"].update(state.dX, title=f"dX ({state.layer}, autograd)")
        conv = state.dW is not None
        if a["dW"].ax.get_visible() != conv:
            a["dW"].ax.set_visible(conv)
        if conv:
            a["dW"].update(state.dW, title="dW (autograd)")
        a["window"].move(*state.window)
        a["window_dX"].move(*state.window)
        a["cell"].move(state.row, state.col, 1, 1)
        self.readout.value = state.readout

    def displayed(self, name: str) -> torch.Tensor:
        """The matrix shown in panel `name` ("X", "dY", "dX" or "dW")."""
        return self.artists[name].values()


# ------------------------------------------------------------------------------------------------


@dataclass
class FlippedKernelState:
    """dX of a conv layer built as a full correlation of the stride-dilated, padded dY with the rotated kernel."""

    stride: int
    padding: int
    dY: torch.Tensor  # (out_h, out_w)
    spread: torch.Tensor  # dY, stride-1 zeros between cells, k-1-p zeros above/left, k-1-p+dropped below/right
    rotated: torch.Tensor  # (k, k) the kernel rotated by 180 degrees
    constructed: torch.Tensor  # (H, W) dX from the construction, all of it
    partial: torch.Tensor  # (H, W) the cells computed up to `step` (NaN after)
    autograd: torch.Tensor  # (H, W) autograd's dX
    numerical: torch.Tensor  # (H, W) central differences
    step: int
    row: int  # the cell of dX being computed at `step`
    col: int
    reached: tuple[int, int]  # rows and columns some window reads; later ones get 0 (the floor dropped them)
    dropped: int  # r = (H + 2p - k) - (out - 1) s: the padded input's rows (and columns) below the last window
    equation: str
    errors: tuple[float, float]  # relative error of the construction vs autograd, vs numerical


_NUMERICAL_CACHE: dict[tuple[int, int], torch.Tensor] = {}


def flipped_kernel_state(stride: int = 1, padding: int = 0, step: int = 0) -> FlippedKernelState:
    """The construction for X_EXAMPLE (6×6), W_EXAMPLE (3×3) and a dY of the matching size from DY_EXAMPLE."""
    if not 0 <= padding <= 2:
        raise ValueError(f"padding must be 0, 1 or 2 for a 3x3 kernel; got {padding}")
    X, W = X_EXAMPLE[None, None], W_EXAMPLE[None, None]
    k = W.shape[-1]
    H = X.shape[-1]
    out = (H + 2 * padding - k) // stride + 1
    dropped = (H + 2 * padding - k) - (out - 1) * stride  # the rows the forward pass's floor dropped
    dY = DY_EXAMPLE[:out, :out]
    spread = torch.zeros((out - 1) * stride + 1, (out - 1) * stride + 1, dtype=torch.float64)
    spread[::stride, ::stride] = dY
    # k-1-p zeros above and left (the padding's rows are not part of dX); below and right k-1-p more and the
    # rows the floor dropped, so that the full correlation gives exactly H rows and columns
    before, after = k - 1 - padding, k - 1 - padding + dropped
    spread = F.pad(spread, (before, after, before, after))
    rotated = torch.flip(W_EXAMPLE, dims=(0, 1))
    constructed = F.conv2d(spread[None, None], rotated[None, None])[0, 0]
    n = min(H, (out - 1) * stride + k - padding)  # rows (and columns) some window reads; the rest get 0
    autograd = oracles.conv2d_backward(dY[None, None], X, W, stride=stride, padding=padding)[0][0, 0]
    key = (stride, padding)
    if key not in _NUMERICAL_CACHE:
        _NUMERICAL_CACHE[key] = gradcheck.numerical_gradients(
            lambda x: F.conv2d(x, W, stride=stride, padding=padding), [X], dY[None, None]
        )[0][0, 0]
    numerical = _NUMERICAL_CACHE[key]
    row, col = divmod(step, H)
    partial = torch.full_like(constructed, float("nan"))
    partial.view(-1)[: step + 1] = constructed.view(-1)[: step + 1]
    if row < n and col < n:
        window = spread[row : row + k, col : col + k]
        terms = [
            f"{format_number(float(v))}×{format_number(float(w))}"
            for v, w in zip(window.flatten().tolist(), rotated.flatten().tolist())
            if v != 0
        ]
        equation = (
            f"dX[{row}, {col}] = "
            + (" + ".join(terms) or "0 (only zeros under the kernel)")
            + f" = {format_number(float(constructed[row, col]))}"
        )
    else:
        equation = f"dX[{row}, {col}] = 0: no output window reads this cell (the floor dropped it)"
    return FlippedKernelState(
        stride,
        padding,
        dY,
        spread,
        rotated,
        constructed,
        partial,
        autograd,
        numerical,
        step,
        row,
        col,
        (n, n),
        dropped,
        equation,
        (gradcheck.relative_error(constructed, autograd), gradcheck.relative_error(constructed, numerical)),
    )


class FlippedKernelView(CourseWidget[FlippedKernelState]):
    """Step through dX's cells: the rotated kernel on the spread dY, the sum, and the finished dX beside
    autograd's and the numerical one."""

    def __init__(self) -> None:
        self.equation = widgets.HTML()
        super().__init__(
            {
                "stride": widgets.IntSlider(1, min=1, max=2, description="stride"),
                "padding": widgets.IntSlider(0, min=0, max=2, description="padding"),
                "step": widgets.IntSlider(
                    0, min=0, max=35, description="dX cell", layout=widgets.Layout(width="420px")
                ),
            },
            captions=[self.equation],
            play="step",
        )

    def compute(self, **values) -> FlippedKernelState:
        return flipped_kernel_state(**values)

    def build(self) -> tuple[Figure, dict]:
        fig = new_figure(12, 3.3)
        axes = fig.subplots(1, 5, gridspec_kw={"width_ratios": [8, 3, 6, 6, 6]})
        blank = torch.zeros(1, 1)
        cmap = "RdBu_r"
        artists = {
            "spread": MatrixView(axes[0], blank, cmap=cmap, vmin=-5, vmax=5, title=""),
            "rotated": MatrixView(axes[1], blank, cmap=cmap, vmin=-3, vmax=3, title="kernel rotated 180°"),
            "partial": MatrixView(axes[2], blank, cmap=cmap, vmin=-25, vmax=25, title="dX, built"),
            "autograd": MatrixView(axes[3], blank, cmap=cmap, vmin=-25, vmax=25, title="dX, autograd"),
            "numerical": MatrixView(axes[4], blank, cmap=cmap, vmin=-25, vmax=25, title=""),
        }
        artists["window"] = WindowHighlight(axes[0], color="black")
        artists["cell"] = WindowHighlight(axes[2], color="black")
        fig.subplots_adjust(left=0.01, right=0.99, top=0.84, bottom=0.02, wspace=0.08)
        return fig, artists

    def draw(self, state: FlippedKernelState) -> None:
        a = self.artists
        s, p = state.stride, state.padding
        below = f"k−1−p+r = {2 - p + state.dropped}" if state.dropped else f"k−1−p = {2 - p}"
        a["spread"].update(
            state.spread, title=f"dY, {s - 1} zero(s) between cells; k−1−p = {2 - p}\nzero rows above, {below} below"
        )
        a["rotated"].update(state.rotated)
        a["partial"].update(state.partial, title=f"dX built: cell ({state.row}, {state.col})")
        a["autograd"].update(state.autograd)
        a["numerical"].update(
            state.numerical.round(decimals=6), title=f"dX, numerical\nrel. error {state.errors[1]:.1e}"
        )
        reached = state.row < state.reached[0] and state.col < state.reached[1]
        a["window"].set_visible(reached)
        if reached:
            a["window"].move(state.row, state.col, 3, 3)
        a["cell"].move(state.row, state.col, 1, 1)
        agree = "agrees with autograd" if state.errors[0] < gradcheck.TOLERANCE else "DIFFERS from autograd"
        self.equation.value = f"<code>{state.equation}</code> &nbsp; (the finished dX {agree})"

    def displayed(self, name: str) -> torch.Tensor:
        """The matrix shown in panel `name` ("spread", "rotated", "partial", "autograd" or "numerical")."""
        return self.artists[name].values()
