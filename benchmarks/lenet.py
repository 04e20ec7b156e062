"""Train source post 003's recipe and the course's recipe on the real Fashion-MNIST, in one run, and compare.

    python benchmarks/lenet.py --json            # one JSON line, as the README describes
    python benchmarks/lenet.py --subset 2000 --epochs 1 --json   # a smoke run (what the tests use)
    python benchmarks/lenet.py --ablation 10000 --json   # what each speed switch of the course recipe buys

Both runs train under 06's live TrainingMonitor, as ``train_live`` does in the notebook; each run's
"monitor_share" is the time spent in the monitor's callbacks (drawing, labels, bar) over the training time.

Both train on the 55,000 images of the split "train-without-validation". The recipes were chosen on
"validation" (the last 5,000 training images): each run's "validation_accuracy" (after the last epoch) and
"validation_per_epoch" are what to compare recipes on; "test_accuracy" is the test set's, reported once.
"seconds_per_epoch" is the training time over the epochs; "load" is the machine's 1-minute load average
before and after the run (the machine may be shared: compare the two recipes of one run, "time_ratio").

The network, ``train_epoch`` and ``evaluate_accuracy`` are the reference solutions: the solution cells
of source/06_lenet/06_lenet.ipynb, executed with nbgrader's markers removed (their only home).
Both recipes run through ``course_utils.training.fit`` with the same seed, threads and device.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import nbformat

from course_utils import training

ROOT = Path(__file__).resolve().parent.parent

NOTEBOOK = ROOT / "source" / "06_lenet" / "06_lenet.ipynb"


def reference() -> dict:
    """The namespace of 06's setup imports and solution cells (markers stripped)."""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    namespace: dict = {}
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code" or not meta.get("solution"):
            continue
        source = "\n".join(
            line for line in cell.source.splitlines() if not re.search(r"### (BEGIN|END) SOLUTION", line)
        )
        exec(
            compile("import torch\nfrom torch import nn\n" + source, f"{NOTEBOOK.name}:{meta['grade_id']}", "exec"),
            namespace,
        )
    return namespace


def run(recipe: training.Recipe, ref: dict, subset: int | None, epochs: int | None) -> dict:
    from course_utils.widgets.lenet import TrainingMonitor

    recipe = replace(recipe, epochs=epochs) if epochs else recipe
    training.seed_everything(0)
    net = ref["build_lenet_relu"]()
    monitor = TrainingMonitor(recipe.epochs, recipe.name)
    spent = [0.0]

    def timed(callback: Callable) -> Callable:
        def call(*args):
            start = time.perf_counter()
            try:
                return callback(*args)
            finally:
                spent[0] += time.perf_counter() - start

        return call

    history = training.fit(
        net,
        recipe,
        ref["train_epoch"],
        ref["evaluate_accuracy"],
        train_subset=subset,
        seed=0,
        loss_fn=monitor.losses,
        on_batch=timed(monitor.on_batch),
        on_epoch=timed(monitor.on_epoch),
    )
    last = history[-1]
    return {
        "test_accuracy": round(last.test_accuracy, 4),
        "validation_accuracy": round(last.validation_accuracy, 4),
        "validation_per_epoch": [round(e.validation_accuracy, 4) for e in history],
        "seconds": round(last.seconds, 1),
        "seconds_per_epoch": round(last.seconds / last.epoch, 2),
        "epochs": last.epoch,
        "recipe": recipe.describe(),
        "monitor_seconds": round(spent[0], 3),
        "monitor_share": round(spent[0] / max(last.seconds, 1e-9), 4),
    }


#: The course recipe's speed switches, added one at a time by ``--ablation``.
SWITCHES = ("channels_last", "bf16", "fused")


def ablation(ref: dict, subset: int, repeats: int = 2) -> dict:
    """Seconds per epoch (scaled to 55,000 images) of the course recipe with none, then each more, of its speed
    switches: one epoch on `subset` images each, the configurations interleaved `repeats` times (the best kept),
    so a change in the machine's load hits them all alike."""
    configs = {"none": {}}
    for k, name in enumerate(SWITCHES):
        configs["+" + name] = {switch: True for switch in SWITCHES[: k + 1]}
    plain = replace(training.COURSE_RECIPE, epochs=1, **{switch: False for switch in SWITCHES})
    best: dict[str, float] = {}
    for _ in range(repeats):
        for name, switches in configs.items():
            training.seed_everything(0)
            history = training.fit(
                ref["build_lenet_relu"](),
                replace(plain, **switches),
                ref["train_epoch"],
                ref["evaluate_accuracy"],
                train_subset=subset,
                test_subset=1000,
            )
            per_epoch = history[-1].seconds * 55000 / subset
            best[name] = min(best.get(name, per_epoch), per_epoch)
    return {name: round(seconds, 2) for name, seconds in best.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON line")
    parser.add_argument("--subset", type=int, default=None, help="train on this many images (default: all 55,000)")
    parser.add_argument("--epochs", type=int, default=None, help="override both recipes' epochs")
    parser.add_argument(
        "--ablation",
        type=int,
        metavar="N",
        default=None,
        help="instead: seconds per epoch with the course recipe's speed switches added one by one, on N images",
    )
    args = parser.parse_args(argv)
    threads = training.set_threads()
    ref = reference()
    load = [round(os.getloadavg()[0], 2)]
    if args.ablation:
        seconds = ablation(ref, args.ablation)
        results = {"seconds_per_epoch": seconds, "threads": threads, "load": [*load, round(os.getloadavg()[0], 2)]}
        print(json.dumps(results) if args.json else results)
        return 0
    results = {
        "baseline_recipe": run(training.BASELINE_RECIPE, ref, args.subset, args.epochs),
        "course_recipe": run(training.COURSE_RECIPE, ref, args.subset, args.epochs),
    }
    baseline_s = max(results["baseline_recipe"]["seconds"], 1e-9)
    results["time_ratio"] = round(results["course_recipe"]["seconds"] / baseline_s, 3)
    results["threads"], results["device"] = threads, str(training.choose_device())
    results["bf16_native"] = training.bf16_native(training.choose_device())
    results["load"] = [*load, round(os.getloadavg()[0], 2)]
    if args.json:
        print(json.dumps(results))
    else:
        for name in ("baseline_recipe", "course_recipe"):
            r = results[name]
            print(
                f"{name}: validation accuracy {r['validation_accuracy']:.4f}, test accuracy {r['test_accuracy']:.4f} "
                f"after {r['epochs']} epochs in {r['seconds']:.1f} s ({r['seconds_per_epoch']:.1f} s per epoch; "
                f"{r['recipe']}); the live monitor took {100 * r['monitor_share']:.1f}%"
            )
        print(f"course / baseline time: {results['time_ratio']:.2f}; load average {results['load']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
