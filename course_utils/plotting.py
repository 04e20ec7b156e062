"""Drawing helpers that redraw instead of rebuilding: matrices with their numbers, windows, map grids.

Every helper creates its artists once and offers ``update``; figures are plain
``matplotlib.figure.Figure`` objects (no pyplot state), shown in notebooks as PNG through
``FigureImage``.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence

import ipywidgets as widgets
import torch
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.transforms import Bbox

__all__ = [
    "FeatureMapGrid",
    "FigureImage",
    "MatrixView",
    "WindowHighlight",
    "figure_to_png",
    "fit_numbers",
    "format_number",
    "new_figure",
    "square_cells",
    "steady_axes",
    "timing_plot",
]

MAX_NUMBERED_CELLS = 400  # larger matrices are drawn without their numbers
MIN_TEXT = 10  # points (pixels at the course's 72 dpi): numbers that would be smaller are not written


def new_figure(width: float, height: float, dpi: int = 72) -> Figure:
    """A Figure with its own Agg canvas (no pyplot, so nothing leaks between widgets)."""
    fig = Figure(figsize=(width, height), dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


def figure_to_png(fig: Figure) -> bytes:
    """Render all of `fig` (animated artists included) to PNG bytes."""
    fig.canvas.draw()
    _draw_animated(fig)
    return _encode_png(fig)


def _draw_animated(fig: Figure) -> None:
    """Draw the animated artists (of the axes, and figure-level texts) over what the canvas holds."""
    renderer = fig.canvas.get_renderer()
    for ax in fig.axes:
        for artist in ax.get_children():
            if artist.get_animated() and artist.get_visible() and ax.get_visible():
                artist.draw(renderer)
                artist.stale = False
        ax.stale = False
    for text in fig.texts:  # an empty text is never drawn, so matplotlib never clears its flag
        if text.get_animated() and text.get_visible():
            text.draw(renderer)
        text.stale = False
    if getattr(fig, "_suptitle", None) is not None:
        fig._suptitle.stale = False
    fig.stale = False


def _encode_png(fig: Figure) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.frombuffer("RGBA", fig.canvas.get_width_height(), fig.canvas.buffer_rgba(), "raw", "RGBA", 0, 1).save(
        buffer, format="png", compress_level=1
    )
    return buffer.getvalue()


def format_number(value: float) -> str:
    """How a matrix cell shows its value: integers without decimals, others short."""
    if value != value:  # NaN: a cell not computed yet
        return ""
    if float(value).is_integer() and abs(value) < 1e6:
        return str(int(value))
    return f"{value:.2f}" if abs(value) < 100 else f"{value:.0f}"


class MatrixView:
    """A 2-D matrix (H, W) drawn on `ax` with each cell's number written in it.

    ``update(values)`` changes colours and texts in place (new Text objects only when the shape
    changes; nothing at all when neither values nor title changed). NaN cells are drawn blank.
    Matrices of more than ``MAX_NUMBERED_CELLS`` cells, or whose numbers would be smaller than
    ``MIN_TEXT`` points (more than 12 cells a side), or ``numbers=False``, get no numbers.
    ``values()`` and ``texts()`` return what is displayed.
    """

    def __init__(
        self,
        ax: Axes,
        values: torch.Tensor,
        cmap: str = "viridis",
        title: str = "",
        vmin: float | None = None,
        vmax: float | None = None,
        numbers: bool = True,
    ):
        self.ax = ax
        self.numbers = numbers
        self.cmap = cmap
        self._fixed = (vmin, vmax)
        ax.set_xticks([])
        ax.set_yticks([])
        self.title = ax.set_title(title, fontsize=10)
        values = self._as_2d(values)
        self.image = ax.imshow(values.numpy(), cmap=cmap, interpolation="nearest")
        self._texts: list = []
        self._spare: list = []  # Text objects of a larger earlier shape, emptied, for the next one
        self._values = values
        self._build_texts(values)
        self.update(values)

    @staticmethod
    def _as_2d(values: torch.Tensor) -> torch.Tensor:
        values = torch.as_tensor(values).detach().to("cpu", torch.float64)
        if values.dim() != 2:
            raise ValueError(f"MatrixView draws a 2-D matrix; got shape {tuple(values.shape)}")
        return values

    def _build_texts(self, values: torch.Tensor) -> None:
        """One number per cell for the new shape. The Text objects of earlier shapes are moved and reused,
        new ones made only for cells beyond them, and the rest emptied: making a Text costs more than
        drawing it, and a widget changes shape on every other slider move."""
        rows, cols = values.shape
        size = min(11, 120 / max(rows, cols))
        numbered = self.numbers and rows * cols <= MAX_NUMBERED_CELLS and size >= MIN_TEXT
        cells = [(r, c) for r in range(rows) for c in range(cols)] if numbered else []
        pool = self._texts + self._spare
        for text, (r, c) in zip(pool, cells):
            text.set_position((c, r))
            text.set_fontsize(size)
            text.set_visible(True)
        # clipped to the axes: a number never spills out, and layout checks can skip the texts
        made = [
            self.ax.text(c, r, "", ha="center", va="center", fontsize=size, clip_on=True) for r, c in cells[len(pool) :]
        ]
        self._texts, self._spare = pool[: len(cells)] + made, pool[len(cells) :]
        for text in self._spare:
            if text.get_text():
                text.set_text("")

    def update(self, values: torch.Tensor, title: str | None = None) -> None:
        """Show `values` (same or new shape) without recreating the image."""
        values = self._as_2d(values)
        unchanged = (
            values.shape == self._values.shape
            and torch.equal(values.isnan(), self._values.isnan())
            and torch.equal(values.nan_to_num(), self._values.nan_to_num())
        )
        if unchanged and getattr(self, "_drawn", False) and (title is None or title == self.title.get_text()):
            return
        self._drawn = True
        if values.shape != self._values.shape:
            self._build_texts(values)
            rows, cols = values.shape
            self.image.set_extent((-0.5, cols - 0.5, rows - 0.5, -0.5))
            self.ax.set_xlim(-0.5, cols - 0.5)
            self.ax.set_ylim(rows - 0.5, -0.5)
        self._values = values
        finite = values[torch.isfinite(values)]
        lo = float(finite.min()) if finite.numel() else 0.0
        hi = float(finite.max()) if finite.numel() else 1.0
        lo = lo if self._fixed[0] is None else self._fixed[0]
        hi = hi if self._fixed[1] is None else self._fixed[1]
        if hi <= lo:
            hi = lo + 1.0
        self.image.set_data(values.numpy())
        self.image.set_clim(lo, hi)
        if self._texts:
            flat = values.flatten()
            rgba = self.image.cmap(self.image.norm(torch.where(torch.isfinite(flat), flat, lo).numpy()))
            luminance = rgba[:, 0] * 0.299 + rgba[:, 1] * 0.587 + rgba[:, 2] * 0.114
            for text, value, light in zip(self._texts, flat.tolist(), (luminance > 0.5).tolist()):
                text.set_text(format_number(value))
                text.set_color("black" if light else "white")
        if title is not None:
            self.title.set_text(title)

    def values(self) -> torch.Tensor:
        """The matrix currently displayed (float64)."""
        return self._values.clone()

    def texts(self) -> list[list[str]]:
        """The numbers currently written in the cells, row by row ([] when drawn without numbers)."""
        if not self._texts:
            return []
        cols = self._values.shape[1]
        flat = [t.get_text() for t in self._texts]
        return [flat[i : i + cols] for i in range(0, len(flat), cols)]


class WindowHighlight:
    """An outlined (h, w) window whose top-left cell is (row, col), on a MatrixView's axes."""

    def __init__(
        self,
        ax: Axes,
        row: int = 0,
        col: int = 0,
        h: int = 1,
        w: int = 1,
        color: str = "red",
        linewidth: float = 2.5,
        linestyle: str = "-",
    ):
        self.patch = Rectangle(
            (col - 0.5, row - 0.5),
            w,
            h,
            fill=False,
            edgecolor=color,
            linewidth=linewidth,
            linestyle=linestyle,
            animated=True,
        )
        # animated: FigureImage draws it on top, so moving it redraws nothing
        ax.add_patch(self.patch)

    def move(self, row: int, col: int, h: int | None = None, w: int | None = None) -> None:
        """Put the window's top-left cell at (row, col); change its size if h or w are given."""
        self.patch.set_xy((col - 0.5, row - 0.5))
        if h is not None:
            self.patch.set_height(h)
        if w is not None:
            self.patch.set_width(w)

    def set_visible(self, visible: bool) -> None:
        if self.patch.get_visible() != visible:
            self.patch.set_visible(visible)

    @property
    def position(self) -> tuple[int, int, int, int]:
        """(row, col, h, w) of the window."""
        x, y = self.patch.get_xy()
        return (round(y + 0.5), round(x + 0.5), round(self.patch.get_height()), round(self.patch.get_width()))


