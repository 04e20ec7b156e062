"""Widgets of 02_padding_stride: the conv-arithmetic explorer and the receptive-field explorer.

Every output, every shape and every "which cells are read" comes from PyTorch: ``F.conv2d`` (through
``course_utils.oracles``) and autograd through it. The only arithmetic here fills the output-size
formula in with the current numbers, to set it beside PyTorch's shape, and spells out one
placement's sum. Each widget is controls + a pure ``*_state`` function returning a dataclass + a
``draw`` that updates artists created once; what is displayed can be read back (``displayed_*``).

In a notebook::

    from course_utils.widgets import padding_stride as ps
    ps.ConvArithmeticExplorer()
    ps.ReceptiveFieldExplorer()
"""

from __future__ import annotations

import functools
import textwrap
from dataclasses import dataclass

import ipywidgets as widgets
import numpy as np
import torch
import torch.nn.functional as F
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

from course_utils import examples, oracles
from course_utils.plotting import (
    MatrixView,
    WindowHighlight,
    fit_numbers,
    format_number,
    new_figure,
    square_cells,
    steady_axes,
)
from course_utils.widgets.base import CourseWidget, PresetMenu

__all__ = [
    "AxisArithmetic",
    "CATEGORY_COLORS",
    "CATEGORY_NAMES",
    "ConvArithmeticExplorer",
    "ConvArithmeticState",
    "DROPPED",
    "INPUT",
    "PADDING",
    "PRESETS",
    "RF_PRESETS",
    "ReceptiveFieldExplorer",
    "ReceptiveFieldState",
    "SKIPPED",
    "conv_arithmetic_state",
    "receptive_field_state",
]

# ------------------------------------------------------------------------------------------------
# 1. the conv-arithmetic explorer

#: What each cell of the padded input is, for the colours: read or not, input or padding.
INPUT, PADDING, DROPPED, SKIPPED = 0, 1, 2, 3
CATEGORY_NAMES = {
    INPUT: "input",
    PADDING: "padding (zeros)",
    DROPPED: "never read: dropped by the floor",
    SKIPPED: "never read: between taps or strides",
}
CATEGORY_COLORS = {
    INPUT: (0.78, 0.87, 0.97),
    PADDING: (0.86, 0.86, 0.86),
    DROPPED: (0.96, 0.55, 0.55),
    SKIPPED: (1.0, 0.9, 0.55),
}


def _geometry(H, W, k, p, s, d) -> dict[str, int]:
    """Control values for a square-or-not geometry given as (rows, cols) pairs or ints."""
    pairs = [v if isinstance(v, tuple) else (v, v) for v in (k, p, s, d)]
    (kh, kw), (ph, pw), (sh, sw), (dh, dw) = pairs
    return dict(H=H, W=W, kh=kh, kw=kw, ph=ph, pw=pw, sh=sh, sw=sw, dh=dh, dw=dw)


#: Named settings of the explorer: name -> control values.
PRESETS: dict[str, dict[str, int]] = {
    "5×5, kernel 2, stride 2, padding 1 (the floor)": _geometry(5, 5, 2, 1, 2, 1),
    "padding=(2, 1), 5×5, kernel 3": _geometry(5, 5, 3, (2, 1), 1, 1),
    "3×3, kernel 2, padding (1, 1)": _geometry(3, 3, 2, 1, 1, 1),
    "4×4, kernel 2, stride (2, 2)": _geometry(4, 4, 2, 0, 2, 1),
    "3×3, kernel 2, stride (3, 2), padding 1": _geometry(3, 3, 2, 1, (3, 2), 1),
    "floor drops input: 5×5, kernel 2, stride 2": _geometry(5, 5, 2, 0, 2, 1),
    "dilation 2: 7×7, kernel 3": _geometry(7, 7, 3, 0, 1, 2),
    "stride 2, dilation 2: rows skipped": _geometry(7, 7, 2, 0, 2, 2),
}


@dataclass
class AxisArithmetic:
    """The output-size formula along one axis, filled in, beside what PyTorch did."""

    n: int
    k: int
    p: int
    s: int
    d: int
    numerator: int  # n + 2p - d(k - 1) - 1, the formula's inside
    torch_size: int | None  # the size F.conv2d returned along this axis (None: PyTorch refused)
    never_read: int  # trailing rows (columns) of the padded input that no placement reads
    lost: int  # how many of those hold input rather than padding


