"""Pictures that need no controls, and the static PNGs that let a notebook read without a kernel.

Two uses, one drawing code:

* notebook cells call a drawing function (``learned_kernel``, ``optimizer_paths``, ``gradient_norms``,
  ``activation_comparison``, ``first_layer_filters``) and get a ``Picture``, shown as PNG;
* ``python -m course_utils.figures`` (``make figures``) renders each topic's key figures into
  ``source/<topic>/figures/<name>.png``, which the topic's markdown shows with ``![...](figures/<name>.png)``.
  A widget's static figure is the widget itself, headless, at the settings ``static_figures()`` lists; the others
  call the functions above on the oracles' results. ``--check DIR`` renders into DIR and compares.

Every figure is drawn with matplotlib's Agg backend at a fixed dpi, in matplotlib's bundled DejaVu
Sans, so the same pinned matplotlib draws the same pixels on any machine (the test allows a little).
"""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from matplotlib import colormaps, rc_context
from matplotlib.figure import Figure

from course_utils.plotting import FeatureMapGrid, MatrixView, figure_to_png, new_figure

__all__ = [
    "Picture",
    "activation_comparison",
    "compare_images",
    "first_layer_filters",
    "gradient_norms",
    "learned_kernel",
    "optimizer_paths",
    "render_all",
    "static_figures",
]

DPI = 80
#: Settings every static figure is drawn with (the bundled font, no machine-dependent hinting choices).
RC = {
    "font.family": "DejaVu Sans",
    "text.hinting": "auto",
    "text.antialiased": True,
    "savefig.dpi": DPI,
    "figure.dpi": DPI,
    "path.simplify": True,
}
COLORS = {
    "sigmoid": "tab:orange",
    "ReLU": "tab:blue",
    "SGD": "tab:gray",
    "momentum": "tab:green",
    "Adam": "tab:red",
    "default": "tab:orange",
    "Xavier": "tab:purple",
    "Kaiming": "tab:brown",
    "batch norm": "tab:cyan",
}


class Picture:
    """A drawn figure that shows itself as PNG in a notebook (no pyplot, no widget)."""

    def __init__(self, figure: Figure) -> None:
        self.figure = figure

    def _repr_png_(self) -> bytes:
        return figure_to_png(self.figure)

    def png(self) -> bytes:
        return figure_to_png(self.figure)


# ---------------------------------------------------------------------------------------------
# 05: a kernel learned by gradient descent


def learned_kernel(true: torch.Tensor, start: torch.Tensor, learned: torch.Tensor, losses: list[float]) -> Picture:
    """Start, learned and true kernel side by side (each (kh, kw), or the first one of (C_out, C_in, kh, kw)),
    with their numbers, and the loss before each gradient-descent step on a log scale."""
    kernels = [torch.as_tensor(k).detach().double().reshape(-1, *k.shape[-2:])[0] for k in (start, learned, true)]
    lo = min(float(k.min()) for k in kernels)
    hi = max(float(k.max()) for k in kernels)
    with rc_context(RC):
        fig = new_figure(10, 2.8, dpi=DPI)
        grid = fig.add_gridspec(1, 4, width_ratios=[1, 1, 1, 1.6])
        titles = ["random start", f"learned ({len(losses)} steps)", "true kernel"]
        for i, (kernel, title) in enumerate(zip(kernels, titles)):
            MatrixView(fig.add_subplot(grid[0, i]), kernel, cmap="coolwarm", title=title, vmin=lo, vmax=hi)
        ax = fig.add_subplot(grid[0, 3])
        positive = [max(v, 1e-300) for v in losses]
        ax.semilogy(range(len(losses)), positive, color="tab:blue")
        ax.set_xlabel("step")
        ax.set_title("loss (mean squared error)", fontsize=10)
        ax.grid(True, alpha=0.3)
        fig.subplots_adjust(left=0.02, right=0.98, top=0.86, bottom=0.18, wspace=0.25)
    return Picture(fig)


# ---------------------------------------------------------------------------------------------
# 06: optimizers, saturation, filters


def optimizer_paths(paths: dict[str, list[float]], target: float = 3.0) -> Picture:
    """w after each step for each optimizer on L(w) = (w - target)^2, the minimum drawn as a line."""
    with rc_context(RC):
        fig = new_figure(7, 3.2, dpi=DPI)
        ax = fig.add_subplot()
        for name, path in paths.items():
            base = name.split()[0]
            style = "--" if "yours" in name else "-"
            ax.plot(range(len(path) + 1), [0.0, *path], style, label=name, color=COLORS.get(base), marker=".")
        ax.axhline(target, color="black", linewidth=0.8)
        ax.set_xlabel("step")
        ax.set_ylabel("w")
        ax.set_title(f"Minimising (w - {target:g})² from w = 0", fontsize=10)
        ax.legend(fontsize=8, loc="lower right")
        ax.grid(True, alpha=0.3)
        fig.subplots_adjust(left=0.1, right=0.98, top=0.9, bottom=0.16)
    return Picture(fig)