class FeatureMapGrid:
    """A grid of `capacity` images with titles, one per 2-D map; unused axes are hidden.

    ``update(maps, titles, cmaps)`` touches only the maps, titles and colormaps that changed, so
    FigureImage redraws only those axes.
    """

    def __init__(self, fig: Figure, capacity: int, ncols: int, cmap: str = "gray", slots=None):
        """`slots`: where the axes go, e.g. the cells of a gridspec (default: a capacity/ncols grid over `fig`)."""
        nrows = (capacity + ncols - 1) // ncols
        self.cmap = cmap
        if slots is None:
            self.axes = [fig.add_subplot(nrows, ncols, i + 1) for i in range(capacity)]
        else:
            self.axes = [fig.add_subplot(slot) for slot in list(slots)[:capacity]]
        self.images = []
        self._shown: list[torch.Tensor | None] = [None] * capacity
        for ax in self.axes:
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title("", fontsize=10)
            self.images.append(ax.imshow([[0.0]], cmap=cmap, interpolation="nearest"))

    def update(
        self, maps: Sequence[torch.Tensor], titles: Sequence[str] | None = None, cmaps: Sequence[str] | None = None
    ) -> None:
        """Show maps[i] (each (H_i, W_i)) in axes i with titles[i] and cmaps[i]; hide the axes left over."""
        if len(maps) > len(self.axes):
            raise ValueError(f"{len(maps)} maps for a grid of {len(self.axes)}")
        titles = list(titles) if titles is not None else [""] * len(maps)
        cmaps = list(cmaps) if cmaps is not None else [self.cmap] * len(maps)
        for i, (ax, image) in enumerate(zip(self.axes, self.images)):
            visible = i < len(maps)
            if ax.get_visible() != visible:
                ax.set_visible(visible)
            if not visible:
                continue
            if ax.title.get_text() != titles[i]:
                ax.title.set_text(titles[i])
            if image.get_cmap().name != cmaps[i]:
                image.set_cmap(cmaps[i])
            m = torch.as_tensor(maps[i]).detach().to("cpu", torch.float64)
            if self._shown[i] is not None and self._shown[i].shape == m.shape and torch.equal(self._shown[i], m):
                continue
            self._shown[i] = m.clone()
            rows, cols = m.shape
            image.set_data(m.numpy())
            image.set_extent((-0.5, cols - 0.5, rows - 0.5, -0.5))
            ax.set_xlim(-0.5, cols - 0.5)
            ax.set_ylim(rows - 0.5, -0.5)
            lo, hi = float(m.min()), float(m.max())
            image.set_clim(lo, hi if hi > lo else lo + 1)

    def displayed(self) -> list[torch.Tensor]:
        """The maps currently shown (float64), in order."""
        return [torch.as_tensor(im.get_array().data) for ax, im in zip(self.axes, self.images) if ax.get_visible()]

    def titles(self) -> list[str]:
        """The titles currently shown, in order."""
        return [ax.title.get_text() for ax in self.axes if ax.get_visible()]