@dataclass
class ConvArithmeticState:
    """Everything the explorer shows. Tensors are float64; positions are (row, col) in the padded input."""

    X: torch.Tensor  # (H, W) the input: arange(H * W)
    kernel: torch.Tensor  # (kh, kw) arange(kh * kw)
    padded: torch.Tensor  # (H + 2ph, W + 2pw) X inside its zero border
    times_read: torch.Tensor  # (Hp, Wp) how many placements read each cell (autograd through F.conv2d)
    category: torch.Tensor  # (Hp, Wp) int64: INPUT, PADDING, DROPPED or SKIPPED
    padding: tuple[int, int]
    stride: tuple[int, int]
    dilation: tuple[int, int]
    axes: tuple[AxisArithmetic, AxisArithmetic]  # rows, columns
    output: torch.Tensor | None  # (out_h, out_w) F.conv2d(X, kernel, ...); None if PyTorch refused
    placement: int  # index of the placement shown (row-major over the output)
    row: int  # its output cell
    col: int
    taps: list[tuple[int, int]]  # the cells that placement reads
    anchors: list[tuple[int, int]]  # the top-left tap of every placement
    equation: str  # that placement's sum, written out
    message: str = ""  # PyTorch's refusal, if any
    numbers: str = "input values"  # what the padded grid writes in its cells: "input values" or "times read"


def _times_read(
    shape: tuple[int, int], kernel_size: tuple[int, int], stride: tuple[int, int], dilation: tuple[int, int]
) -> torch.Tensor:
    """(Hp, Wp): how many placements of F.conv2d read each cell: the gradient of the sum of a conv of ones."""
    ones = torch.ones(1, 1, *shape, dtype=torch.float64, requires_grad=True)
    with torch.enable_grad():
        kernel = torch.ones(1, 1, *kernel_size, dtype=torch.float64)
        F.conv2d(ones, kernel, stride=stride, dilation=dilation).sum().backward()
    return ones.grad[0, 0]


def _categories(times_read: torch.Tensor, inside: tuple[slice, slice], refused: bool) -> torch.Tensor:
    """(Hp, Wp) int64 codes: read cells are INPUT or PADDING; unread ones DROPPED (after the last read row or
    column) or SKIPPED (before it). When PyTorch refused, only input and padding are told apart."""
    is_input = torch.zeros(times_read.shape, dtype=torch.bool)
    is_input[inside] = True
    plain = torch.where(is_input, INPUT, PADDING)
    if refused:
        return plain
    read = times_read > 0
    last_row = int(read.any(dim=1).nonzero().max())
    last_col = int(read.any(dim=0).nonzero().max())
    after = torch.zeros_like(is_input)
    after[last_row + 1 :, :] = True
    after[:, last_col + 1 :] = True
    return torch.where(read, plain, torch.where(after, DROPPED, SKIPPED))


def _axis(n: int, k: int, p: int, s: int, d: int, torch_size: int | None, read_along: torch.Tensor) -> AxisArithmetic:
    """The filled-in formula for one axis; the unread tail is measured on `read_along` (cells read along it)."""
    never_read = lost = 0
    if torch_size is not None:
        last = int(read_along.nonzero().max())
        never_read = read_along.numel() - 1 - last
        lost = max(0, p + n - 1 - last)
    return AxisArithmetic(n, k, p, s, d, n + 2 * p - d * (k - 1) - 1, torch_size, never_read, lost)


