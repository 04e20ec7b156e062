"""benchmarks/lenet.py runs both recipes from 06's own solution cells and prints the promised JSON."""

from __future__ import annotations

import importlib.util

import pytest

from conftest import ROOT, benchmark_json


@pytest.mark.slow  # trains LeNet twice in a subprocess (~20 s)
def test_lenet_benchmark_prints_one_json_line_for_both_recipes():
    figures = benchmark_json("lenet.py", "--subset", "1000", "--epochs", "1", timeout=600)
    for name in ("baseline_recipe", "course_recipe"):
        run = figures[name]
        assert set(run) >= {"test_accuracy", "validation_accuracy", "seconds", "seconds_per_epoch", "epochs"}
        assert 0.0 <= run["test_accuracy"] <= 1.0 and run["seconds"] > 0 and run["epochs"] == 1
        assert run["validation_per_epoch"] == [run["validation_accuracy"]] and 0.0 <= run["validation_accuracy"] <= 1
        assert run["seconds_per_epoch"] == pytest.approx(run["seconds"], abs=0.06)
    assert len(figures["load"]) == 2 and isinstance(figures["bf16_native"], bool)
    assert figures["course_recipe"]["test_accuracy"] > 0.3  # one epoch of Adam on 1,000 images already learns


def test_reference_comes_from_the_source_notebooks_solution_cells():
    spec = importlib.util.spec_from_file_location("benchmark_lenet", ROOT / "benchmarks" / "lenet.py")
    lenet = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(lenet)
    namespace = lenet.reference()
    assert {"build_lenet", "build_lenet_relu", "evaluate_accuracy", "train_epoch"} <= set(namespace)
    assert sum(p.numel() for p in namespace["build_lenet_relu"]().parameters()) == 170988


@pytest.mark.slow  # eight one-epoch runs on 500 images in a subprocess
def test_lenet_ablation_times_each_speed_switch():
    figures = benchmark_json("lenet.py", "--ablation", "500", only_line=False, timeout=600)
    assert list(figures["seconds_per_epoch"]) == ["none", "+channels_last", "+bf16", "+fused"]
    assert all(seconds > 0 for seconds in figures["seconds_per_epoch"].values())