class FigureImage:
    """A Figure shown as PNG in an ``ipywidgets.Image``; ``refresh()`` re-renders what changed.

    The first refresh draws everything. Later ones start from the cached last frame without its
    animated artists, redraw only the axes matplotlib marks stale, then draw the animated artists
    (moving highlights, markers, changing titles, animated figure texts) on top: an update costs
    what it changed. A changed non-animated figure-level text, or a resize, triggers a full redraw.
    """

    def __init__(self, fig: Figure):
        self.figure = fig
        width, _ = fig.canvas.get_width_height()
        # at its native size: a flex column would stretch it to the widest control row (blurry)
        self.image = widgets.Image(
            format="png", layout=widgets.Layout(width=f"{width}px", max_width="100%", align_self="flex-start")
        )
        self._cache: dict | None = None

    def _figure_texts(self) -> list:
        """Figure-level texts drawn with the figure (animated ones are drawn on top each refresh)."""
        texts = [t for t in self.figure.texts if not t.get_animated()]
        if getattr(self.figure, "_suptitle", None) is not None:
            texts.append(self.figure._suptitle)
        return texts

    def _full_draw(self) -> None:
        fig, canvas = self.figure, self.figure.canvas
        shown = [(ax, ax.get_visible()) for ax in fig.axes]
        for ax, _ in shown:
            ax.set_visible(False)
        canvas.draw()  # everything but the axes: the blank each axes region is cleared to
        renderer = canvas.get_renderer()
        boxes = {}
        for ax, _ in shown:
            ax.set_visible(True)
            box = ax.get_tightbbox(renderer, for_layout_only=False) or ax.bbox
            ax.set_visible(False)
            boxes[ax] = Bbox.intersection(box.padded(4), fig.bbox) or fig.bbox
        blanks = {ax: canvas.copy_from_bbox(box) for ax, box in boxes.items()}
        for ax, visible in shown:
            ax.set_visible(visible)
        canvas.draw()
        regions = {ax: (box, blanks[ax]) for ax, box in boxes.items()}
        self._cache = {"size": canvas.get_width_height(), "regions": regions, "clean": canvas.copy_from_bbox(fig.bbox)}

    def _partial_draw(self) -> bool:
        fig, canvas, cache = self.figure, self.figure.canvas, self._cache
        if (
            cache is None
            or cache["size"] != canvas.get_width_height()
            or set(cache["regions"]) != set(fig.axes)
            or any(t.stale for t in self._figure_texts())
        ):
            return False
        renderer = canvas.get_renderer()
        canvas.restore_region(cache["clean"])  # the last frame without its animated artists
        for ax in fig.axes:
            box, blank = cache["regions"][ax]
            if ax.stale:
                if ax.get_visible():
                    needed = ax.get_tightbbox(renderer, for_layout_only=False)
                    if needed is not None and not (
                        box.contains(needed.x0 + 1, needed.y0 + 1) and box.contains(needed.x1 - 1, needed.y1 - 1)
                    ):
                        return False
                canvas.restore_region(blank)
                ax.draw(renderer)
        cache["clean"] = canvas.copy_from_bbox(fig.bbox)
        return True

    def refresh(self) -> bytes:
        """Render the figure (only what changed) into the image widget; returns the PNG bytes."""
        if not self._partial_draw():
            self._full_draw()
        _draw_animated(self.figure)
        png = _encode_png(self.figure)
        self.image.value = png
        return png