@functools.lru_cache(maxsize=32)
def _geometry_state(H: int, W: int, kh: int, kw: int, ph: int, pw: int, sh: int, sw: int, dh: int, dw: int) -> tuple:
    """Everything that does not depend on the placement (cached: stepping through placements recomputes nothing).

    Returns (X, K, padded, output or None, message, times_read, category, rows, cols); never mutate these.
    """
    X = torch.arange(H * W, dtype=torch.float64).reshape(H, W)
    K = torch.arange(kh * kw, dtype=torch.float64).reshape(kh, kw)
    message, output = "", None
    padded = oracles.pad2d(X, (ph, pw))
    try:
        output = oracles.conv2d(X[None, None], K[None, None], stride=(sh, sw), padding=(ph, pw), dilation=(dh, dw))[
            0, 0
        ]
    except RuntimeError as exc:
        message = "PyTorch refuses:\n" + textwrap.fill(str(exc).splitlines()[0], 34)
    if output is None:
        times_read = torch.zeros_like(padded)
    else:
        times_read = _times_read(tuple(padded.shape), (kh, kw), (sh, sw), (dh, dw))
    category = _categories(times_read, (slice(ph, ph + H), slice(pw, pw + W)), output is None)
    rows = _axis(H, kh, ph, sh, dh, None if output is None else output.shape[0], times_read.sum(dim=1) > 0)
    cols = _axis(W, kw, pw, sw, dw, None if output is None else output.shape[1], times_read.sum(dim=0) > 0)
    return X, K, padded, output, message, times_read, category, rows, cols


def conv_arithmetic_state(
    H: int,
    W: int,
    kh: int,
    kw: int,
    ph: int = 0,
    pw: int = 0,
    sh: int = 1,
    sw: int = 1,
    dh: int = 1,
    dw: int = 1,
    placement: int = 0,
) -> ConvArithmeticState:
    """The explorer's state for an (H, W) input of arange values, an arange (kh, kw) kernel and the options.

    The output is ``F.conv2d``'s; which cells are read comes from autograd through it; `placement`
    is clamped to the output.
    """
    X, K, padded, output, message, times_read, category, rows, cols = _geometry_state(
        H, W, kh, kw, ph, pw, sh, sw, dh, dw
    )
    taps, anchors, equation, row, col = [], [], "", 0, 0
    if output is not None:
        out_h, out_w = output.shape
        placement = max(0, min(int(placement), out_h * out_w - 1))
        row, col = divmod(placement, out_w)
        taps = [(row * sh + i * dh, col * sw + j * dw) for i in range(kh) for j in range(kw)]
        anchors = [(r * sh, c * sw) for r in range(out_h) for c in range(out_w)]
        terms = " + ".join(
            f"{format_number(float(padded[t]))}×{format_number(float(k))}" for t, k in zip(taps, K.flatten().tolist())
        )
        equation = f"out[{row}, {col}] = {terms} = {format_number(float(output[row, col]))}"
    else:
        placement = 0
    return ConvArithmeticState(
        X,
        K,
        padded,
        times_read,
        category,
        (ph, pw),
        (sh, sw),
        (dh, dw),
        (rows, cols),
        output,
        placement,
        row,
        col,
        taps,
        anchors,
        equation,
        message,
    )


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def formula_html(axis: AxisArithmetic, name: str) -> str:
    """One line: the formula, with this axis's numbers, its value, PyTorch's size, and what the floor drops."""
    a = axis
    filled = (
        f"⌊({a.n} + 2·{a.p} − {a.d}·({a.k}−1) − 1) / {a.s}⌋ + 1 = ⌊{a.numerator} / {a.s}⌋ + 1 = "
        f"{a.numerator // a.s + 1}"
    )
    word = "row" if name == "rows" else "column"
    if a.torch_size is None:
        span, room = a.d * (a.k - 1) + 1, a.n + 2 * a.p
        verdict = (
            f"the kernel spans {span} {word}s, the padded input has only {room}: PyTorch refuses"
            if span > room
            else f"the kernel fits ({span} ≤ {room}); PyTorch refuses because of the other axis"
        )
    else:
        mark = "✓" if a.torch_size == a.numerator // a.s + 1 else "✗"
        verdict = f"PyTorch: {a.torch_size} {mark}"
        if a.never_read == 0:
            verdict += f"; remainder {a.numerator % a.s}: every {word} is read"
        else:
            what = "padding only, nothing lost" if a.lost == 0 else f"{_plural(a.lost, word)} of input lost"
            verdict += (
                f"; remainder {a.numerator} mod {a.s} = {a.numerator % a.s}: the last "
                f"{_plural(a.never_read, word)} never read ({what})"
            )
    return f"<b>{name}</b>: {filled} &nbsp;|&nbsp; {verdict}"


