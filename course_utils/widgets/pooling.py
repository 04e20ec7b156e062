"""Widget of 03_pooling: the pooling explorer. Every output comes from PyTorch's own pooling."""

from __future__ import annotations

from dataclasses import dataclass

import ipywidgets as widgets
import torch
import torch.nn.functional as F
from matplotlib.figure import Figure

from course_utils import examples
from course_utils.plotting import MatrixView, WindowHighlight, format_number, new_figure
from course_utils.widgets.base import CourseWidget

__all__ = ["INPUTS", "PoolingExplorer", "PoolingState", "pooling_state"]

INPUTS = {
    "arange(9), 3x3": lambda: examples.arange3_single()[0],
    "two-channel 4x4: channel 0": lambda: examples.two_channel_pool_input()[0, 0],
    "two-channel 4x4: channel 1": lambda: examples.two_channel_pool_input()[0, 1],
    "signed 5x5 (negatives)": lambda: torch.randn(5, 5, generator=torch.Generator().manual_seed(3)).mul(4).round() - 3,
}
SAME_AS_KERNEL = "= kernel"


@dataclass
class PoolingState:
    padded: torch.Tensor  # (Hp, Wp) the input as the pooling sees it: -inf (max) or 0 (avg) padding
    output: torch.Tensor | None  # (out_h, out_w) by F.max_pool2d / F.avg_pool2d
    kernel: int
    stride: int
    window: int  # index of the window shown
    row: int  # top-left of that window in padded coordinates
    col: int
    winner: tuple[int, int] | None  # for max: where the maximum sits, in padded coordinates
    description: str
    message: str = ""  # PyTorch's refusal, when the options are invalid


