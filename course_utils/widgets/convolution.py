"""Widgets of 01_convolution: shifting an image, the sliding window, the kernel gallery, the channels view.

Outputs are PyTorch's own (``course_utils.oracles``); the only arithmetic here is the one window
the explorer spells out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import ipywidgets as widgets
import torch
import torch.nn.functional as F
from matplotlib.figure import Figure

from course_utils import data, examples, kernels, oracles
from course_utils.plotting import FeatureMapGrid, MatrixView, WindowHighlight, format_number, new_figure
from course_utils.widgets.base import CourseWidget

__all__ = [
    "ChannelsState",
    "ChannelsView",
    "EXAMPLES",
    "GalleryState",
    "KernelGallery",
    "MIXINGS",
    "SHIFT_IMAGES",
    "ShiftExplorer",
    "ShiftState",
    "SlidingWindowExplorer",
    "WindowState",
    "channels_state",
    "kernel_gallery_state",
    "shift_image",
    "shift_state",
    "sliding_window_state",
]

# ------------------------------------------------------------------------------------------------
# 0. why convolution: a shifted input gives a shifted feature map

MAX_SHIFT = 3
SHIFT_MARGIN = MAX_SHIFT + 1  # zeros around the picture: no shift pushes any of it off the canvas


def _on_canvas(image: torch.Tensor) -> torch.Tensor:
    """`image` (H, W) scaled to [0, 1] in the middle of a zero canvas with SHIFT_MARGIN on every side."""
    image = image.double() / float(image.max())
    return F.pad(image, (SHIFT_MARGIN,) * 4)


SHIFT_IMAGES = {
    "X 9x9": lambda: _on_canvas(data.x_image()),
    "checkerboard 8x8": lambda: _on_canvas(data.checkerboard()),
    "edge 7x6": lambda: _on_canvas(data.edge_image()),
}
SHIFT_KERNELS = ("left_sobel", "top_sobel", "outline", "diag", "blur")


def shift_image(X: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    """X (H, W) moved dy rows down and dx columns right; what leaves the grid is lost, zeros come in."""
    H, W = X.shape
    out = torch.zeros_like(X)
    rows_to, rows_from = slice(max(dy, 0), H + min(dy, 0)), slice(max(-dy, 0), H - max(dy, 0))
    cols_to, cols_from = slice(max(dx, 0), W + min(dx, 0)), slice(max(-dx, 0), W - max(dx, 0))
    out[rows_to, cols_to] = X[rows_from, cols_from]
    return out


def _similarity(A: torch.Tensor, B: torch.Tensor) -> float:
    """Cosine similarity of two maps of one shape: 1 when identical, 0 when they share no response."""
    norm = float(A.norm() * B.norm())
    return float((A * B).sum()) / norm if norm > 0 else 1.0


@dataclass
class ShiftState:
    """An image and its shifted copy through conv + ReLU and 2x2 max pooling. Tensors are float64."""

    image: torch.Tensor  # (H, W) the picture on its zero canvas
    shifted: torch.Tensor  # (H, W) the same, moved by (dy, dx)
    kernel: torch.Tensor  # (kh, kw)
    feature: torch.Tensor  # ReLU(F.conv2d(image, kernel)), valid
    feature_shifted: torch.Tensor  # ReLU(F.conv2d(shifted, kernel))
    pooled: torch.Tensor  # F.max_pool2d(feature, 2)
    pooled_shifted: torch.Tensor  # F.max_pool2d(feature_shifted, 2)
    shift: tuple[int, int]
    equivariance_error: float  # max |feature_shifted - feature moved by (dy, dx)|: 0 = equivariant
    feature_similarity: float  # feature_shifted vs feature, not realigned: how much stayed in place
    pooled_similarity: float  # the same after max pooling


def shift_state(image: torch.Tensor | str, kernel: torch.Tensor | str, dy: int, dx: int) -> ShiftState:
    """Shift `image` (H, W, or a name in SHIFT_IMAGES) by (dy, dx) and run both through one conv layer."""
    if isinstance(image, str):
        image = SHIFT_IMAGES[image]()
    if isinstance(kernel, str):
        kernel = kernels.get_kernel(kernel)
    image, kernel = image.double(), kernel.double()
    shifted = shift_image(image, dy, dx)
    feature = torch.relu(oracles.corr2d(image, kernel))
    feature_shifted = torch.relu(oracles.corr2d(shifted, kernel))
    pooled = oracles.max_pool2d(feature[None, None], 2)[0, 0]
    pooled_shifted = oracles.max_pool2d(feature_shifted[None, None], 2)[0, 0]
    error = float((feature_shifted - shift_image(feature, dy, dx)).abs().max())
    return ShiftState(
        image,
        shifted,
        kernel,
        feature,
        feature_shifted,
        pooled,
        pooled_shifted,
        (dy, dx),
        error,
        _similarity(feature, feature_shifted),
        _similarity(pooled, pooled_shifted),
    )


class ShiftExplorer(CourseWidget[ShiftState]):
    """Move the picture: the feature map moves with it; after max pooling, small moves barely show."""

    def __init__(self) -> None:
        self.caption = widgets.HTML()  # the equivariance check and the two similarities, in words
        super().__init__(
            {
                "image": widgets.Dropdown(options=list(SHIFT_IMAGES), description="image"),
                "kernel": widgets.Dropdown(options=list(SHIFT_KERNELS), description="kernel"),
                "dy": widgets.IntSlider(0, min=-MAX_SHIFT, max=MAX_SHIFT, description="down"),
                "dx": widgets.IntSlider(1, min=-MAX_SHIFT, max=MAX_SHIFT, description="right"),
            },
            captions=[self.caption],
        )

    def compute(self, image: str, kernel: str, dy: int, dx: int) -> ShiftState:
        return shift_state(image, kernel, dy, dx)

    def build(self) -> tuple[Figure, dict]:
        fig = new_figure(9, 5.6)
        axes = fig.subplots(2, 3)
        blank = torch.zeros(1, 1)
        names = [["image", "feature", "pooled"], ["shifted", "feature_shifted", "pooled_shifted"]]
        cmaps = ["gray", "magma", "magma"]
        artists = {
            name: MatrixView(axes[r][c], blank, cmap=cmaps[c], numbers=False)
            for r in range(2)
            for c, name in enumerate(names[r])
        }
        for r in range(2):  # the strongest response of each map
            for c, name in enumerate(names[r]):
                artists[f"peak_{name}"] = WindowHighlight(axes[r][c], color="deepskyblue", linewidth=2)
        fig.subplots_adjust(left=0.02, right=0.98, top=0.93, bottom=0.02, wspace=0.1, hspace=0.18)
        return fig, artists

    def draw(self, state: ShiftState) -> None:
        a = self.artists
        dy, dx = state.shift
        maps = {
            "image": (state.image, "input"),
            "shifted": (state.shifted, f"input moved ({dy}, {dx})"),
            "feature": (state.feature, "ReLU(conv)"),
            "feature_shifted": (state.feature_shifted, "ReLU(conv) of the moved input"),
            "pooled": (state.pooled, "2x2 max pooling"),
            "pooled_shifted": (state.pooled_shifted, "2x2 max pooling"),
        }
        for name, (values, title) in maps.items():
            a[name].update(values, title=f"{title} {tuple(values.shape)}")
            if name not in ("image", "shifted"):
                row, col = divmod(int(values.argmax()), values.shape[1])
                a[f"peak_{name}"].move(row, col, 1, 1)
        a["peak_image"].set_visible(False)
        a["peak_shifted"].set_visible(False)
        exact = "exactly" if state.equivariance_error < 1e-9 else f"up to {state.equivariance_error:.3g}"
        self.caption.value = (
            f"The feature map of the moved input is the feature map moved by ({dy}, {dx}), {exact}. "
            f"Left in place, the maps overlap by <b>{state.feature_similarity:.2f}</b> (1 = unchanged) "
            f"before pooling and <b>{state.pooled_similarity:.2f}</b> after it."
        )

    def displayed_maps(self) -> dict[str, torch.Tensor]:
        """Every map as displayed, by name."""
        return {
            name: self.artists[name].values()
            for name in ("image", "shifted", "feature", "feature_shifted", "pooled", "pooled_shifted")
        }


# ------------------------------------------------------------------------------------------------
# 1. the sliding window

EXAMPLES = {
    "3x3 input 0…8, 2x2 kernel 0…3": examples.arange3_single,
    "6x6 input, 3x3 filter": lambda: (examples.grid6_input(), examples.grid6_filter()),
}


@dataclass
class WindowState:
    """One step of the sliding window. Tensors are float64; `shown` is NaN where not yet computed."""

    padded: torch.Tensor  # (Hp, Wp) the input with the mode's zero padding
    kernel: torch.Tensor  # (kh, kw)
    padding: tuple[int, int, int, int]  # top, bottom, left, right
    output: torch.Tensor  # (out_h, out_w) the whole result, by F.conv2d (ReLU'd if asked)
    shown: torch.Tensor  # (out_h, out_w) cells up to `step`, NaN after
    step: int
    row: int
    col: int
    products: torch.Tensor  # (kh, kw) window * kernel
    value: float  # the sum written at (row, col)
    equation: str


def _term(x: float, k: float) -> str:
    ks = format_number(k)
    return f"{format_number(x)}×{'(' + ks + ')' if k < 0 else ks}"


def sliding_window_state(
    X: torch.Tensor, K: torch.Tensor, mode: str = "valid", step: int = 0, relu: bool = False
) -> WindowState:
    """The explorer's state for input X (H, W), kernel K (kh, kw), `mode` and output position `step`."""
    X, K = X.double(), K.double()
    top, bottom, left, right = oracles.mode_padding(mode, tuple(K.shape))
    padded = F.pad(X, (left, right, top, bottom))
    output = oracles.corr2d(X, K, mode)
    if relu:
        output = torch.relu(output)
    out_h, out_w = output.shape
    step = max(0, min(step, out_h * out_w - 1))
    row, col = divmod(step, out_w)
    kh, kw = K.shape
    window = padded[row : row + kh, col : col + kw]
    products = window * K
    value = float(output[row, col])
    terms = " + ".join(_term(x, k) for x, k in zip(window.flatten().tolist(), K.flatten().tolist()))
    total = format_number(float(products.sum()))
    equation = f"{terms} = {total}" + (f" → ReLU → {format_number(value)}" if relu else "")
    shown = torch.full_like(output, float("nan")).flatten()
    shown[: step + 1] = output.flatten()[: step + 1]
    return WindowState(
        padded,
        K,
        (top, bottom, left, right),
        output,
        shown.reshape(out_h, out_w),
        step,
        row,
        col,
        products,
        value,
        equation,
    )