def _category_rgba(category: torch.Tensor) -> np.ndarray:
    """(Hp, Wp) codes -> (Hp, Wp, 4) RGBA colours."""
    palette = np.array([(*CATEGORY_COLORS[c], 1.0) for c in sorted(CATEGORY_COLORS)])
    return palette[category.numpy()]


class ConvArithmeticExplorer(CourseWidget[ConvArithmeticState]):
    """Input size, kernel, padding, stride, dilation per axis: the padded grid coloured by what is read,
    every placement's top-left tap (dots), one placement's taps, the output by F.conv2d, and the
    output-size formula filled in beside PyTorch's shape."""

    MAX_TAPS = 16  # kernels up to 4x4
    PARAMETERS = (
        ("input", "H", "W", 1, 7),
        ("kernel", "kh", "kw", 1, 4),
        ("padding", "ph", "pw", 0, 2),
        ("stride", "sh", "sw", 1, 4),
        ("dilation", "dh", "dw", 1, 3),
    )

    def __init__(self) -> None:
        self.preset = PresetMenu(PRESETS, lambda preset: self.set(**preset, placement=0), description="example")
        self.formula = widgets.HTML()
        self.equation = widgets.HTML()
        start = PRESETS[next(iter(PRESETS))]
        controls: dict[str, widgets.Widget] = {
            name: widgets.IntSlider(
                start[name],
                min=low,
                max=high,
                description=name,
                layout=widgets.Layout(width="250px"),
                style={"description_width": "30px"},
            )
            for _, row, col, low, high in self.PARAMETERS
            for name in (row, col)
        }
        controls["placement"] = widgets.IntSlider(
            0, min=0, max=8, description="placement", layout=widgets.Layout(width="420px")
        )
        controls["numbers"] = widgets.ToggleButtons(options=["input values", "times read"], description="numbers")
        super().__init__(controls, play="placement")

    def layout(self) -> widgets.Widget:
        """One row per parameter, its rows and columns sliders side by side, under the example menu."""
        c = self.controls
        cells: list[widgets.Widget] = [widgets.Label(""), widgets.Label("rows"), widgets.Label("columns")]
        for label, row, col, _, _ in self.PARAMETERS:
            cells += [widgets.Label(label), c[row], c[col]]
        grid = widgets.GridBox(cells, layout=widgets.Layout(grid_template_columns="80px 260px 260px"))
        return widgets.VBox(
            [
                self.preset,
                grid,
                self.controls_row(["placement", "numbers"]),
                self.formula,
                self.equation,
                self.figure_image.image,
                self.errors,
            ]
        )

    @staticmethod
    def geometry(state: ConvArithmeticState) -> dict[str, int]:
        """The control values of the state's geometry."""
        (H, W), (kh, kw) = state.X.shape, state.kernel.shape
        return _geometry(H, W, (kh, kw), state.padding, state.stride, state.dilation)

    def follow(self, state: ConvArithmeticState) -> None:
        """The placement slider's range is the output; the example menu names the current settings."""
        self.controls["placement"].max = 0 if state.output is None else state.output.numel() - 1
        self.preset.follow(self.geometry(state))

    def compute(self, placement: int, numbers: str, **geometry: int) -> ConvArithmeticState:
        state = conv_arithmetic_state(placement=placement, **geometry)
        state.numbers = numbers
        return state

    def build(self) -> tuple[Figure, dict]:
        fig = new_figure(10, 4.8)
        grid = fig.add_gridspec(
            1, 3, width_ratios=[5, 2, 4], left=0.015, right=0.985, top=0.9, bottom=0.17, wspace=0.08
        )
        ax_in, ax_k, ax_out = (fig.add_subplot(grid[0, i]) for i in range(3))
        blank = torch.zeros(1, 1)
        # a white base (fixed, huge vmax) under an opaque overlay that colours each cell by its category
        padded = MatrixView(ax_in, blank, cmap="Greys", vmin=0, vmax=1e12, title="padded input")
        overlay = ax_in.imshow(np.ones((1, 1, 4)), interpolation="nearest", zorder=1)
        border = Rectangle((-0.5, -0.5), 1, 1, fill=False, edgecolor="black", linewidth=1.5, linestyle="--", zorder=3)
        ax_in.add_patch(border)
        anchors = Line2D([], [], linestyle="none", marker="o", markersize=3.5, color="black", zorder=3)
        ax_in.add_line(anchors)
        fig.legend(
            handles=[
                Patch(facecolor=CATEGORY_COLORS[c], edgecolor="gray", label=CATEGORY_NAMES[c])
                for c in sorted(CATEGORY_NAMES)
            ]
            + [
                Line2D(
                    [],
                    [],
                    linestyle="none",
                    marker="o",
                    markersize=4,
                    color="black",
                    label="top-left tap of each placement",
                )
            ],
            loc="lower left",
            bbox_to_anchor=(0.01, 0.0),
            ncol=3,
            fontsize=10,
            frameon=False,
        )
        artists = {
            "padded": padded,
            "overlay": overlay,
            "border": border,
            "anchors": anchors,
            "span": WindowHighlight(ax_in, color="red", linewidth=1.2, linestyle=":"),
            "taps": [WindowHighlight(ax_in, color="red", linewidth=2.2) for _ in range(self.MAX_TAPS)],
            "frames": [steady_axes(ax) for ax in (ax_in, ax_k, ax_out)],
            "kernel": MatrixView(ax_k, blank, cmap="Purples", title="kernel"),
            "output": MatrixView(ax_out, blank, cmap="Oranges", title="output"),
            "cell": WindowHighlight(ax_out, color="red"),
            "message": fig.text(0.8, 0.55, "", ha="center", va="center", color="darkred", fontsize=10),
        }
        return fig, artists

    MAX_NUMBERED = 121  # a larger output is drawn without its numbers (every text costs about half a ms)

    def _show(self, name: str, frame: int, values: torch.Tensor, title: str, marker: Line2D | None = None) -> None:
        """Update MatrixView `name` with `values`, then fit its numbers and centre it with square cells."""
        view = self.artists[name]
        view.numbers = values.numel() <= self.MAX_NUMBERED  # read when the shape changes and numbers are made
        view.update(values, title=title)
        fit_numbers(view, marker)
        square_cells(view.ax, self.artists["frames"][frame], *values.shape)

    def draw(self, state: ConvArithmeticState) -> None:
        a = self.artists
        Hp, Wp = state.padded.shape
        (ph, pw), (H, W) = state.padding, state.X.shape
        (kh, kw), (dh, dw), (sh, sw) = state.kernel.shape, state.dilation, state.stride
        reads = state.numbers == "times read"
        what = "times each cell is read" if reads else "padded input"
        self._show(
            "padded",
            0,
            state.times_read if reads else state.padded,
            f"{what}: {Hp}×{Wp} = {H}×{W} + padding ({ph}, {pw})",
            a["anchors"],
        )
        geometry = (state.category.shape, state.padding, state.stride, state.dilation, state.kernel.shape)
        if a.get("geometry") != geometry:  # only then: touching these artists redraws the whole grid
            a["geometry"] = geometry
            a["overlay"].set_data(_category_rgba(state.category))
            a["overlay"].set_extent((-0.5, Wp - 0.5, Hp - 0.5, -0.5))
            a["border"].set_bounds(pw - 0.5, ph - 0.5, W, H)
            a["anchors"].set_data([c - 0.3 for _, c in state.anchors], [r - 0.3 for r, _ in state.anchors])
        self._show("kernel", 1, state.kernel, f"kernel {kh}×{kw}\ndilation ({dh}, {dw})")
        ok = state.output is not None
        for i, tap in enumerate(a["taps"]):
            tap.set_visible(ok and i < len(state.taps))
            if ok and i < len(state.taps):
                tap.move(*state.taps[i], 1, 1)
        a["span"].set_visible(ok)
        a["cell"].set_visible(ok)
        if a["output"].ax.get_visible() != ok:
            a["output"].ax.set_visible(ok)
        if a["message"].get_text() != state.message:
            a["message"].set_text(state.message)
        if ok:
            (top, left), (bottom, right) = state.taps[0], state.taps[-1]
            a["span"].move(top, left, bottom - top + 1, right - left + 1)
            out_h, out_w = state.output.shape
            self._show("output", 2, state.output, f"output {out_h}×{out_w} (F.conv2d)\nstride ({sh}, {sw})")
            a["cell"].move(state.row, state.col, 1, 1)
        self.formula.value = "<br>".join(
            [formula_html(state.axes[0], "rows"), formula_html(state.axes[1], "columns"), self._torch_line(state)]
        )
        self.equation.value = f"<code>{state.equation}</code>" if ok else ""

    @staticmethod
    def _torch_line(state: ConvArithmeticState) -> str:
        H, W = state.X.shape
        kh, kw = state.kernel.shape
        call = (
            f"F.conv2d(X (1, 1, {H}, {W}), W (1, 1, {kh}, {kw}), stride={state.stride}, "
            f"padding={state.padding}, dilation={state.dilation})"
        )
        result = (
            "refused" if state.output is None else f"shape (1, 1, {state.output.shape[0]}, {state.output.shape[1]})"
        )
        return f"<code>{call}</code> → {result}"

    def displayed_output(self) -> torch.Tensor:
        """The output grid as displayed."""
        return self.artists["output"].values()

    def displayed_numbers(self) -> torch.Tensor:
        """The numbers written in the padded grid (input values or times read)."""
        return self.artists["padded"].values()

    def displayed_categories(self) -> torch.Tensor:
        """(Hp, Wp) category codes read back from the overlay's colours."""
        rgba = np.asarray(self.artists["overlay"].get_array())[..., :3]
        codes = torch.full(rgba.shape[:2], -1, dtype=torch.int64)
        for code, color in CATEGORY_COLORS.items():
            codes[torch.from_numpy(np.all(np.isclose(rgba, color), axis=-1))] = code
        return codes

    def displayed_taps(self) -> list[tuple[int, int]]:
        """(row, col) of the visible tap outlines."""
        return [t.position[:2] for t in self.artists["taps"] if t.patch.get_visible()]

    def displayed_anchors(self) -> list[tuple[int, int]]:
        """(row, col) of the cells marked as a placement's top-left tap."""
        xs, ys = self.artists["anchors"].get_data()
        return [(round(y + 0.3), round(x + 0.3)) for x, y in zip(xs, ys)]


