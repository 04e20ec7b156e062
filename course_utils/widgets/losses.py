"""Widgets of 04_losses: the BCE curve, softmax bars with temperature, the reduction switch.

Every number shown comes from PyTorch (``course_utils.oracles``).
"""

from __future__ import annotations

from dataclasses import dataclass

import ipywidgets as widgets
import torch
from matplotlib.figure import Figure

from course_utils import examples, oracles
from course_utils.plotting import new_figure
from course_utils.widgets.base import CourseWidget

__all__ = [
    "BCECurve",
    "BCEState",
    "ReductionState",
    "ReductionSwitch",
    "SoftmaxBars",
    "SoftmaxState",
    "bce_curve_state",
    "reduction_state",
    "saturation_table",
    "softmax_state",
]

_GRID = torch.linspace(1e-3, 1 - 1e-3, 400, dtype=torch.float64)


# --- 1. BCE as a curve -------------------------------------------------------------------------


@dataclass
class BCEState:
    p: float
    loss_y1: float  # -log(p)
    loss_y0: float  # -log(1 - p)


def bce_curve_state(p: float) -> BCEState:
    """BCE of one prediction `p` for label 1 and for label 0, by F.binary_cross_entropy."""
    pt = torch.tensor([p], dtype=torch.float64)
    return BCEState(
        p,
        float(oracles.binary_cross_entropy(pt, torch.ones(1, dtype=torch.float64))),
        float(oracles.binary_cross_entropy(pt, torch.zeros(1, dtype=torch.float64))),
    )


class BCECurve(CourseWidget[BCEState]):
    """BCE over the predicted probability for y = 1 and y = 0, with the current prediction marked."""

    def __init__(self) -> None:
        self.readout = widgets.HTML()  # the two losses in text, beside the slider
        super().__init__(
            {
                "p": widgets.FloatSlider(
                    0.7, min=0.001, max=0.999, step=0.001, readout_format=".3f", description="p(y=1)"
                )
            }
        )

    def layout(self) -> widgets.Widget:
        return widgets.VBox([widgets.HBox([self.controls["p"], self.readout]), self.figure_image.image, self.errors])

    def compute(self, p: float) -> BCEState:
        return bce_curve_state(p)

    def build(self) -> tuple[Figure, dict]:
        fig = new_figure(7, 3.6)
        ax = fig.add_subplot()
        ones, zeros = torch.ones_like(_GRID), torch.zeros_like(_GRID)
        ax.plot(_GRID, oracles.binary_cross_entropy(_GRID, ones, "none"), color="tab:blue", label="y = 1: −log p")
        ax.plot(
            _GRID, oracles.binary_cross_entropy(_GRID, zeros, "none"), color="tab:orange", label="y = 0: −log(1 − p)"
        )
        ax.set_xlabel("predicted probability p")
        ax.set_ylabel("loss")
        ax.set_ylim(0, 7)
        ax.legend(loc="upper center")
        artists = {
            "y1": ax.plot([], [], "o", color="tab:blue", markersize=9, animated=True)[0],
            "y0": ax.plot([], [], "o", color="tab:orange", markersize=9, animated=True)[0],
            "title": ax.set_title("", animated=True),
        }  # animated: drawn over the cached curves
        fig.subplots_adjust(left=0.1, right=0.97, top=0.88, bottom=0.15)
        return fig, artists

    def draw(self, state: BCEState) -> None:
        a = self.artists
        a["y1"].set_data([state.p], [state.loss_y1])
        a["y0"].set_data([state.p], [state.loss_y0])
        a["title"].set_text(f"p = {state.p:.3f}:  loss {state.loss_y1:.4f} if y = 1,  {state.loss_y0:.4f} if y = 0")
        self.readout.value = f"<code>loss if y=1: {state.loss_y1:.4f} | loss if y=0: {state.loss_y0:.4f}</code>"

    def displayed_points(self) -> dict[str, tuple[float, float]]:
        return {k: (float(self.artists[k].get_xdata()[0]), float(self.artists[k].get_ydata()[0])) for k in ("y1", "y0")}


# --- 2. softmax bars ---------------------------------------------------------------------------


@dataclass
class SoftmaxState:
    logits: torch.Tensor  # (C,)
    temperature: float
    probabilities: torch.Tensor  # (C,) softmax(logits / T)
    target: int
    loss: float  # cross entropy of logits / T for the target class


def softmax_state(logits: list[float], temperature: float, target: int) -> SoftmaxState:
    """Softmax of logits / temperature and the cross entropy for class `target`, by PyTorch."""
    z = torch.tensor(logits, dtype=torch.float64)
    scaled = z / temperature
    loss = float(oracles.cross_entropy(scaled[None], torch.tensor([target])))
    return SoftmaxState(z, temperature, oracles.softmax(scaled), target, loss)