class SlidingWindowExplorer(CourseWidget[WindowState]):
    """Step through the output positions: window on the padded input, products, the growing output."""

    def __init__(self) -> None:
        self.equation = widgets.HTML()  # the sum written out, e.g. "0×0 + 1×1 + 3×2 + 4×3 = 19"
        super().__init__(
            {
                "example": widgets.Dropdown(options=list(EXAMPLES), description="example"),
                "mode": widgets.Dropdown(options=list(oracles.MODES), description="mode"),
                "step": widgets.IntSlider(
                    0, min=0, max=3, description="step", continuous_update=True, layout=widgets.Layout(width="420px")
                ),  # wide: up to 64 positions
                "relu": widgets.Checkbox(False, description="ReLU"),
            },
            captions=[self.equation],
            play="step",
        )

    def follow(self, state: WindowState) -> None:
        self.controls["step"].max = state.output.numel() - 1

    def compute(self, example: str, mode: str, step: int, relu: bool) -> WindowState:
        X, K = EXAMPLES[example]()
        return sliding_window_state(X, K, mode, step, relu)

    def build(self) -> tuple[Figure, dict]:
        fig = new_figure(10, 3.6)
        axes = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1.3, 0.8, 1.2]})
        nan = torch.zeros(1, 1)
        artists = {
            "input": MatrixView(axes[0], nan, cmap="Blues", title="input (padded)"),
            "products": MatrixView(axes[1], nan, cmap="PuOr", title="window × kernel"),
            "output": MatrixView(axes[2], nan, cmap="Greens", title="output"),
        }
        artists["window"] = WindowHighlight(axes[0])
        artists["cell"] = WindowHighlight(axes[2])
        fig.subplots_adjust(left=0.02, right=0.98, top=0.85, bottom=0.03, wspace=0.15)
        return fig, artists

    def draw(self, state: WindowState) -> None:
        a = self.artists
        kh, kw = state.kernel.shape
        a["input"].update(state.padded)
        a["window"].move(state.row, state.col, kh, kw)
        a["products"].update(state.products, title=f"window × kernel, sum {format_number(float(state.products.sum()))}")
        a["output"].update(state.shown, title=f"output {tuple(state.output.shape)}")
        a["cell"].move(state.row, state.col, 1, 1)
        self.equation.value = f"<code>{state.equation}</code>"

    def displayed_output(self) -> torch.Tensor:
        """The output grid as displayed (NaN for cells not reached yet)."""
        return self.artists["output"].values()