# ------------------------------------------------------------------------------------------------
# 2. the receptive-field explorer

MAX_LAYERS = 4
LAST_MAP_SIDE = 3  # the last map is 3x3 units: the input is made just large enough for that

#: Named stacks: name -> [(kernel_size, stride), ...].
RF_PRESETS: dict[str, list[tuple[int, int]]] = {
    "three 3×3 layers, stride 1": [(3, 1)] * 3,
    "three 3×3 layers, stride 2": [(3, 2)] * 3,
    "the ReLU LeNet of 06: conv 5, pool 2, conv 3, pool 2": examples.relu_lenet_layers(),
    "kernel 2 smaller than stride 3: gaps": [(2, 3), (2, 1)],
    "1×1 kernels see one pixel": [(1, 1), (1, 2), (1, 1)],
}


@dataclass
class ReceptiveFieldState:
    """The stack, the chosen unit of its last map, and which units of every map feed that unit."""

    layers: list[tuple[int, int]]  # (kernel_size, stride) per layer
    unit: tuple[int, int]  # (row, col) of the chosen unit in the last map
    paths: list[torch.Tensor]  # [input, map 1, ..., map L]: paths from each unit to the chosen one
    regions: list[tuple[int, int, int, int]]  # per map: (top, left, height, width) around the units it depends on
    fields: list[int]  # fields[l]: side of the input region one unit of map l sees (fields[0] = 1)
    jumps: list[int]  # jumps[l]: input cells between neighbouring units of map l (strides so far)


