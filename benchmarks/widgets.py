"""Time every widget's update against a naive rebuild of its figure.

    python benchmarks/widgets.py --json      # one JSON line
    python benchmarks/widgets.py             # a readable table

Each module in course_utils/widgets/ that defines ``BENCHMARK_CASES`` (a function returning
``[(name, factory, [control values, ...]), ...]``) is picked up: a topic adds its widgets there.
For each change, ``widget.set(**values)`` (compute + redraw of what changed + PNG) is timed,
then ``widget.render_naive(**values)`` (a brand-new figure drawn and rendered) for the same values.
Output: {"widgets": {name: {"median_ms", "naive_median_ms", "updates"}}}.
"""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import statistics
import sys
import time

import course_utils.widgets as widgets_package


def cases() -> list[tuple[str, object, list[dict]]]:
    found = []
    for info in sorted(pkgutil.iter_modules(widgets_package.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"course_utils.widgets.{info.name}")
        if hasattr(module, "BENCHMARK_CASES"):
            found += module.BENCHMARK_CASES()
    return found


def measure(factory, changes: list[dict], updates: int | None) -> dict:
    widget = factory()
    changes = changes[:updates] if updates else changes
    fast, naive = [], []
    for values in changes:
        start = time.perf_counter()
        widget.set(**values)
        fast.append((time.perf_counter() - start) * 1000)
    widget.set(**changes[0])
    for values in changes:
        start = time.perf_counter()
        widget.render_naive(**values)
        naive.append((time.perf_counter() - start) * 1000)
    return {"median_ms": round(statistics.median(fast), 2), "naive_median_ms": round(statistics.median(naive), 2),
            "updates": len(changes)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON line")
    parser.add_argument("--updates", type=int, default=None, help="time only the first N changes per widget")
    parser.add_argument("--only", nargs="*", help="widget names to run")
    args = parser.parse_args(argv)
    results = {}
    for name, factory, changes in cases():
        if args.only and name not in args.only:
            continue
        results[name] = measure(factory, changes, args.updates)
    if args.json:
        print(json.dumps({"widgets": results}))
    else:
        print(f"{'widget':<22}{'median ms':>12}{'naive ms':>12}{'ratio':>8}{'updates':>9}")
        for name, r in results.items():
            print(f"{name:<22}{r['median_ms']:>12.1f}{r['naive_median_ms']:>12.1f}"
                  f"{r['median_ms'] / r['naive_median_ms']:>8.2f}{r['updates']:>9}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
