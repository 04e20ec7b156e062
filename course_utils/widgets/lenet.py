"""Widgets of 06_lenet: shape table, live training monitor, optimizer comparison, feature maps, mistakes.

Each takes the student's network (and, for training, the student's ``train_epoch`` and
``evaluate_accuracy``) as arguments: nothing here defines a network or a training loop.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import ipywidgets as widgets
import numpy as np
import torch
from matplotlib.figure import Figure
from torch import nn

from course_utils import data, training
from course_utils.plotting import FeatureMapGrid, FigureImage, MatrixView, WindowHighlight, new_figure
from course_utils.widgets.base import CourseWidget

__all__ = [
    "CurvesState",
    "FeatureMapViewer",
    "FeatureMapsState",
    "MistakesState",
    "MistakesView",
    "OptimizerCurves",
    "TrainingMonitor",
    "compare_optimizers",
    "layer_shapes",
    "mistakes_state",
    "shape_table",
    "train_live",
]


# --- the shape table -------------------------------------------------------------------------------


def layer_shapes(
    net: nn.Module, input_shape: tuple[int, ...] = (1, 1, 28, 28)
) -> list[tuple[str, tuple[int, ...], int]]:
    """(layer, output shape, parameters) for each top-level layer of `net`, run on zeros of `input_shape`."""
    rows = []
    x = torch.zeros(input_shape, device=next(net.parameters()).device)
    with torch.no_grad():
        for name, layer in net.named_children():
            x = layer(x)
            rows.append((f"{name}: {layer}", tuple(x.shape), sum(p.numel() for p in layer.parameters())))
    return rows


def shape_table(net: nn.Module, input_shape: tuple[int, ...] = (1, 1, 28, 28)):
    """An HTML table of ``layer_shapes`` with the total parameter count."""
    from IPython.display import HTML

    rows = layer_shapes(net, input_shape)
    body = "".join(
        f"<tr><td><code>{name}</code></td><td>{shape}</td><td style='text-align:right'>{params:,}</td></tr>"
        for name, shape, params in rows
    )
    total = sum(p.numel() for p in net.parameters())
    return HTML(
        f"<table><tr><th>layer</th><th>output shape</th><th>parameters</th></tr>"
        f"<tr><td>input</td><td>{tuple(input_shape)}</td><td></td></tr>{body}"
        f"<tr><td><b>total</b></td><td></td><td style='text-align:right'><b>{total:,}</b></td></tr></table>"
    )


# --- live training ---------------------------------------------------------------------------------


class TrainingMonitor:
    """A progress bar with ETA and two live plots: per-batch loss, and train/test accuracy per epoch.

    Drawing must cost a small share of the training time. The loss axes span the whole run from the
    first batch on (ticks at the epochs' ends), so a redraw only puts the curve (an animated line) back
    on the cached axes; and after each redraw the next one waits at least ``MIN_INTERVAL`` seconds, or
    the measured cost of that redraw divided by ``DRAW_SHARE`` when drawing is slow (a loaded machine).
    ``draw_seconds`` and ``redraws`` say what it cost.
    """

    MIN_INTERVAL = 0.5  # seconds between loss-curve redraws at most
    BAR_INTERVAL = 0.1  # seconds between progress-bar messages at most
    DRAW_SHARE = 0.02  # the redraw's cost over the wait that follows it

    def __init__(self, epochs: int, title: str = "") -> None:
        self.epochs = epochs
        self.bar = widgets.IntProgress(0, min=0, max=1, description="epoch 1", layout=widgets.Layout(width="420px"))
        self.label = widgets.Label("")
        self.history: list[training.Epoch] = []
        self.losses = training.RecordingLoss()
        fig = new_figure(9, 3.2)
        self.ax_loss, self.ax_acc = fig.subplots(1, 2)
        (self.loss_line,) = self.ax_loss.plot([], [], color="tab:blue", linewidth=1, animated=True)
        self.ax_loss.set(
            title=f"{title} training loss per batch".strip(), xlabel="batch (ticks: end of each epoch)", ylim=(0.0, 2.5)
        )
        (self.train_line,) = self.ax_acc.plot([], [], "o-", label="train")
        (self.test_line,) = self.ax_acc.plot([], [], "s-", label="test")
        self.ax_acc.set(
            title="accuracy per epoch",
            xlabel="epoch",
            xlim=(0.5, epochs + 0.5),
            ylim=(0.0, 1.0),
            xticks=range(1, epochs + 1),
        )
        self.ax_acc.legend(loc="lower right")
        fig.subplots_adjust(left=0.07, right=0.97, top=0.88, bottom=0.16, wspace=0.22)
        self.image = FigureImage(fig)
        self.image.refresh()
        self.widget = widgets.VBox([widgets.HBox([self.bar, self.label]), self.image.image])
        self.draw_seconds = 0.0
        self.redraws = 0
        self._batches = 0  # batches in the whole run, once the first batch told how many an epoch has
        self._top, self._seen = 0.0, 0  # the largest loss so far, and how many losses it has seen
        self._start = time.perf_counter()
        self._epoch = 1
        self._next_draw = self._next_bar = 0.0

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)

    def on_batch(self, done: int, total: int) -> None:
        """Advance the bar; when the last redraw's wait is over, redraw the loss curve and the ETA."""
        now = time.perf_counter()
        last = done == total
        if total * self.epochs != self._batches:
            self._batches = total * self.epochs
            self.ax_loss.set_xlim(0, self._batches)
            self.ax_loss.set_xticks(
                [total * e for e in range(self.epochs + 1)]
                if self.epochs <= 8
                else self.ax_loss.xaxis.get_major_locator().tick_values(0, self._batches)
            )
        if now >= self._next_bar or last:
            self._next_bar = now + self.BAR_INTERVAL
            self.bar.max, self.bar.value = total, done
        if now < self._next_draw and not last:
            return
        finished = (self._epoch - 1) * total + done
        rate = (now - self._start) / max(finished, 1)
        remaining = rate * (self.epochs * total - finished)
        self.label.value = f"{done}/{total} batches · {now - self._start:.0f} s · about {remaining:.0f} s left"
        self._draw_loss()

    def _draw_loss(self) -> None:
        start = time.perf_counter()
        losses = self.losses.losses
        self.loss_line.set_data(range(1, len(losses) + 1), losses)
        self._top = max([self._top, *losses[self._seen :]])
        self._seen = len(losses)
        if self._top > self.ax_loss.get_ylim()[1]:  # a tick at the top: the next half unit above every loss so far
            self.ax_loss.set_ylim(0, math.ceil(self._top * 1.02 / 0.5) * 0.5)
        self.image.refresh()
        cost = time.perf_counter() - start
        self.draw_seconds += cost
        self.redraws += 1
        self._next_draw = time.perf_counter() + max(self.MIN_INTERVAL, cost / self.DRAW_SHARE)

    def on_epoch(self, record: training.Epoch) -> None:
        self.history.append(record)
        epochs = [h.epoch for h in self.history]
        self.train_line.set_data(epochs, [h.train_accuracy for h in self.history])
        self.test_line.set_data(epochs, [h.test_accuracy for h in self.history])
        self.ax_acc.set_title(f"accuracy per epoch (test {record.test_accuracy:.4f})")
        self._epoch = record.epoch + 1
        self.bar.description = f"epoch {min(self._epoch, self.epochs)}" if record.epoch < self.epochs else "done"
        self._draw_loss()

    def displayed_accuracy(self) -> tuple[list[float], list[float]]:
        """(train, test) accuracies as plotted."""
        return list(self.train_line.get_ydata()), list(self.test_line.get_ydata())


def _quick_sizes(train_subset, test_subset, epochs):
    if training.quick():
        return train_subset or 6000, test_subset or 2000, epochs or 1
    return train_subset, test_subset, epochs


def train_live(
    net: nn.Module,
    recipe: training.Recipe,
    train_epoch: Callable,
    evaluate_accuracy: Callable,
    *,
    train_subset: int | None = None,
    test_subset: int | None = None,
    epochs: int | None = None,
    seed: int = 0,
) -> list[training.Epoch]:
    """``training.fit`` with a TrainingMonitor displayed above; in quick mode on a subset for one epoch."""
    from IPython.display import display

    train_subset, test_subset, epochs = _quick_sizes(train_subset, test_subset, epochs)
    monitor = TrainingMonitor(epochs or recipe.epochs, recipe.name)
    display(monitor)
    history = training.fit(
        net,
        recipe,
        train_epoch,
        evaluate_accuracy,
        train_subset=train_subset,
        test_subset=test_subset,
        epochs=epochs,
        seed=seed,
        loss_fn=monitor.losses,
        on_epoch=monitor.on_epoch,
        on_batch=monitor.on_batch,
    )
    last = history[-1]
    monitor.label.value = (
        f"test accuracy {last.test_accuracy:.4f} after {last.epoch} epoch(s), "
        f"{last.seconds:.0f} s of training ({recipe.name} recipe)"
    )
    return history


# --- the optimizer comparison ------------------------------------------------------------------------

#: Learning rates that suit each optimizer on the ReLU LeNet with standardised inputs.
COMPARISON_LRS = {"SGD": 0.1, "momentum": 0.02, "Adagrad": 0.01, "RMSProp": 1e-3, "Adam": 1e-3}


@dataclass
class Run:
    """One optimizer's run: per-batch losses and the final test accuracy."""

    optimizer: str
    lr: float
    losses: list[float]
    test_accuracy: float
    seconds: float


@dataclass
class CurvesState:
    """The shown optimizers' losses, each a moving average over `smoothing` batches."""

    smoothing: int
    curves: dict[str, torch.Tensor]  # optimizer -> (batches - smoothing + 1,)


class OptimizerCurves(CourseWidget[CurvesState]):
    """Per-batch training loss of each optimizer (smoothed), with their test accuracies in the legend."""

    def __init__(self, runs: list[Run]) -> None:
        self.runs = runs
        controls: dict[str, widgets.Widget] = {
            "smoothing": widgets.IntSlider(10, min=1, max=50, description="smoothing"),
        }
        for run in runs:  # one toggle per curve: a click shows or hides it (no Ctrl-click in a list)
            controls[run.optimizer] = widgets.ToggleButton(
                True, description=run.optimizer, icon="check", tooltip=f"show the {run.optimizer} curve"
            )
        super().__init__(controls)

    def layout(self) -> widgets.Widget:
        toggles = self.controls_row([run.optimizer for run in self.runs])
        return widgets.VBox(
            [
                self.controls_row(["smoothing"]),
                widgets.HBox([widgets.Label("show:"), toggles]),
                self.figure_image.image,
                self.errors,
            ]
        )

    def follow(self, state: CurvesState) -> None:
        """A shown curve's toggle is ticked."""
        for run in self.runs:
            icon = "check" if run.optimizer in state.curves else ""
            if self.controls[run.optimizer].icon != icon:
                self.controls[run.optimizer].icon = icon

    def compute(self, smoothing: int, **shown: bool) -> CurvesState:
        curves = {}
        for run in self.runs:
            if shown[run.optimizer]:
                losses = torch.tensor(run.losses, dtype=torch.float64)
                width = min(smoothing, len(losses))
                kernel = torch.ones(1, 1, width, dtype=torch.float64) / width
                curves[run.optimizer] = torch.nn.functional.conv1d(losses[None, None], kernel)[0, 0]
        return CurvesState(smoothing, curves)

    def build(self) -> tuple[Figure, dict]:
        fig = new_figure(8, 3.6)
        ax = fig.subplots()
        lines = {
            run.optimizer: ax.plot(
                [], [], linewidth=1.5, label=f"{run.optimizer} (lr {run.lr:g}): test {run.test_accuracy:.3f}"
            )[0]
            for run in self.runs
        }
        ax.set(xlabel="batch", ylabel="training loss", title="the same network and data, five optimizers")
        ax.legend(loc="upper right", fontsize=10)
        fig.subplots_adjust(left=0.08, right=0.98, top=0.9, bottom=0.14)
        return fig, {"ax": ax, "lines": lines}

    def draw(self, state: CurvesState) -> None:
        ax, lines = self.artists["ax"], self.artists["lines"]
        top, right = 0.1, 10
        for name, line in lines.items():
            visible = name in state.curves
            line.set_visible(visible)
            if visible:
                curve = state.curves[name]
                line.set_data(range(1, len(curve) + 1), curve.tolist())
                top, right = max(top, float(curve.max())), max(right, len(curve))
        ax.set_xlim(0, right)
        ax.set_ylim(0, top * 1.05)

    def displayed_curves(self) -> dict[str, list[float]]:
        return {name: list(line.get_ydata()) for name, line in self.artists["lines"].items() if line.get_visible()}


def compare_optimizers(
    build: Callable[[], nn.Module],
    train_epoch: Callable,
    evaluate_accuracy: Callable,
    *,
    lrs: dict[str, float] | None = None,
    train_subset: int = 12000,
    test_subset: int = 2000,
    epochs: int = 2,
    seed: int = 0,
) -> OptimizerCurves:
    """Train a fresh `build()` with each of the five optimizers (same seed, same data order) and compare.

    Quick mode: 2,000 training images, one epoch each.
    """
    from IPython.display import display

    if training.quick():
        train_subset, test_subset, epochs = 2000, 1000, 1
    lrs = {**COMPARISON_LRS, **(lrs or {})}
    status = widgets.Label("")
    display(status)
    runs = []
    for name, lr in lrs.items():
        status.value = f"training with {name} (lr {lr:g}) on {train_subset} images, {epochs} epoch(s)…"
        training.seed_everything(seed)
        net = build()
        loss = training.RecordingLoss()
        recipe = training.Recipe(name, name, lr, 64, epochs, normalize=True)
        history = training.fit(
            net,
            recipe,
            train_epoch,
            evaluate_accuracy,
            train_subset=train_subset,
            test_subset=test_subset,
            seed=seed,
            loss_fn=loss,
        )
        runs.append(Run(name, lr, loss.losses, history[-1].test_accuracy, history[-1].seconds))
    status.value = "test accuracy: " + ", ".join(f"{r.optimizer} {r.test_accuracy:.3f}" for r in runs)
    return OptimizerCurves(runs)


# --- feature maps -----------------------------------------------------------------------------------

MAX_MAPS = 24


def _activations(net: nn.Module, image: torch.Tensor) -> list[tuple[str, torch.Tensor]]:
    """(layer description, output) of every top-level layer whose output is still an image (N, C, H, W)."""
    outputs = []
    x = image[None].to(next(net.parameters()).device)
    was_training = net.training
    net.eval()
    try:
        with torch.no_grad():
            for name, layer in net.named_children():
                x = layer(x)
                if x.dim() == 4:
                    outputs.append((f"{name}: {type(layer).__name__}", x[0].cpu()))
    finally:
        net.train(was_training)
    return outputs


@dataclass
class FeatureMapsState:
    """One test image and the feature maps one layer makes of it."""

    image: torch.Tensor  # (28, 28)
    label: str  # its class name
    maps: list[torch.Tensor]  # up to MAX_MAPS maps (H, W) of the layer
    title: str  # the layer, its output shape, which channels are shown


class FeatureMapViewer(CourseWidget[FeatureMapsState]):
    """Pick a test image and a layer: the image and that layer's feature maps (up to 24 channels)."""

    def __init__(self, net: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> None:
        self.net, self.images, self.labels = net, images, labels
        self.layers = [name for name, _ in _activations(net, images[0])]
        self._cache: dict[int, list[tuple[str, torch.Tensor]]] = {}
        super().__init__(
            {
                "image": widgets.IntSlider(0, min=0, max=len(images) - 1, description="test image"),
                "layer": widgets.Dropdown(options=self.layers, description="layer"),
            }
        )

    def compute(self, image: int, layer: str) -> FeatureMapsState:
        if image not in self._cache:
            if len(self._cache) > 64:
                self._cache.clear()
            self._cache[image] = _activations(self.net, self.images[image])
        maps = dict(self._cache[image])[layer]
        label = data.CLASS_NAMES[int(self.labels[image])]
        shown = min(MAX_MAPS, maps.shape[0])
        title = f"{layer}: {tuple(maps.shape)}"
        if shown < maps.shape[0]:
            title += f", channels 1–{shown} of {maps.shape[0]}"
        return FeatureMapsState(self.images[image][0], label, list(maps[:shown]), title)

    def build(self) -> tuple[Figure, dict]:
        fig = new_figure(11, 4.2)
        grid = fig.add_gridspec(3, 10, left=0.01, right=0.99, top=0.88, bottom=0.02, wspace=0.08, hspace=0.25)
        ax_in = fig.add_subplot(grid[:, :2])
        ax_in.set_xticks([])
        ax_in.set_yticks([])
        image = ax_in.imshow(torch.zeros(28, 28).numpy(), cmap="gray", interpolation="nearest")
        maps = FeatureMapGrid(
            fig, MAX_MAPS, 8, cmap="viridis", slots=[grid[i // 8, 2 + i % 8] for i in range(MAX_MAPS)]
        )
        title = fig.suptitle("", fontsize=10)
        return fig, {"input": image, "ax_in": ax_in, "maps": maps, "title": title}

    def draw(self, state: FeatureMapsState) -> None:
        a = self.artists
        if not np.array_equal(a["input"].get_array(), state.image.numpy()):  # another layer of the same image
            a["input"].set_data(state.image.numpy())
            a["input"].set_clim(float(state.image.min()), float(state.image.max()))
        if a["ax_in"].get_title() != f"input: {state.label}":
            a["ax_in"].set_title(f"input: {state.label}", fontsize=10)
        if a["title"].get_text() != state.title:
            a["title"].set_text(state.title)
        a["maps"].update(state.maps)

    def displayed_maps(self) -> list[torch.Tensor]:
        return self.artists["maps"].displayed()


# --- confusion matrix and worst mistakes -----------------------------------------------------------

WORST = 8
ALL = "all classes"


@dataclass
class MistakesState:
    confusion: torch.Tensor  # (10, 10) int64: row = true class, column = predicted
    row: int | None  # highlighted true class (None: all)
    worst: list[int]  # indexes of the most confident mistakes (of that class)
    titles: list[str]


def _predictions(net: nn.Module, images: torch.Tensor) -> torch.Tensor:
    """Softmax probabilities (N, 10) of `net` on `images`, in eval mode, in chunks."""
    device = next(net.parameters()).device
    was_training = net.training
    net.eval()
    try:
        with torch.no_grad():
            return torch.cat(
                [torch.softmax(net(images[i : i + 1000].to(device)), dim=1).cpu() for i in range(0, len(images), 1000)]
            )
    finally:
        net.train(was_training)


def mistakes_state(probabilities: torch.Tensor, labels: torch.Tensor, true_class: str = ALL) -> MistakesState:
    """The confusion matrix and the most confident mistakes (optionally of one true class)."""
    predicted = probabilities.argmax(dim=1)
    confusion = torch.zeros(10, 10, dtype=torch.int64)
    confusion.index_put_((labels, predicted), torch.ones_like(labels), accumulate=True)
    wrong = predicted != labels
    row = None
    if true_class != ALL:
        row = data.CLASS_NAMES.index(true_class)
        wrong &= labels == row
    confidence = probabilities.max(dim=1).values
    candidates = wrong.nonzero().flatten()
    worst = candidates[confidence[candidates].argsort(descending=True)][:WORST].tolist()
    titles = [
        f"{data.CLASS_NAMES[int(labels[i])]}\n→ {data.CLASS_NAMES[int(predicted[i])]}\np = {float(confidence[i]):.2f}"
        for i in worst
    ]  # three short lines: no title reaches the next
    return MistakesState(confusion, row, worst, titles)


class MistakesView(CourseWidget[MistakesState]):
    """The confusion matrix of `net` on test images, and its most confident mistakes with their images."""

    def __init__(self, net: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> None:
        self.images, self.labels = images, labels
        self.probabilities = _predictions(net, images)
        super().__init__({"true_class": widgets.Dropdown(options=[ALL, *data.CLASS_NAMES], description="true class")})

    def compute(self, true_class: str) -> MistakesState:
        return mistakes_state(self.probabilities, self.labels, true_class)

    def build(self) -> tuple[Figure, dict]:
        fig = new_figure(12, 5.4)
        grid = fig.add_gridspec(
            2,
            6,
            width_ratios=[2.2, 2.2, 1, 1, 1, 1],
            left=0.1,
            right=0.97,
            top=0.91,
            bottom=0.2,
            wspace=0.35,
            hspace=0.75,
        )
        ax_conf = fig.add_subplot(grid[:, :2])
        confusion = MatrixView(ax_conf, torch.zeros(10, 10), cmap="Blues", title="confusion matrix (rows: true)")
        ax_conf.set_yticks(range(10), data.CLASS_NAMES, fontsize=10)
        ax_conf.set_xticks(range(10), data.CLASS_NAMES, fontsize=10, rotation=60, ha="right", rotation_mode="anchor")
        row = WindowHighlight(ax_conf, 0, 0, 1, 10, color="red")
        axes, ims = [], []
        for i in range(WORST):
            ax = fig.add_subplot(grid[i // 4, 2 + i % 4])
            ax.set_xticks([])
            ax.set_yticks([])
            axes.append(ax)
            ims.append(ax.imshow(torch.zeros(28, 28).numpy(), cmap="gray", interpolation="nearest"))
        return fig, {"confusion": confusion, "row": row, "axes": axes, "images": ims, "shown": [None] * WORST}

    def draw(self, state: MistakesState) -> None:
        a = self.artists
        accuracy = float(state.confusion.diag().sum()) / max(int(state.confusion.sum()), 1)
        a["confusion"].update(state.confusion.double(), title=f"confusion matrix (rows: true), accuracy {accuracy:.4f}")
        a["row"].set_visible(state.row is not None)
        if state.row is not None:
            a["row"].move(state.row, 0, 1, 10)
        for i, (ax, im) in enumerate(zip(a["axes"], a["images"])):
            visible = i < len(state.worst)
            if ax.get_visible() != visible:
                ax.set_visible(visible)
            if visible and a["shown"][i] != state.worst[i]:  # touch only the mistakes that changed
                a["shown"][i] = state.worst[i]
                picture = self.images[state.worst[i]][0]
                im.set_data(picture.numpy())
                im.set_clim(float(picture.min()), float(picture.max()))
            if visible and ax.get_title() != state.titles[i]:
                ax.set_title(state.titles[i], fontsize=10)

    def displayed_confusion(self) -> torch.Tensor:
        return self.artists["confusion"].values()