def _bounding_box(paths: torch.Tensor) -> tuple[int, int, int, int]:
    rows, cols = paths.sum(dim=1).nonzero(), paths.sum(dim=0).nonzero()
    top, left = int(rows.min()), int(cols.min())
    return top, left, int(rows.max()) - top + 1, int(cols.max()) - left + 1


@functools.lru_cache(maxsize=64)
def _fields(layers: tuple[tuple[int, int], ...]) -> tuple[int, ...]:
    """Side of the input region one unit of each map sees (the input's own units: 1), by brute force."""
    return tuple(oracles.receptive_field(list(layers[:depth])) for depth in range(len(layers) + 1))


def receptive_field_state(layers: list[tuple[int, int]], unit: int = 4) -> ReceptiveFieldState:
    """For a stack of (kernel_size, stride) layers, the units of every map that the `unit`-th (row-major) unit
    of the 3×3 last map depends on, by autograd through F.conv2d (``oracles.stack_paths``); the region one
    unit of each map sees by brute force (``oracles.receptive_field``)."""
    fields = list(_fields(tuple(layers)))
    jumps = [1]
    for _, stride in layers:
        jumps.append(jumps[-1] * stride)
    size = fields[-1] + (LAST_MAP_SIDE - 1) * jumps[-1]
    row, col = divmod(unit, LAST_MAP_SIDE)
    paths = oracles.stack_paths(layers, size, (row, col))
    return ReceptiveFieldState(list(layers), (row, col), paths, [_bounding_box(p) for p in paths], fields, jumps)


