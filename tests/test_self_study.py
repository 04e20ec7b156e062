"""cu.practice(fn): the source notebooks' solutions pass every case; a plausible mistake fails with its arguments."""

from __future__ import annotations

import re

import pytest

import course_utils as cu
from autograder.cli.mutation import _cells, load_mutants

PRACTICED = {
    "01_convolution": ["corr2d", "convolve2d", "conv2d", "conv2d_unfold"],
    "02_padding_stride": ["pad2d", "conv2d", "receptive_field"],
    "03_pooling": ["pool_geometry", "max_pool2d", "avg_pool2d", "global_avg_pool2d"],
    "04_losses": ["sigmoid", "softmax", "binary_cross_entropy", "cross_entropy"],
    "05_backprop": ["conv2d_backward", "max_pool2d_backward", "avg_pool2d_backward", "learn_kernel"],
    "06_lenet": ["build_lenet", "build_lenet_relu", "evaluate_accuracy", "train_epoch", "batch_norm2d"],
}


def solutions(assignment: str, mutant: str | None = None) -> dict:
    """The namespace of `assignment`'s solution cells (markers stay: they are comments), one mutant applied."""
    namespace: dict = {}
    imports = "import math\nimport torch\nimport torch.nn.functional as F\nfrom torch import nn\n"
    imports += "import course_utils as cu"
    exec(imports, namespace)
    change = next((m for m in load_mutants(assignment) if m.name == mutant), None)
    for _, source in _cells(assignment)[1]:
        if change is not None and f"def {change.function}(" in source:
            source = source.replace(change.old, change.new)
        exec(compile(source, f"<{assignment}>", "exec"), namespace)
    return namespace


@pytest.mark.parametrize("assignment", sorted(PRACTICED))
def test_the_solutions_pass_practice(assignment):
    namespace = solutions(assignment)
    for name in PRACTICED[assignment]:
        report = cu.practice(namespace[name], seed=1)
        assert report.passed, str(report)
        assert report.cases >= 1


@pytest.mark.parametrize(
    ("assignment", "mutant", "function", "named"),
    [
        (
            "01_convolution",
            "corr2d_same_pads_top_left",
            "corr2d",
            r"corr2d\(<tensor \(\d+, \d+\) float(32|64), values \S+ to \S+>",
        ),
        ("01_convolution", "unfold_patch_order", "conv2d_unfold", r"conv2d_unfold\(<tensor \(\d+, \d+, \d+, \d+\)"),
        ("02_padding_stride", "rf_ignores_dilation", "receptive_field", r"receptive_field\(\[.*\(\d+, \d+, [2-9]\)"),
        ("03_pooling", "avg_count_include_pad_inverted", "avg_pool2d", r"count_include_pad="),
        ("03_pooling", "geometry_ceil_keeps_last_in_padding", "pool_geometry", r"pool_geometry\(<tensor .*True\)"),
        ("04_losses", "softmax_shift_in_place", "softmax", r"in place"),
        ("04_losses", "sigmoid_clamps_20", "sigmoid", r"sigmoid"),
        (
            "05_backprop",
            "lk_no_mean",
            "learn_kernel",
            r"learn_kernel\(<tensor \(\d+, \d+, \d+, \d+\) float(32|64), values \S+ to \S+>",
        ),
        ("05_backprop", "lk_losses_are_tensors", "learn_kernel", r"Python floats"),
        ("05_backprop", "lk_updates_w0_in_place", "learn_kernel", r"in place"),
        ("05_backprop", "lk_negative_steps_accepted", "learn_kernel", r"should raise ValueError"),
        ("06_lenet", "eval_no_no_grad", "evaluate_accuracy", r"no_grad"),
        ("06_lenet", "train_no_train_mode", "train_epoch", r"net\.train"),
        (
            "06_lenet",
            "bn_running_var_biased",
            "batch_norm2d",
            r"running_var after batch_norm2d\(<tensor \(\d+, \d+, \d+, \d+\)",
        ),
        ("06_lenet", "bn_running_stats_rebound", "batch_norm2d", r"running_mean was not updated in place"),
        ("06_lenet", "bn_updated_in_eval", "batch_norm2d", r"eval mode: running_mean changed"),
        ("06_lenet", "bn_float32_result", "batch_norm2d", r"float32, expected torch.float64"),
        ("06_lenet", "bn_no_shape_check", "batch_norm2d", r"should raise ValueError"),
    ],
)
def test_a_mistake_fails_practice_and_names_its_case(assignment, mutant, function, named):
    report = cu.practice(solutions(assignment, mutant)[function], seed=2)
    assert not report.passed
    assert re.search(named, "\n".join(report.failures)), str(report)
    assert "fail" in str(report).splitlines()[0]


def test_practice_refuses_an_unknown_function():
    def mystery(x):
        return x

    with pytest.raises(ValueError, match="no practice for 'mystery'"):
        cu.practice(mystery)


def test_has_practice_knows_each_graded_function_and_nothing_else():
    """cu.checks.hidden_tests_to_come offers cu.practice(fn) only where practice(fn) runs."""
    from course_utils.self_study import has_practice, practice

    def conv2d(X, W, b=None):
        return X

    def momentum_step(w, g, v, lr, momentum):
        return w, v

    assert has_practice(conv2d) and not has_practice(momentum_step)
    practice(conv2d, seed=0)  # a known one runs (and fails: it returns X)
    with pytest.raises(ValueError, match="no practice for 'momentum_step'"):
        practice(momentum_step)