# --- matrices in a fixed box: square cells whatever the shape, numbers sized to the cells ---------------


def steady_axes(ax: Axes) -> Rectangle:
    """Keep `ax`'s box fixed whatever the matrix shape (``square_cells`` moves the data limits instead),
    hide its spines, and return a frame to outline the matrix. A fixed box means a shape change redraws
    just this axes, and nothing of an older, larger box is left behind."""
    ax.set_aspect("auto")
    for spine in ax.spines.values():
        spine.set_visible(False)
    frame = Rectangle((-0.5, -0.5), 1, 1, fill=False, edgecolor="black", linewidth=0.8, zorder=3)
    ax.add_patch(frame)
    return frame


def square_cells(ax: Axes, frame: Rectangle, rows: int, cols: int) -> None:
    """Centre a (rows, cols) matrix in `ax`'s fixed box with square cells, and outline it with `frame`."""
    box = ax.get_position(original=True)  # (the active one would apply the aspect and mark the axes stale)
    width, height = box.width * ax.figure.get_figwidth(), box.height * ax.figure.get_figheight()
    per_inch = max(cols / width, rows / height)  # data units per inch: the tighter direction fills the box
    half_w, half_h = per_inch * width / 2, per_inch * height / 2
    xlim = ((cols - 1) / 2 - half_w, (cols - 1) / 2 + half_w)
    ylim = ((rows - 1) / 2 + half_h, (rows - 1) / 2 - half_h)  # rows go down
    if ax.get_xlim() != xlim:
        ax.set_xlim(xlim)
    if ax.get_ylim() != ylim:
        ax.set_ylim(ylim)
    if (frame.get_width(), frame.get_height()) != (cols, rows):
        frame.set_bounds(-0.5, -0.5, cols, rows)