def receptive_field_table(state: ReceptiveFieldState) -> str:
    """An HTML table: per layer its kernel, stride, map size, jump, and the input region one unit sees."""
    head = (
        "<tr><th>map</th><th>k</th><th>s</th><th>size</th><th>jump j</th>"
        "<th>one unit sees</th><th>r = r<sub>prev</sub> + (k − 1)·j<sub>prev</sub></th></tr>"
    )
    rows = [
        f"<tr><td>input</td><td></td><td></td><td>{state.paths[0].shape[0]}</td><td>1</td><td>1×1</td><td></td></tr>"
    ]
    for depth, (k, s) in enumerate(state.layers, start=1):
        r, prev, jump = state.fields[depth], state.fields[depth - 1], state.jumps[depth - 1]
        size = state.paths[depth].shape[0]
        rows.append(
            f"<tr><td>layer {depth}</td><td>{k}</td><td>{s}</td><td>{size}</td><td>{state.jumps[depth]}</td>"
            f"<td><b>{r}×{r}</b></td><td>{prev} + ({k} − 1)·{jump} = {r}</td></tr>"
        )
    style = "<style>.rf-table td, .rf-table th {padding: 0 10px; text-align: center}</style>"
    return f"{style}<table class='rf-table'>{head}{''.join(rows)}</table>"