# ------------------------------------------------------------------------------------------------
# 2. the kernel gallery

CUSTOM = "custom 3x3"
GRID_CELLS = [f"k{r}{c}" for r in range(3) for c in range(3)]  # the custom kernel's controls, row by row
PHOTO = "photo (grayscale)"
FASHION = "Fashion-MNIST item"
GALLERY_IMAGES = [*data.SYNTHETIC_IMAGES, PHOTO, FASHION]


@dataclass
class GalleryState:
    image: torch.Tensor  # (H, W)
    kernel: torch.Tensor  # (kh, kw)
    output: torch.Tensor | None  # (H - kh + 1, W - kw + 1), by F.conv2d, no bias
    relu_output: torch.Tensor | None
    message: str = ""  # set when the image could not be loaded
    description: str = ""  # what the kernel does, in words (none for a custom kernel)


def load_gallery_image(name: str) -> torch.Tensor:
    """The gallery's image `name` as float (H, W); raises DatasetUnavailableError for missing data."""
    if name in data.SYNTHETIC_IMAGES:
        return data.SYNTHETIC_IMAGES[name]()
    if name == PHOTO:
        return data.photo(gray=True, size=96)
    if name == FASHION:
        return data.fashion_mnist_item(0, "test")[0]
    raise ValueError(f"unknown image {name!r}; choose from {GALLERY_IMAGES}")