class SoftmaxBars(CourseWidget[SoftmaxState]):
    """Editable logits, their softmax as bars, the loss of the chosen class and a temperature."""

    CLASSES = 4

    def __init__(self) -> None:
        start = [float(v) for v in examples.cross_entropy_examples()[0][0][0]]
        controls: dict[str, widgets.Widget] = {
            f"z{i}": widgets.FloatText(round(v, 4), description=f"z{i}", layout=widgets.Layout(width="160px"))
            for i, v in enumerate(start)
        }
        controls["temperature"] = widgets.FloatLogSlider(1.0, base=10, min=-1, max=1, step=0.05, description="T")
        controls["target"] = widgets.Dropdown(options=list(range(self.CLASSES)), value=3, description="class")
        super().__init__(controls)

    def compute(self, temperature: float, target: int, **logits: float) -> SoftmaxState:
        return softmax_state([logits[f"z{i}"] for i in range(self.CLASSES)], temperature, target)

    def build(self) -> tuple[Figure, dict]:
        fig = new_figure(7, 3.4)
        ax = fig.add_subplot()
        bars = ax.bar(range(self.CLASSES), [0.0] * self.CLASSES, color="tab:gray", animated=True)
        ax.set_ylim(0, 1.05)
        ax.set_xticks(range(self.CLASSES))
        ax.set_xlabel("class")
        ax.set_ylabel("softmax probability")
        labels = [ax.text(i, 0, "", ha="center", va="bottom", animated=True) for i in range(self.CLASSES)]
        fig.subplots_adjust(left=0.1, right=0.97, top=0.88, bottom=0.15)
        return fig, {"bars": list(bars), "labels": labels, "title": ax.set_title("", animated=True)}

    def draw(self, state: SoftmaxState) -> None:
        a = self.artists
        for i, (bar, label, prob) in enumerate(zip(a["bars"], a["labels"], state.probabilities.tolist())):
            bar.set_height(prob)
            bar.set_color("tab:green" if i == state.target else "tab:gray")
            label.set_position((i, prob))
            label.set_text(f"{prob:.3f}")
        a["title"].set_text(
            f"T = {state.temperature:.2f}: loss for class {state.target} = "
            f"−log {float(state.probabilities[state.target]):.4f} = {state.loss:.4f}"
        )

    def displayed_probabilities(self) -> torch.Tensor:
        return torch.tensor([bar.get_height() for bar in self.artists["bars"]], dtype=torch.float64)


# --- 3. the reduction switch -------------------------------------------------------------------

REDUCTION_EXAMPLES = {
    "four samples: p = [0.1, 0.2, 0.3, 0.4]": examples.bce_example,
    "five samples: p = [0.2, 0.8, 0.4, 0.1, 0.9]": examples.bce_example_unused,
}


@dataclass
class ReductionState:
    per_sample: torch.Tensor  # (N,) reduction="none"
    reduction: str
    reduced: torch.Tensor  # what the reduction returns


def reduction_state(example: str, reduction: str) -> ReductionState:
    """Per-sample BCE losses of an example and what `reduction` makes of them, by PyTorch."""
    p, y = REDUCTION_EXAMPLES[example]()
    p, y = p.double(), y.double()
    return ReductionState(
        oracles.binary_cross_entropy(p, y, "none"), reduction, oracles.binary_cross_entropy(p, y, reduction)
    )


class ReductionSwitch(CourseWidget[ReductionState]):
    """Per-sample losses as bars, and the mean, the sum, or nothing at all (reduction="none")."""

    def __init__(self) -> None:
        super().__init__(
            {
                "example": widgets.Dropdown(options=list(REDUCTION_EXAMPLES), description="example"),
                "reduction": widgets.ToggleButtons(options=["mean", "sum", "none"], description="reduction"),
            }
        )

    def compute(self, example: str, reduction: str) -> ReductionState:
        return reduction_state(example, reduction)

    def build(self) -> tuple[Figure, dict]:
        fig = new_figure(7, 3.4)
        ax = fig.add_subplot()
        bars = ax.bar(range(5), [0.0] * 5, color="tab:blue", animated=True)
        mean_line = ax.axhline(0, color="tab:red", linestyle="--", animated=True)
        ax.set_ylim(0, 2.5)
        ax.set_xlabel("sample")
        ax.set_ylabel("loss")
        fig.subplots_adjust(left=0.1, right=0.97, top=0.84, bottom=0.15)
        return fig, {"ax": ax, "bars": list(bars), "line": mean_line, "title": ax.set_title("", animated=True)}

    def draw(self, state: ReductionState) -> None:
        a = self.artists
        n = state.per_sample.numel()
        if a["ax"].get_xlim() != (-0.6, n - 0.4):  # as many slots as samples
            a["ax"].set_xlim(-0.6, n - 0.4)
            a["ax"].set_xticks(range(n))
        for i, bar in enumerate(a["bars"]):
            bar.set_visible(i < n)
            bar.set_height(float(state.per_sample[i]) if i < n else 0.0)
        if state.reduction == "none":
            a["line"].set_visible(False)
            text = (
                "reduction='none': the vector of per-sample losses\n"
                + "["
                + ", ".join(f"{v:.4f}" for v in state.per_sample.tolist())
                + "]"
            )
        else:
            value = float(state.reduced)
            a["line"].set_visible(state.reduction == "mean")
            a["line"].set_ydata([value, value])
            text = f"reduction='{state.reduction}': {value:.4f}" + (
                " (dashed line)" if state.reduction == "mean" else f" = {n} × the mean"
            )
        a["title"].set_text(text)

    def displayed_per_sample(self) -> torch.Tensor:
        return torch.tensor([b.get_height() for b in self.artists["bars"] if b.get_visible()], dtype=torch.float64)


def saturation_table(xs: list[float]) -> list[tuple[float, float, float]]:
    """(x, BCELoss(sigmoid(x), 1), BCEWithLogitsLoss(x, 1)) in float32, by PyTorch: where the first saturates at 100."""
    x = torch.tensor(xs, dtype=torch.float32)
    ones = torch.ones_like(x)
    via_sigmoid = torch.nn.functional.binary_cross_entropy(torch.sigmoid(x), ones, reduction="none")
    with_logits = torch.nn.functional.binary_cross_entropy_with_logits(x, ones, reduction="none")
    return [(float(a), float(b), float(c)) for a, b, c in zip(x, via_sigmoid, with_logits)]