class ReceptiveFieldExplorer(CourseWidget[ReceptiveFieldState]):
    """A stack of up to four (kernel, stride) layers: the input and every map, the chosen unit of the
    last map, the units it depends on in every earlier map (numbers: how many paths lead to it), and
    the region it sees growing layer by layer."""

    def __init__(self) -> None:
        self.preset = PresetMenu(RF_PRESETS, lambda layers: self.set(**self.preset_values(layers)), description="stack")
        self.table = widgets.HTML()
        super().__init__(self._controls(), play="unit")

    @staticmethod
    def preset_values(layers: list[tuple[int, int]]) -> dict[str, int]:
        """Control values for a stack: its depth and each layer's kernel and stride (unused layers: 3 and 1)."""
        values = {"layers": len(layers)}
        for i in range(MAX_LAYERS):
            k, s = layers[i] if i < len(layers) else (3, 1)
            values[f"k{i + 1}"], values[f"s{i + 1}"] = k, s
        return values

    @classmethod
    def _controls(cls) -> dict[str, widgets.Widget]:
        start = cls.preset_values(next(iter(RF_PRESETS.values())))
        wide = {"layout": widgets.Layout(width="300px"), "style": {"description_width": "50px"}}
        controls: dict[str, widgets.Widget] = {
            "layers": widgets.IntSlider(start["layers"], min=1, max=MAX_LAYERS, description="layers", **wide),
            "unit": widgets.IntSlider(4, min=0, max=LAST_MAP_SIDE**2 - 1, description="unit", **wide),
        }
        for i in range(1, MAX_LAYERS + 1):
            controls[f"k{i}"] = widgets.IntSlider(start[f"k{i}"], min=1, max=5, description=f"k{i}", **wide)
        for i in range(1, MAX_LAYERS + 1):
            controls[f"s{i}"] = widgets.IntSlider(start[f"s{i}"], min=1, max=3, description=f"s{i}", **wide)
        return controls

    def layout(self) -> widgets.Widget:
        """The stack menu and depth, the unit with its Play button, then one row per layer: kernel, stride."""
        c = self.controls
        cells: list[widgets.Widget] = [widgets.Label(""), widgets.Label("kernel size"), widgets.Label("stride")]
        for i in range(1, MAX_LAYERS + 1):
            cells += [widgets.Label(f"layer {i}"), c[f"k{i}"], c[f"s{i}"]]
        grid = widgets.GridBox(cells, layout=widgets.Layout(grid_template_columns="70px 310px 310px"))
        return widgets.VBox(
            [
                widgets.HBox([self.preset, self.controls_row(["layers"])]),
                self.controls_row(["unit"]),
                grid,
                self.table,
                self.figure_image.image,
                self.errors,
            ]
        )

    @staticmethod
    def layers_from(values: dict) -> list[tuple[int, int]]:
        return [(values[f"k{i}"], values[f"s{i}"]) for i in range(1, values["layers"] + 1)]

    def follow(self, state: ReceptiveFieldState) -> None:
        """Grey out the sliders of unused layers; the stack menu names the current stack."""
        for i in range(1, MAX_LAYERS + 1):
            for name in (f"k{i}", f"s{i}"):
                if self.controls[name].disabled != (i > len(state.layers)):
                    self.controls[name].disabled = i > len(state.layers)
        self.preset.follow(state.layers)

    def compute(self, unit: int, layers: int, **sizes: int) -> ReceptiveFieldState:
        return receptive_field_state(self.layers_from({"layers": layers, **sizes}), unit)

    def build(self) -> tuple[Figure, dict]:
        fig = new_figure(11, 3.4)
        axes = fig.subplots(1, MAX_LAYERS + 1)
        blank = torch.zeros(1, 1)
        views = [MatrixView(ax, blank, cmap="Blues", vmin=0) for ax in axes]
        frames = [steady_axes(ax) for ax in axes]
        for view in views:
            view.image.set_cmap(view.image.get_cmap().with_extremes(bad="#e4e4e4"))  # cells it does not depend on (NaN)
        regions = [WindowHighlight(ax, color="red", linewidth=1.8, linestyle="--") for ax in axes]
        units = [WindowHighlight(ax, color="red", linewidth=2.5) for ax in axes]
        return fig, {"views": views, "regions": regions, "units": units, "frames": frames, "panels": 0}

    def draw(self, state: ReceptiveFieldState) -> None:
        a = self.artists
        last = len(state.layers)
        self.table.value = receptive_field_table(state)
        if a["panels"] != last + 1:  # spread the visible panels over the whole width
            a["panels"] = last + 1
            gap, width = 0.02, (0.98 - 0.02 * last) / (last + 1)
            for i, view in enumerate(a["views"][: last + 1]):
                view.ax.set_position([0.01 + i * (width + gap), 0.02, width, 0.8])
        for i, (view, region, unit) in enumerate(zip(a["views"], a["regions"], a["units"])):
            visible = i <= last
            if view.ax.get_visible() != visible:
                view.ax.set_visible(visible)
            if not visible:
                continue
            paths = state.paths[i]
            side = paths.shape[0]
            shown = torch.where(paths > 0, paths, torch.full_like(paths, float("nan")))
            top, left, height, width = state.regions[i]
            if i == 0:
                title = f"input {side}×{side}\nthe unit sees {height}×{width}"
            else:
                k, s = state.layers[i - 1]
                what = "the chosen unit" if i == last else f"{height}×{width} units feed it"
                title = f"layer {i} (k={k}, s={s}): {side}×{side}\n{what}"
            view.numbers = side <= 12  # larger maps are drawn without numbers (read when the shape changes)
            view.update(shown, title=title)
            fit_numbers(view)
            square_cells(view.ax, a["frames"][i], side, side)
            region.set_visible(i < last)
            unit.set_visible(i == last)
            if i < last:
                region.move(top, left, height, width)
            else:
                unit.move(top, left, 1, 1)

    def displayed_paths(self) -> list[torch.Tensor]:
        """Per visible map, the path counts as displayed (0 where the cell is blank)."""
        return [v.values().nan_to_num(0.0) for v in self.artists["views"] if v.ax.get_visible()]

    def displayed_regions(self) -> list[tuple[int, int, int, int]]:
        """Per visible map before the last, the outlined region (top, left, height, width)."""
        return [
            r.position
            for r, v in zip(self.artists["regions"], self.artists["views"])
            if v.ax.get_visible() and r.patch.get_visible()
        ]
