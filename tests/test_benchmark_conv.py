"""benchmarks/conv.py times 01's own solution against F.conv2d and prints the promised JSON; the timing helpers
and the plot the notebook draws with them."""

from __future__ import annotations

import importlib.util

import pytest
import torch
import torch.nn.functional as F

from conftest import ROOT, benchmark_json
from course_utils import plotting, timing


def _benchmark():
    spec = importlib.util.spec_from_file_location("benchmark_conv", ROOT / "benchmarks" / "conv.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_reference_is_the_source_notebooks_solution_and_agrees_with_torch():
    conv = _benchmark()
    namespace = conv.reference()
    assert {"corr2d", "convolve2d", "conv2d", "conv2d_unfold"} <= set(namespace)
    assert namespace["conv2d_unfold"].__code__.co_filename.endswith("01_convolution.ipynb")
    gen = torch.Generator().manual_seed(3)
    for case in conv.CASES.values():
        X = torch.randn(2, *case["x"][1:], generator=gen, dtype=torch.float64)
        W = torch.randn(case["w"], generator=gen, dtype=torch.float64)
        options = {"stride": case["stride"], "padding": case["padding"]}
        assert torch.allclose(namespace["conv2d_unfold"](X, W, **options), F.conv2d(X, W, **options))
    assert conv.CASES["cs231n"] == {"x": (100, 3, 31, 31), "w": (25, 3, 3, 3), "stride": 2, "padding": 1}


@pytest.mark.slow  # times four cases in a subprocess (~5 s)
def test_benchmark_prints_one_json_line_with_each_cases_ratios():
    figures = benchmark_json("conv.py", "--rounds", "2", timeout=600)
    assert figures["threads"] == 1 and figures["goal_ratio"] == 3.0
    assert set(figures["cases"]) == {"cs231n", "lenet_conv2"}
    for case in figures["cases"].values():
        for dtype in ("float32", "float64"):
            times = case[dtype]
            assert times["conv2d_unfold_ms"] > 0 and times["F.conv2d_ms"] > 0 and times["matmul_alone_ratio"] > 0
            assert times["ratio"] == pytest.approx(times["conv2d_unfold_ms"] / times["F.conv2d_ms"], rel=0.05, abs=0.02)
    assert "loop_ratio" in figures["cases"]["lenet_conv2"]["float32"]
    assert set(figures["within_goal_float32"]) == {"cs231n", "lenet_conv2"}


def test_compare_times_each_function_on_one_thread_and_restores_the_threads():
    seen = []

    def record(X):
        seen.append(torch.get_num_threads())
        return X + 1

    before = torch.get_num_threads()
    seconds = timing.compare({"a": record, "b": lambda X: X * 2}, (torch.ones(3),), rounds=4)
    assert set(seconds) == {"a", "b"} and all(s > 0 for s in seconds.values())
    assert seen == [1] * 5  # a warm-up call, then one per round
    assert torch.get_num_threads() == before


def test_conv_timings_gives_one_time_per_side_and_the_plot_draws():
    X, W, b = timing.conv_case(6, batch=2, channels=(3, 4), kernel=3, dtype=torch.float64)
    assert (X.shape, W.shape, b.shape, X.dtype) == ((2, 3, 6, 6), (4, 3, 3, 3), (4,), torch.float64)
    sides = [4, 8]
    seconds = timing.conv_timings({"F.conv2d": F.conv2d, "again": F.conv2d}, sides, rounds=1, batch=2)
    assert set(seconds) == {"F.conv2d", "again"} and all(len(t) == 2 and min(t) > 0 for t in seconds.values())
    picture = plotting.timing_plot(sides, seconds)
    ax = picture.figure.axes[0]
    assert ax.get_xscale() == ax.get_yscale() == "log"
    assert [line.get_label() for line in ax.get_lines()][:2] == ["F.conv2d", "again"]
    assert picture.png().startswith(b"\x89PNG")
