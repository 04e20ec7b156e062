"""Time every widget's update against a naive rebuild of its figure.

    python benchmarks/widgets.py --json      # one JSON line
    python benchmarks/widgets.py             # a readable table

``CASES`` lists, per widget, the control changes a student makes. For each change,
``widget.set(**values)`` (compute + redraw of what changed + PNG) is timed, then at once ``render_naive``
(a brand-new figure drawn and rendered) for the same values.
Output: {"widgets": {name: {"median_ms", "naive_median_ms", "ratio", "cpu_median_ms",
"naive_cpu_median_ms", "updates"}}}, and "load": the 1-minute load average before and after the run
(the machine may be shared: compare ratios within one run).
tests/test_widgets_redraw.py drives the same cases and checks every redraw against a full one.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable

import torch
from torch import nn

from course_utils import data
from course_utils.plotting import figure_to_png
from course_utils.widgets import backprop, convolution, lenet, losses, padding_stride, pooling
from course_utils.widgets.base import CourseWidget, single_thread

Case = tuple[str, Callable[[], CourseWidget], list[dict]]


def render_naive(widget: CourseWidget, **values) -> bytes:
    """The slow path: a brand-new figure for the state of `values`, drawn, rendered to PNG and dropped
    (computed and drawn on one PyTorch thread, as the widget's own update)."""
    keep = widget.artists
    try:
        with single_thread():
            state = widget.compute(**{**widget.values(), **values})
            figure, widget.artists = widget.build()
            widget.draw(state)
        return figure_to_png(figure)
    finally:
        widget.artists = keep


def _convolution() -> list[Case]:
    six_by_six = "6x6 input, 3x3 filter"
    window = [{"example": six_by_six, "mode": "full", "step": 0}] + [{"step": s} for s in range(1, 40)]
    gallery = [
        {"image": image, "kernel": kernel}
        for image in [*data.SYNTHETIC_IMAGES, convolution.PHOTO]
        for kernel in ("diff_x", "diff_y", "top_sobel", "sharpen", "blur", "outline", "emboss", "left_sobel")
    ]
    channels = [
        {"mixing": mixing, "kernel": kernel}
        for kernel in ("outline", "blur", "left_sobel", "sharpen", "emboss")
        for mixing in convolution.MIXINGS
    ]
    shift = [
        {"image": image, "kernel": kernel, "dy": dy, "dx": dx}
        for image in convolution.SHIFT_IMAGES
        for kernel in ("left_sobel", "outline")
        for dy, dx in ((0, 1), (1, 1), (-2, 3), (0, 0))
    ]
    return [
        ("shift", convolution.ShiftExplorer, shift),
        ("sliding_window", convolution.SlidingWindowExplorer, window),
        ("kernel_gallery", convolution.KernelGallery, gallery),
        ("channels", convolution.ChannelsView, channels),
    ]


def _padding_stride() -> list[Case]:
    """Presets, single sliders, stepping through placements."""
    ps = padding_stride
    arithmetic = [dict(preset, placement=0) for preset in ps.PRESETS.values()]
    arithmetic += [{"placement": p} for p in range(1, 9)]
    arithmetic += [
        {"ph": 1},
        {"pw": 2},
        {"sh": 1},
        {"dw": 1},
        {"kh": 3},
        {"H": 6},
        {"numbers": "times read"},
        {"numbers": "input values"},
    ]
    stacks = [ps.ReceptiveFieldExplorer.preset_values(stack) for stack in ps.RF_PRESETS.values()]
    stacks += [{"unit": u} for u in range(9)]
    stacks += [
        {"layers": 3, "k1": 3, "s1": 1, "k2": 3, "s2": 1, "k3": 3, "s3": 1},
        {"k2": 5},
        {"s1": 2},
        {"layers": 4},
        {"k4": 2},
    ]
    return [
        ("conv_arithmetic_explorer", ps.ConvArithmeticExplorer, arithmetic),
        ("receptive_field_explorer", ps.ReceptiveFieldExplorer, stacks),
    ]


def _pooling() -> list[Case]:
    steps = [{"input": "two-channel 4x4: channel 0", "kernel": 2, "stride": 1, "window": 0}] + [
        {"window": w} for w in range(1, 9)
    ]
    options = [
        {"kind": kind, "padding": p, "ceil_mode": ceil, "stride": 2}
        for kind in ("max", "avg")
        for p in (0, 1)
        for ceil in (False, True)
    ]
    return [("pooling_explorer", pooling.PoolingExplorer, (steps + options) * 2)]


def _losses() -> list[Case]:
    curve = [{"p": round(0.02 + 0.024 * i, 3)} for i in range(40)]
    bars = [{"temperature": 10 ** (-1 + 0.05 * i)} for i in range(40)]
    switch = [{"example": e, "reduction": r} for e in losses.REDUCTION_EXAMPLES for r in ("mean", "sum", "none")] * 4
    return [
        ("bce_curve", losses.BCECurve, curve),
        ("softmax_bars", losses.SoftmaxBars, bars),
        ("reduction_switch", losses.ReductionSwitch, switch),
    ]


def _backprop() -> list[Case]:
    reach = (
        [{"cell": c} for c in range(1, 10)]
        + [{"layer": "max pool", "cell": 0}]
        + [{"cell": c} for c in range(1, 4)]
        + [{"layer": "avg pool"}, {"stride": 2}, {"layer": "conv", "padding": 1}, {"kernel": 2}]
    )
    flipped = [{"step": s} for s in range(1, 13)] + [
        {"stride": 2, "step": 0},
        {"step": 7},
        {"padding": 1},
        {"step": 20},
        {"stride": 1, "padding": 0},
    ]
    return [("gradient_reach", backprop.GradientReach, reach), ("flipped_kernel", backprop.FlippedKernelView, flipped)]


def _lenet() -> list[Case]:
    """A small random conv net (not LeNet) and random images: the widgets' drawing cost, no dataset needed."""
    generator = torch.Generator().manual_seed(0)
    with torch.random.fork_rng():  # the layers' initialisation, without touching the caller's random state
        torch.manual_seed(0)
        net = nn.Sequential(
            nn.Conv2d(1, 8, 5),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(8, 30, 3),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(750, 10),
        )
    images, labels = torch.rand(500, 1, 28, 28, generator=generator), torch.randint(0, 10, (500,), generator=generator)
    names = [name for name, layer in net.named_children() if not isinstance(layer, (nn.Flatten, nn.Linear))]
    names = [f"{name}: {type(net.get_submodule(name)).__name__}" for name in names]
    maps = [{"image": i} for i in range(1, 9)] + [{"layer": name} for name in names]
    maps += [{"image": 20, "layer": names[0]}]
    mistakes = [{"true_class": name} for name in [*data.CLASS_NAMES, lenet.ALL]]
    return [
        ("feature_maps", lambda: lenet.FeatureMapViewer(net, images, labels), maps),
        ("mistakes", lambda: lenet.MistakesView(net, images, labels), mistakes),
    ]


def cases() -> list[Case]:
    """(name, widget factory, [control values, ...]) for every widget of the course, topic by topic."""
    return [*_convolution(), *_padding_stride(), *_pooling(), *_losses(), *_backprop(), *_lenet()]


def measure(factory: Callable[[], CourseWidget], changes: list[dict], updates: int | None) -> dict:
    """Median wall and CPU milliseconds of each change's update and of its naive rebuild.

    The two are timed change by change, one right after the other, so a load that comes and goes on a
    shared machine weighs on both alike and their ratio holds; CPU time (of the whole process) leaves
    out the waits for a busy core.
    """
    widget = factory()
    changes = changes[:updates] if updates else changes
    timings: dict[str, list[float]] = {"fast": [], "naive": [], "fast_cpu": [], "naive_cpu": []}
    for values in changes:
        for path in ("fast", "naive"):
            wall, cpu = time.perf_counter(), time.process_time()
            if path == "fast":
                widget.set(**values)
            else:
                render_naive(widget)  # the state `set` just made, drawn on a brand-new figure
            timings[f"{path}_cpu"].append((time.process_time() - cpu) * 1000)
            timings[path].append((time.perf_counter() - wall) * 1000)
    median = {name: round(statistics.median(values), 2) for name, values in timings.items()}
    return {
        "median_ms": median["fast"],
        "naive_median_ms": median["naive"],
        "ratio": round(median["fast"] / median["naive"], 3),
        "cpu_median_ms": median["fast_cpu"],
        "naive_cpu_median_ms": median["naive_cpu"],
        "updates": len(changes),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON line")
    parser.add_argument("--updates", type=int, default=None, help="time only the first N changes per widget")
    parser.add_argument("--only", nargs="*", help="widget names to run")
    args = parser.parse_args(argv)
    results, load_before = {}, os.getloadavg()[0]
    for name, factory, changes in cases():
        if args.only and name not in args.only:
            continue
        results[name] = measure(factory, changes, args.updates)
    if args.json:
        print(json.dumps({"widgets": results, "load": [load_before, os.getloadavg()[0]]}))
    else:
        print(
            f"{'widget':<26}{'median ms':>12}{'naive ms':>12}{'ratio':>8}{'cpu ms':>9}{'naive cpu':>11}{'updates':>9}"
        )
        for name, r in results.items():
            print(
                f"{name:<26}{r['median_ms']:>12.1f}{r['naive_median_ms']:>12.1f}{r['ratio']:>8.2f}"
                f"{r['cpu_median_ms']:>9.1f}{r['naive_cpu_median_ms']:>11.1f}{r['updates']:>9}"
            )
        print(f"load average (1 min): {load_before:.2f} before, {os.getloadavg()[0]:.2f} after")
    return 0


if __name__ == "__main__":
    sys.exit(main())