def pooling_state(
    X: torch.Tensor,
    kind: str,
    kernel: int,
    stride: int | None,
    padding: int,
    ceil_mode: bool,
    count_include_pad: bool,
    window: int,
) -> PoolingState:
    """The explorer's state for a 2-D input X (H, W) and the pooling options."""
    X = X.double()
    stride = stride or kernel
    H, W = X.shape
    fill = float("-inf") if kind == "max" else 0.0
    try:
        if kind == "max":
            output = F.max_pool2d(X[None, None], kernel, stride, padding, ceil_mode=ceil_mode)[0, 0]
        else:
            output = F.avg_pool2d(
                X[None, None], kernel, stride, padding, ceil_mode=ceil_mode, count_include_pad=count_include_pad
            )[0, 0]
    except RuntimeError as exc:
        padded = F.pad(X, (padding,) * 4, value=fill)
        return PoolingState(padded, None, kernel, stride, 0, 0, 0, None, "", message=str(exc).splitlines()[0])
    out_h, out_w = output.shape
    # room for windows that ceil_mode lets hang past the padding (they read nothing there)
    need_h, need_w = (out_h - 1) * stride + kernel, (out_w - 1) * stride + kernel
    padded = torch.full((max(H + 2 * padding, need_h), max(W + 2 * padding, need_w)), fill, dtype=X.dtype)
    padded[padding : padding + H, padding : padding + W] = X
    window = max(0, min(window, out_h * out_w - 1))
    r, c = divmod(window, out_w)
    row, col = r * stride, c * stride
    values = padded[row : row + kernel, col : col + kernel]
    winner = None
    if kind == "max":
        flat = int(torch.argmax(values))  # the first maximum in row-major order, as torch's kernels pick (undocumented)
        winner = (row + flat // values.shape[1], col + flat % values.shape[1])
        description = f"max of the window = {format_number(float(output[r, c]))}"
    else:
        description = f"average of the window = {format_number(float(output[r, c]))}"
    axes = [
        _size_equation(n, size, kernel, stride, padding, ceil_mode, axis)
        for n, size, axis in ((H, out_h, "row"), (W, out_w, "column"))
    ]
    equation = axes[0] if axes[0] == axes[1].replace("column", "row") else f"{axes[0]}; columns: {axes[1]}"
    description += f";  output {out_h}x{out_w} = {equation}"
    return PoolingState(padded, output, kernel, stride, window, row, col, winner, description)


def _size_equation(n: int, size: int, kernel: int, stride: int, padding: int, ceil_mode: bool, axis: str) -> str:
    """PyTorch's output size `size` along one axis as an equation: where it is one less than the ceiling,
    PyTorch dropped the last window (it would start after the input), and the equation says so and why."""
    rounding = "ceil" if ceil_mode else "floor"
    text = f"{rounding}(({n} + 2·{padding} − {kernel}) / {stride}) + 1"
    ceiling = -(-(n + 2 * padding - kernel) // stride) + 1
    if ceil_mode and size == ceiling - 1:
        text += (
            f" − 1  (ceil gives {ceiling}; its last window would start at {axis} {size * stride} of the padded"
            f" input, after the input's last {axis}, {n + padding - 1}, and PyTorch drops a window that starts"
            " after the input)"
        )
    return text


class PoolingExplorer(CourseWidget[PoolingState]):
    """Windows on the (padded) input, the max's winner marked, and PyTorch's output grid."""

    def __init__(self) -> None:
        self.readout = widgets.HTML()
        super().__init__(
            {
                "input": widgets.Dropdown(options=list(INPUTS), description="input"),
                "kind": widgets.ToggleButtons(options=["max", "avg"], description="pooling"),
                "kernel": widgets.IntSlider(2, min=1, max=4, description="kernel"),
                "stride": widgets.Dropdown(options=[SAME_AS_KERNEL, 1, 2, 3], description="stride"),
                "padding": widgets.IntSlider(0, min=0, max=2, description="padding"),
                "ceil_mode": widgets.Checkbox(False, description="ceil_mode"),
                "count_include_pad": widgets.Checkbox(True, description="count_include_pad"),
                "window": widgets.IntSlider(0, min=0, max=3, description="window"),
            },
            play="window",
        )

    def layout(self) -> widgets.Widget:
        rows = [["input", "kind"], ["kernel", "stride", "padding"], ["ceil_mode", "count_include_pad"], ["window"]]
        return widgets.VBox(
            [*(self.controls_row(row) for row in rows), self.readout, self.figure_image.image, self.errors]
        )

    def _arguments(self, values: dict) -> dict:
        stride = values["stride"]
        return {
            "X": INPUTS[values["input"]](),
            "kind": values["kind"],
            "kernel": values["kernel"],
            "stride": None if stride == SAME_AS_KERNEL else stride,
            "padding": values["padding"],
            "ceil_mode": values["ceil_mode"],
            "count_include_pad": values["count_include_pad"],
        }

    def follow(self, state: PoolingState) -> None:
        self.controls["window"].max = 0 if state.output is None else state.output.numel() - 1

    def compute(self, window: int, **values) -> PoolingState:
        return pooling_state(window=window, **self._arguments(values))

    def build(self) -> tuple[Figure, dict]:
        fig = new_figure(8, 3.8)
        axes = fig.subplots(1, 2)
        blank = torch.zeros(1, 1)
        artists = {
            "input": MatrixView(axes[0], blank, cmap="Blues", title="input as pooled"),
            "output": MatrixView(axes[1], blank, cmap="Oranges", title="output (PyTorch)"),
        }
        artists["window"] = WindowHighlight(axes[0], color="red")
        artists["winner"] = WindowHighlight(axes[0], color="gold")
        artists["cell"] = WindowHighlight(axes[1], color="red")
        artists["message"] = fig.text(0.5, 0.5, "", ha="center", va="center", wrap=True, color="darkred")
        fig.subplots_adjust(left=0.02, right=0.98, top=0.88, bottom=0.03, wspace=0.1)
        return fig, artists

    def draw(self, state: PoolingState) -> None:
        a = self.artists
        ok = state.output is not None
        if a["message"].get_text() != state.message:
            a["message"].set_text(state.message)
        if a["output"].ax.get_visible() != ok:
            a["output"].ax.set_visible(ok)
        a["input"].update(state.padded)
        a["window"].set_visible(ok)
        a["winner"].set_visible(ok and state.winner is not None)
        a["cell"].set_visible(ok)
        self.readout.value = f"<code>{state.description or state.message}</code>"
        if not ok:
            return
        a["window"].move(state.row, state.col, state.kernel, state.kernel)
        if state.winner is not None:
            a["winner"].move(*state.winner, 1, 1)
        a["output"].update(state.output, title=f"output {tuple(state.output.shape)} (PyTorch)")
        r, c = divmod(state.window, state.output.shape[1])
        a["cell"].move(r, c, 1, 1)

    def displayed_output(self) -> torch.Tensor:
        return self.artists["output"].values()