def kernel_gallery_state(image: torch.Tensor | str, kernel: torch.Tensor) -> GalleryState:
    """Input, valid cross-correlation (no bias) and its ReLU, for an image (or image name) and a kernel."""
    if isinstance(image, str):
        try:
            image = load_gallery_image(image)
        except data.DatasetUnavailableError as exc:
            return GalleryState(torch.zeros(1, 1), kernel, None, None, message=str(exc).splitlines()[0])
    image, kernel = image.double(), kernel.double()
    output = oracles.corr2d(image, kernel, "valid")
    return GalleryState(image, kernel, output, torch.relu(output))


class KernelGallery(CourseWidget[GalleryState]):
    """An image, a named (or custom) kernel, and the feature map without and with ReLU."""

    def __init__(self) -> None:
        self.description = widgets.HTML()  # what the chosen kernel does
        controls: dict[str, widgets.Widget] = {
            "image": widgets.Dropdown(options=GALLERY_IMAGES, description="image"),
            "kernel": widgets.Dropdown(options=[*kernels.kernel_names(), CUSTOM], value="diff_x", description="kernel"),
        }
        for cell in GRID_CELLS:  # the values of the kernel shown; set by settle() from the menu
            controls[cell] = widgets.FloatText(0.0, layout=widgets.Layout(width="76px"))  # room for 0.0625
        super().__init__(controls)

    def layout(self) -> widgets.Widget:
        grid = widgets.GridBox(
            [self.controls[cell] for cell in GRID_CELLS],
            layout=widgets.Layout(grid_template_columns="repeat(3, 80px)"),
        )
        top = widgets.HBox(
            [
                widgets.VBox([self.controls["image"], self.controls["kernel"], self.description]),
                widgets.VBox([widgets.HTML(f"<b>kernel values</b> (edit one: {CUSTOM})"), grid]),
            ]
        )
        return widgets.VBox([top, self.figure_image.image, self.errors])

    @staticmethod
    def grid_values(kernel: str) -> dict[str, float]:
        """The grid's values for a named kernel (up to 3x3): its values at the top left, zeros around."""
        K = kernels.get_kernel(kernel)
        kh, kw = K.shape
        return {f"k{r}{c}": float(K[r, c]) if r < kh and c < kw else 0.0 for r in range(3) for c in range(3)}

    def settle(self, values: dict, changed: set[str]) -> dict:
        """The grid shows the chosen kernel's values; editing one of them makes the kernel the custom one."""
        if values["kernel"] == CUSTOM:
            return values
        if changed & set(GRID_CELLS) and "kernel" not in changed:
            return {**values, "kernel": CUSTOM}
        return {**values, **self.grid_values(values["kernel"])}

    def kernel_from(self, values: dict) -> torch.Tensor:
        if values["kernel"] == CUSTOM:
            return torch.tensor([float(values[cell]) for cell in GRID_CELLS]).reshape(3, 3)
        return kernels.get_kernel(values["kernel"])

    def compute(self, image: str, kernel: str, **custom: float) -> GalleryState:
        state = kernel_gallery_state(image, self.kernel_from({"kernel": kernel, **custom}))
        state.description = "" if kernel == CUSTOM else kernels.describe(kernel)
        return state

    def build(self) -> tuple[Figure, dict]:
        fig = new_figure(10, 3.6)
        axes = fig.subplots(1, 3)
        blank = torch.zeros(1, 1)
        artists = {
            "input": MatrixView(axes[0], blank, cmap="gray", title="input"),
            "output": MatrixView(axes[1], blank, cmap="gray", title="output"),
            "relu": MatrixView(axes[2], blank, cmap="gray", title="ReLU(output)", numbers=False),
            "message": fig.text(0.5, 0.5, "", ha="center", va="center", wrap=True, fontsize=11, color="darkred"),
        }
        fig.subplots_adjust(left=0.02, right=0.98, top=0.88, bottom=0.03, wspace=0.1)
        return fig, artists

    def draw(self, state: GalleryState) -> None:
        a = self.artists
        ok = state.output is not None
        for name in ("input", "output", "relu"):  # only touch what changes: a touched artist is redrawn
            if a[name].ax.get_visible() != ok:
                a[name].ax.set_visible(ok)
        message = "" if ok else state.message
        if a["message"].get_text() != message:
            a["message"].set_text(message)
        self.description.value = f"<i>{state.description}</i>" if state.description else ""
        if ok:
            a["input"].update(state.image, title=f"input {tuple(state.image.shape)}")
            a["output"].update(state.output, title=f"output {tuple(state.output.shape)}")
            a["relu"].update(state.relu_output, title="ReLU(output)")

    def displayed_output(self) -> torch.Tensor:
        return self.artists["output"].values()

    def displayed_relu(self) -> torch.Tensor:
        return self.artists["relu"].values()