def gradient_norms(norms: dict[str, dict[str, float]]) -> Picture:
    """Bars, log scale: for each network (outer key) the gradient norm of each layer's weights, first layer first."""
    with rc_context(RC):
        fig = new_figure(7, 3.0, dpi=DPI)
        ax = fig.add_subplot()
        width = 0.8 / max(1, len(norms))
        for i, (name, layers) in enumerate(norms.items()):
            x = np.arange(len(layers)) + i * width
            ax.bar(x, list(layers.values()), width, label=name, color=COLORS.get(name))
        longest = max(norms.values(), key=len)
        ax.set_xticks(np.arange(len(longest)) + width * (len(norms) - 1) / 2)
        ax.set_xticklabels([f"weight {k + 1}" for k in range(len(longest))], fontsize=8)
        ax.set_yscale("log")
        ax.set_ylabel("gradient norm")
        ax.set_title("Gradient norm of each layer's weights, first layer on the left", fontsize=10)
        ax.legend(fontsize=8)
        ax.grid(True, axis="y", alpha=0.3)
        fig.subplots_adjust(left=0.1, right=0.98, top=0.9, bottom=0.12)
    return Picture(fig)


def activation_comparison(runs: dict) -> Picture:
    """Per batch, for each run (name -> ``training.Watched``): the training loss, and the gradient norm of
    each layer's weights (one panel per run, log scale, first layer darkest)."""
    cmap = colormaps["viridis"]
    with rc_context(RC):
        fig = new_figure(11, 3.2, dpi=DPI)
        axes = fig.subplots(1, 1 + len(runs))
        for name, run in runs.items():
            axes[0].plot(run.losses, label=f"{name} (test accuracy {run.test_accuracy:.2f})", color=COLORS.get(name))
        axes[0].set_title("training loss per batch", fontsize=10)
        axes[0].set_xlabel("batch")
        axes[0].legend(fontsize=8)
        for ax, (name, run) in zip(axes[1:], runs.items()):
            layers = list(run.gradient_norms.items())
            modules = dict(run.net.named_modules())
            for k, (layer, values) in enumerate(layers):
                kind = type(modules[layer]).__name__ if layer in modules else layer
                ax.semilogy(values, color=cmap(k / max(1, len(layers) - 1)), label=f"weight {k + 1}: {kind}")
            ax.set_title(f"{name}: gradient norm per layer", fontsize=10)
            ax.set_xlabel("batch")
            ax.legend(fontsize=7)
        for ax in axes:
            ax.grid(True, alpha=0.3)
        fig.subplots_adjust(left=0.05, right=0.99, top=0.88, bottom=0.15, wspace=0.25)
    return Picture(fig)


