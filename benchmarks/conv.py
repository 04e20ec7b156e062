"""01's vectorised convolution (``conv2d_unfold``) against ``F.conv2d`` on one thread: CS231n's case and a LeNet layer.

    python benchmarks/conv.py --json       # one JSON line: each case's times and ratios, float32 and float64
    python benchmarks/conv.py              # the same, then a line per case

The solution timed is the reference: the solution cells of source/01_convolution/01_convolution.ipynb, executed
with nbgrader's markers removed (their only home; nothing of it lives in course_utils, which students read).
Both functions are timed by ``course_utils.timing.compare`` (one thread, rounds interleaved, medians), as the
notebook's plot is. Each case is first checked against ``F.conv2d``.

Cases: CS231n's fast-layers check (x (100, 3, 31, 31), w (25, 3, 3, 3), stride 2, padding 1) and LeNet-5's second
convolution on a batch of 256 (x (256, 6, 14, 14), w (16, 6, 5, 5)), where 01's loop ``conv2d`` (stride 1, no
padding) is timed too. Goal: ``conv2d_unfold`` within 3x of ``F.conv2d`` in float32 (``ratio`` = its time / torch's).
``matmul_alone_ratio`` times its matrix product alone, on columns made beforehand: a floor no im2col goes below.

Speed is measured here, never graded: under the split grader the student's function runs in the sandbox and each
call crosses to it as data, so no reference can be timed in the same process as the student's code, and on a
loaded 2-core machine the ratios here move by 2x between runs (the LeNet layer: 5x to 9x).
"""

from __future__ import annotations

import argparse
import json
import os

import torch
import torch.nn.functional as F

from course_utils import checks, timing
from course_utils.figures import _solutions

GOAL = 3.0
CASES = {
    "cs231n": {"x": (100, 3, 31, 31), "w": (25, 3, 3, 3), "stride": 2, "padding": 1},
    "lenet_conv2": {"x": (256, 6, 14, 14), "w": (16, 6, 5, 5), "stride": 1, "padding": 0},
}


def reference() -> dict:
    """01's solutions by name (``corr2d``, ``convolve2d``, ``conv2d``, ``conv2d_unfold``)."""
    return _solutions("01_convolution")


def measure(case: dict, dtype: torch.dtype, solutions: dict, rounds: int) -> dict:
    """Milliseconds of conv2d_unfold and F.conv2d on `case` (and of the loop conv2d where it applies), and ratios."""
    gen = torch.Generator().manual_seed(0)
    X = torch.randn(case["x"], generator=gen, dtype=dtype)
    W = torch.randn(case["w"], generator=gen, dtype=dtype)
    b = torch.randn(case["w"][0], generator=gen, dtype=dtype)
    options = {"stride": case["stride"], "padding": case["padding"]}
    unfold = solutions["conv2d_unfold"]
    expected = F.conv2d(X, W, b, **options)
    checks.assert_close(unfold(X, W, b, **options), expected, name=f"conv2d_unfold on {case}")
    fns = {"conv2d_unfold": unfold, "F.conv2d": F.conv2d}
    if case["stride"] == 1 and case["padding"] == 0:
        loop = solutions["conv2d"]
        checks.assert_close(loop(X, W, b), expected, name=f"conv2d on {case}")
        fns["conv2d (loop)"] = lambda X, W, b, **_: loop(X, W, b)
    # the matrix product alone, on columns made beforehand: the part of conv2d_unfold that no copy can speed up
    cols = F.unfold(X, case["w"][2:], padding=case["padding"], stride=case["stride"])
    W_flat = W.reshape(W.shape[0], -1)
    fns["matmul alone"] = lambda X, W, b, **_: W_flat @ cols
    seconds = timing.compare(fns, (X, W, b), options, rounds=rounds)
    torch_s = seconds["F.conv2d"]
    result = {f"{name}_ms": round(s * 1e3, 3) for name, s in seconds.items()}
    result["ratio"] = round(seconds["conv2d_unfold"] / torch_s, 2)
    result["matmul_alone_ratio"] = round(seconds["matmul alone"] / torch_s, 2)
    if "conv2d (loop)" in seconds:
        result["loop_ratio"] = round(seconds["conv2d (loop)"] / torch_s, 2)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print only the JSON line")
    parser.add_argument("--rounds", type=int, default=30, help="interleaved rounds per case (medians)")
    args = parser.parse_args()
    solutions = reference()
    load = os.getloadavg()[0]
    cases = {
        name: {
            str(dtype).removeprefix("torch."): measure(case, dtype, solutions, args.rounds)
            for dtype in (torch.float32, torch.float64)
        }
        for name, case in CASES.items()
    }
    figures = {
        "threads": 1,
        "goal_ratio": GOAL,
        "within_goal_float32": {name: c["float32"]["ratio"] <= GOAL for name, c in cases.items()},
        "cases": cases,
        "load_average": round(load, 2),
    }
    print(json.dumps(figures))
    if args.json:
        return
    for name, by_dtype in cases.items():
        for dtype, r in by_dtype.items():
            print(
                f"{name} {dtype}: conv2d_unfold {r['conv2d_unfold_ms']} ms, F.conv2d {r['F.conv2d_ms']} ms, "
                f"ratio {r['ratio']} (its matrix product alone {r['matmul_alone_ratio']})"
                + (f", loop ratio {r['loop_ratio']}" if "loop_ratio" in r else "")
            )


if __name__ == "__main__":
    main()