# ------------------------------------------------------------------------------------------------
# 3. channels

MIXINGS = {
    "sum over R, G, B": torch.tensor([[1.0, 1.0, 1.0]]),
    "one map per input channel": torch.eye(3),
    "luminance": torch.tensor([[0.299, 0.587, 0.114]]),
    "red minus blue": torch.tensor([[1.0, 0.0, -1.0]]),
}
CHANNEL_NAMES = ("red", "green", "blue")


@dataclass
class ChannelsState:
    X: torch.Tensor  # (3, H, W) the colour photo
    W: torch.Tensor  # (C_out, 3, kh, kw)
    Y: torch.Tensor  # (C_out, H - kh + 1, W - kw + 1), by F.conv2d
    titles: list[str] = field(default_factory=list)


def channels_state(mixing: str, kernel: str, size: int = 64) -> ChannelsState:
    """RGB photo through weights W[o, c] = mixing[o, c] * kernel: one output map per row of the mixing."""
    X = data.photo(gray=False, size=size).double()
    K = kernels.get_kernel(kernel, torch.float64)
    mix = MIXINGS[mixing].double()
    W = mix[:, :, None, None] * K[None, None]
    Y = oracles.conv2d(X[None], W)[0]
    titles = [f"{name} in" for name in CHANNEL_NAMES] + [f"out {o}" for o in range(W.shape[0])]
    return ChannelsState(X, W, Y, titles)


class ChannelsView(CourseWidget[ChannelsState]):
    """A colour image's three channels and one feature map per output channel."""

    def __init__(self) -> None:
        self.caption = widgets.HTML()  # W's shape, in words
        super().__init__(
            {
                "mixing": widgets.Dropdown(options=list(MIXINGS), description="channels"),
                "kernel": widgets.Dropdown(options=kernels.kernel_names(), value="outline", description="kernel"),
            },
            captions=[self.caption],
        )

    def compute(self, mixing: str, kernel: str) -> ChannelsState:
        return channels_state(mixing, kernel)

    def build(self) -> tuple[Figure, dict]:
        fig = new_figure(8, 5.2)
        artists = {"grid": FeatureMapGrid(fig, 6, 3)}
        fig.subplots_adjust(left=0.02, right=0.98, top=0.94, bottom=0.02, hspace=0.2, wspace=0.05)
        return fig, artists

    def draw(self, state: ChannelsState) -> None:
        maps = [*state.X, *state.Y]
        self.artists["grid"].update(maps, state.titles)
        self.caption.value = (
            f"W has shape <code>{tuple(state.W.shape)}</code>: {state.W.shape[0]} output "
            f"channel(s), each the sum of 3 input channels cross-correlated with their kernels"
        )

    def displayed_outputs(self) -> list[torch.Tensor]:
        return self.artists["grid"].displayed()[3:]
