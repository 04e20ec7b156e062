"""Functions timed side by side: one thread, a warm-up call each, rounds interleaved so load slows all alike.

    seconds = cu.timing.conv_timings({"mine": conv2d_unfold, "F.conv2d": F.conv2d}, sides=(8, 16, 32))
    cu.plotting.timing_plot((8, 16, 32), seconds)

``benchmarks/conv.py`` times with ``compare`` too, so the notebook's plot and the benchmark's ratios are
measured the same way.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence

import torch

from course_utils.widgets.base import single_thread

__all__ = ["compare", "conv_case", "conv_timings"]


def compare(fns: dict[str, Callable], args: tuple, kwargs: dict | None = None, rounds: int = 5) -> dict[str, float]:
    """Median wall seconds of one call ``fn(*args, **kwargs)`` for each of `fns`, on one thread, without autograd.

    Each function is called once first (warm-up: memory, oneDNN's set-up); then each of `rounds` rounds calls every
    function once in turn, so a change in the machine's load during the run slows them alike.
    """
    kwargs = kwargs or {}
    times: dict[str, list[float]] = {name: [] for name in fns}
    with single_thread(), torch.no_grad():
        for fn in fns.values():
            fn(*args, **kwargs)
        for _ in range(rounds):
            for name, fn in fns.items():
                start = time.perf_counter()
                fn(*args, **kwargs)
                times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def conv_case(
    side: int, batch: int = 8, channels: tuple[int, int] = (3, 8), kernel: int = 3, dtype=torch.float32, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Random X (batch, C_in, side, side), W (C_out, C_in, kernel, kernel) and b (C_out,) for a timing run."""
    gen = torch.Generator().manual_seed(seed)
    c_in, c_out = channels
    X = torch.randn(batch, c_in, side, side, generator=gen, dtype=dtype)
    W = torch.randn(c_out, c_in, kernel, kernel, generator=gen, dtype=dtype)
    return X, W, torch.randn(c_out, generator=gen, dtype=dtype)


def conv_timings(
    fns: dict[str, Callable], sides: Sequence[int] = (8, 16, 32, 64, 128), rounds: int = 5, **case
) -> dict[str, list[float]]:
    """For each image side, the median seconds of ``fn(X, W, b)`` for each of `fns` (``compare``), on
    ``conv_case(side, **case)``: name -> one time per side."""
    seconds: dict[str, list[float]] = {name: [] for name in fns}
    for side in sides:
        measured = compare(fns, conv_case(side, **case), rounds=rounds)
        for name in fns:
            seconds[name].append(measured[name])
    return seconds