def fit_numbers(view: MatrixView, marker: Line2D | None = None, smallest: float = MIN_TEXT) -> None:
    """Size `view`'s numbers (and `marker`) to its cells: the longest number must fit one cell's width.

    MatrixView sizes its numbers by the cell count alone; this also counts digits. Numbers that would
    be smaller than `smallest` points are hidden (the colours still show the values).
    """
    ax = view.ax
    rows, cols = view.image.get_array().shape[:2]
    box = ax.get_position(original=True)  # (the active one would apply the aspect and mark the axes stale)
    cell = min(box.width * ax.figure.get_figwidth() / cols, box.height * ax.figure.get_figheight() / rows) * 72
    texts = [t for t in ax.texts if t.get_text()]
    longest = max((len(t.get_text()) for t in texts), default=1)
    size = math.floor(2 * min(11.0, 0.55 * cell, cell / (0.62 * longest + 0.4))) / 2  # half points: cached glyphs
    visible = size >= smallest
    for text in ax.texts:
        if text.get_fontsize() != size:
            text.set_fontsize(size)
        if text.get_visible() != visible:
            text.set_visible(visible)
    if marker is not None:
        markersize = max(1.5, min(4.0, 0.13 * cell))
        if marker.get_markersize() != markersize:
            marker.set_markersize(markersize)


# --- 01: timings, seconds against size on log-log axes ------------------------------------------------------


def timing_plot(sizes: Sequence[int], seconds: dict[str, Sequence[float]], xlabel: str = "image side n"):
    """Seconds per call against size, log-log, one line per function (name -> one time per size, as
    ``course_utils.timing.conv_timings`` returns), with slope-2 guide: time growing with the number of pixels.
    Returns a ``course_utils.figures.Picture`` (shown as PNG)."""
    from matplotlib import rc_context

    from course_utils.figures import RC, Picture

    with rc_context(RC):
        fig = new_figure(7, 3.6, dpi=RC["figure.dpi"])
        ax = fig.add_subplot()
        for name, times in seconds.items():
            ax.loglog(sizes, times, marker="o", label=name)
        slowest = max(seconds.values(), key=lambda times: times[-1])
        ax.loglog(sizes, [slowest[-1] * (n / sizes[-1]) ** 2 for n in sizes], ":", color="gray", label="∝ n² (pixels)")
        ax.set_xlabel(xlabel)
        ax.set_ylabel("seconds per call (one thread)")
        ax.set_xticks(list(sizes), [str(n) for n in sizes])
        ax.minorticks_off()
        ax.legend(fontsize=8)
        ax.grid(True, which="major", alpha=0.3)
        fig.subplots_adjust(left=0.12, right=0.98, top=0.96, bottom=0.15)
    return Picture(fig)