def first_layer_filters(nets: dict[str, torch.nn.Module], ncols: int = 10) -> Picture:
    """The 2-D kernels of each network's first convolution (its first parameter shaped (C_out, 1, kh, kw)),
    one row block per network, grey: bright = positive weight, each kernel scaled on its own."""
    blocks = []
    for name, net in nets.items():
        weight = next(p for p in net.parameters() if p.dim() == 4).detach().cpu().double()
        blocks.append((name, [w[0] for w in weight]))
    rows = sum((len(kernels) + ncols - 1) // ncols for _, kernels in blocks)
    with rc_context(RC):
        fig = new_figure(1.0 * ncols, 1.15 * rows + 0.3, dpi=DPI)
        grid = fig.add_gridspec(rows, ncols)
        row = 0
        for name, kernels in blocks:
            n_rows = (len(kernels) + ncols - 1) // ncols
            slots = [grid[row + i // ncols, i % ncols] for i in range(len(kernels))]
            maps = FeatureMapGrid(fig, len(kernels), ncols, slots=slots)
            maps.update(kernels, [f"{name} {i + 1}" for i in range(len(kernels))])
            row += n_rows
        fig.subplots_adjust(left=0.01, right=0.99, top=0.95, bottom=0.01, hspace=0.45, wspace=0.1)
    return Picture(fig)


# ---------------------------------------------------------------------------------------------
# the static PNGs


def _widget_png(factory: Callable[[], object], **values) -> bytes:
    with rc_context(RC):
        widget = factory()
        if values:
            widget.set(**values)
        return figure_to_png(widget.figure)


def _learned_kernel_png() -> bytes:
    from course_utils import examples, oracles

    X, K, Y = examples.kernel_learning_problem()
    W0 = 0.1 * torch.randn(K.shape, generator=torch.Generator().manual_seed(0), dtype=X.dtype)
    W, losses = oracles.learn_kernel(X, Y, W0, lr=0.1, steps=300)
    return learned_kernel(K, W0, W, losses).png()


def _optimizer_paths_png() -> bytes:
    from course_utils import training

    return optimizer_paths(training.quadratic_paths()).png()


def _solutions(topic: str) -> dict:
    """The namespace of a source notebook's solution cells, markers stripped (static figures of 06's networks)."""
    import nbformat

    from course_utils.cells import solved_source

    path = Path(__file__).resolve().parent.parent / "source" / topic / f"{topic}.ipynb"
    namespace: dict = {}
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("solution"):
            source = "import torch\nfrom torch import nn\n" + solved_source(cell.source)
            exec(compile(source, str(path), "exec"), namespace)
    return namespace


def _gradient_norms_png() -> bytes:
    from course_utils import training

    solutions = _solutions("06_lenet")
    X, y = training.fashion_mnist("test", normalize=True)
    training.seed_everything(0)
    sigmoid = solutions["build_lenet"]()
    relu = training.with_activation(sigmoid, torch.nn.Sigmoid, torch.nn.ReLU)  # the same LeNet, weights and all
    norms = {
        name: training.gradient_norms(net, X[:256], y[:256]) for name, net in (("sigmoid", sigmoid), ("ReLU", relu))
    }
    return gradient_norms(norms).png()


#: The settings of 01's kernel_gallery.png, which its caption names: a Sobel kernel on the photograph.
KERNEL_GALLERY_FIGURE = {"image": "photo (grayscale)", "kernel": "left_sobel"}


def static_figures() -> dict[str, dict[str, Callable[[], bytes]]]:
    """topic -> {file name: a function returning that PNG's bytes} (imports the widgets, so only on use)."""
    from course_utils.widgets import backprop, convolution, losses, padding_stride, pooling

    return {
        "01_convolution": {
            "shift.png": lambda: _widget_png(convolution.ShiftExplorer),
            "sliding_window.png": lambda: _widget_png(
                convolution.SlidingWindowExplorer, example="6x6 input, 3x3 filter", step=4
            ),
            "kernel_gallery.png": lambda: _widget_png(convolution.KernelGallery, **KERNEL_GALLERY_FIGURE),
            "channels.png": lambda: _widget_png(convolution.ChannelsView),
        },
        "02_padding_stride": {
            "conv_arithmetic.png": lambda: _widget_png(padding_stride.ConvArithmeticExplorer),
            "stride.png": lambda: _widget_png(
                padding_stride.ConvArithmeticExplorer,
                **padding_stride.PRESETS["3×3, kernel 2, stride (3, 2), padding 1"],
            ),
            "dilation.png": lambda: _widget_png(
                padding_stride.ConvArithmeticExplorer, **padding_stride.PRESETS["dilation 2: 7×7, kernel 3"]
            ),
            "receptive_field.png": lambda: _widget_png(padding_stride.ReceptiveFieldExplorer),
        },
        "03_pooling": {"pooling.png": lambda: _widget_png(pooling.PoolingExplorer)},
        "04_losses": {
            "bce_curve.png": lambda: _widget_png(losses.BCECurve),
            "softmax_bars.png": lambda: _widget_png(losses.SoftmaxBars),
        },
        "05_backprop": {
            "gradient_reach.png": lambda: _widget_png(backprop.GradientReach),
            "gradient_reach_max_pool.png": lambda: _widget_png(backprop.GradientReach, layer="max pool", cell=3),
            "flipped_kernel.png": lambda: _widget_png(backprop.FlippedKernelView),
            "learned_kernel.png": _learned_kernel_png,
        },
        "06_lenet": {
            "gradient_norms.png": _gradient_norms_png,
            "optimizer_paths.png": _optimizer_paths_png,
        },
    }


def render_all(root: Path, topics: list[str] | None = None) -> list[Path]:
    """Write every static figure to root/<topic>/figures/<name>; returns the paths written."""
    torch.set_num_threads(1)  # the same summation order everywhere
    written = []
    for topic, figures in static_figures().items():
        if topics and topic not in topics:
            continue
        folder = root / topic / "figures"
        folder.mkdir(parents=True, exist_ok=True)
        for name, render in figures.items():
            path = folder / name
            path.write_bytes(render())
            written.append(path)
    return written


def compare_images(a: bytes, b: bytes, tolerance: float = 0.002) -> str | None:
    """None when two PNGs have the same size and at most `tolerance` of their pixels differ by more than 16
    levels in some channel (anti-aliasing and font rasterising may differ a little); else what differs."""
    from PIL import Image

    x, y = (np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int) for png in (a, b))
    if x.shape != y.shape:
        return f"size {x.shape[1]}x{x.shape[0]} vs {y.shape[1]}x{y.shape[0]}"
    differing = float((np.abs(x - y).max(axis=2) > 16).mean())
    return None if differing <= tolerance else f"{differing:.2%} of the pixels differ"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_utils.figures", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--root",
        type=Path,
        default=Path(__file__).resolve().parent.parent / "source",
        help="where the topic folders are (default: the repository's source/)",
    )
    parser.add_argument(
        "--check",
        type=Path,
        metavar="DIR",
        help="render into DIR and compare with the figures under --root; exit 1 if any is stale",
    )
    parser.add_argument("topics", nargs="*", help="only these topics (default: all)")
    args = parser.parse_args(argv)
    if args.check is None:
        for path in render_all(args.root, args.topics):
            print(path)
        return 0
    stale = []
    for path in render_all(args.check, args.topics):
        committed = args.root / path.relative_to(args.check)
        problem = "missing" if not committed.exists() else compare_images(committed.read_bytes(), path.read_bytes())
        if problem:
            stale.append(f"{committed}: {problem}")
    print("\n".join(stale) if stale else "all static figures are current")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
