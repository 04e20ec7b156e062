"""Assertions for the graded tests, and the guard that keeps PyTorch's own ops out of the exercises.

The assertion helpers explain a failure the way a student needs it: expected vs. got shape or
dtype, and for values the worst element's index with both values there.

``forbid(*groups)`` watches torch's dispatcher while a student's function runs, so a banned op
is caught whatever name reaches it: ``F.conv2d``, ``nn.Conv2d``, ``torch.ops.aten.convolution``,
or an alias captured before the test began (``from torch.nn.functional import conv2d as c``).
Two layers: a TorchDispatchMode sees every aten op, and a TorchFunctionMode sees the public
functions that have no aten op of their own (``F.adaptive_avg_pool2d(x, 1)`` runs as ``mean``,
circular padding as slices, autograd as the engine). ``scan_source`` is a second line for
NumPy/SciPy helpers, which torch never sees.
"""

from __future__ import annotations

import ast
import inspect
import sys
import textwrap
import types
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode

__all__ = [
    "CheckFailure",
    "ForbiddenOperationError",
    "GROUPS",
    "ModeProbe",
    "NUMPY_SCIPY_CONV",
    "assert_batch_norm",
    "assert_close",
    "assert_dtype",
    "assert_raises",
    "assert_shape",
    "call_guarded",
    "hidden_tests_to_come",
    "check_answer",
    "describe_call",
    "forbid",
    "passed",
    "scan_source",
]


# ---------------------------------------------------------------------------------------------
# assertions


class CheckFailure(AssertionError):
    """A failed check. Its message says what was called, what was expected and what came back.

    In IPython (JupyterLab, nbgrader's kernels) it is shown short: the message, then the test cell's line,
    without the checker's own frames (``_show_short``); pytest leaves out the frames marked
    ``__tracebackhide__``.
    """

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        _show_short()


def _short_traceback(shell: Any, etype: type, value: BaseException, tb: Any, tb_offset: Any = None) -> list[str]:
    """IPython's handler for a failed check: the message first, then where in the test cell it failed."""
    import traceback

    frames = [f for f in traceback.extract_tb(tb) if "course_utils" not in f.filename.replace("\\", "/")]
    where = [f"(in the test cell, line {frames[-1].lineno}: {(frames[-1].line or '').strip()})"] if frames else []
    stb = [f"{etype.__name__}: {value}", *where]
    shell._showtraceback(etype, value, stb)
    return stb


def _show_short() -> None:
    """Have IPython show failed checks short, unless something else already handles exceptions there."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None or getattr(shell, "custom_exceptions", ()) not in ((), (CheckFailure,)):
        return
    if shell.custom_exceptions != (CheckFailure,):
        shell.set_custom_exc((CheckFailure,), _short_traceback)


def passed(what: str, points: float) -> None:
    """The last line of a test cell: one line saying what passed and what it is worth."""
    print(f"\u2713 {what} ({points:g} point{'' if points == 1 else 's'})")


def hidden_tests_to_come(fns: Callable | tuple[Callable, ...], points: float, topic: str) -> None:
    """The last line of an exercise's tests: the points its hidden tests still hold, and how to try them now.

    Validate (and running the notebook) runs only the visible tests; the grader adds the hidden ones, so passing
    every visible test promises no more than they check. `fns`: the exercise's function(s). A test
    (tests/test_notebooks.py) checks `points` against the source notebook's hidden tests of the exercise."""
    from course_utils import self_study

    fns = fns if isinstance(fns, tuple) else (fns,)
    names = [getattr(fn, "__name__", str(fn)) for fn in fns]
    try:  # a line that only informs: it never fails the test cell it ends
        practised = [n for fn, n in zip(fns, names) if self_study.has_practice(fn)]
    except Exception:
        practised = []
    print(
        f"\u2022 {' and '.join(names)}: {points:g} more point{'' if points == 1 else 's'} in hidden tests that the "
        "grader runs after you submit (Validate does not run them). "
        + (f"Try cases like theirs now: {', '.join(f'cu.practice({n})' for n in practised)}. " if practised else "")
        + f"Studying on your own: `make check TOPIC={topic}` grades your copy in work/ with them."
    )


def _describe(value: Any) -> str:
    if value is None:
        return "None (did you forget `return`?)"
    if isinstance(value, torch.Tensor):
        return f"a tensor of shape {tuple(value.shape)} and dtype {value.dtype}"
    return f"{type(value).__name__} {value!r:.80}"


#: Values larger than this are described by shape and dtype alone (their range would cost a pass over them).
RANGE_LIMIT = 1_000_000


def _value(v: float | int | bool) -> str:
    """One value as a message shows it: 4 significant digits (a bias of 0.1 is not 0.10000000149011612)."""
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def _short(value: Any) -> str:
    """A call's argument or result in a message: a small tensor's values, a larger one's shape, dtype and range
    (the logits of 1000 that explain a softmax's NaN)."""
    if isinstance(value, torch.Tensor):
        dtype = str(value.dtype).removeprefix("torch.")
        if value.numel() <= 4 and value.dim() <= 1:
            return f"tensor([{', '.join(_value(v) for v in value.tolist())}], {dtype})"
        if value.is_floating_point() and 0 < value.numel() <= RANGE_LIMIT:
            finite = value.detach()[torch.isfinite(value.detach())]
            low, high = (float(finite.min()), float(finite.max())) if finite.numel() else (float("nan"),) * 2
            extra = "" if finite.numel() == value.numel() else f", {value.numel() - finite.numel()} not finite"
            return f"<tensor {tuple(value.shape)} {dtype}, values {_value(low)} to {_value(high)}{extra}>"
        return f"<tensor {tuple(value.shape)} {dtype}>"
    if isinstance(value, torch.nn.Module):
        return f"<{type(value).__name__}>"
    if isinstance(value, (list, tuple)) and len(value) > 6:
        return f"<{type(value).__name__} of {len(value)}>"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def describe_call(fn: Callable, args: tuple = (), kwargs: dict | None = None) -> str:
    """`fn(args...)` as a student can read it: tensors as their shape and dtype, other values as written."""
    parts = [_short(a) for a in args] + [f"{k}={_short(v)}" for k, v in (kwargs or {}).items()]
    return f"{getattr(fn, '__name__', 'the function')}({', '.join(parts)})"


def _same_answer(value: Any, expected: Any, tol: float) -> bool:
    if isinstance(expected, str):
        return isinstance(value, str) and value.strip().lower() == expected.strip().lower()
    if isinstance(expected, (tuple, list, torch.Size)):
        return (
            isinstance(value, (tuple, list, torch.Size))
            and len(value) == len(expected)
            and all(_same_answer(v, e, tol) for v, e in zip(value, expected))
        )
    if isinstance(expected, bool) or isinstance(value, bool):
        return type(value) is type(expected) and value == expected
    if isinstance(expected, (int, float)):
        if isinstance(value, torch.Tensor) and value.numel() == 1:
            value = value.item()
        return isinstance(value, (int, float)) and abs(value - expected) <= tol * max(1.0, abs(expected))
    return value == expected


def check_answer(
    name: str, value: Any, expected: Any, *, why: str, hints: dict[Any, str] | None = None, tol: float = 0.0
) -> None:
    """Fail unless the answer `value` (the variable `name` of an answer cell) is `expected`, teaching why.

    Numbers agree within a relative `tol` (0: exactly), shapes and other sequences element by element, a
    choice (a string) ignoring case and surrounding spaces. On a wrong answer the message says what was
    answered, then the hint for that exact wrong answer when `hints` has one (a common mistake and what it
    forgets), then `why`: the reasoning that gives the right answer.
    """
    __tracebackhide__ = True
    if value is ...:
        raise CheckFailure(f"{name} is still `...`: replace it with your answer")
    if _same_answer(value, expected, tol):
        return
    hint = next((text for wrong, text in (hints or {}).items() if _same_answer(value, wrong, tol)), None)
    text = f"{name} = {value!r} is not right."
    if hint:
        text += f" {hint}"
    raise CheckFailure(f"{text} {why}")


def assert_shape(got: Any, expected_shape: Iterable[int], name: str = "result") -> None:
    """Fail unless `got` is a tensor of shape `expected_shape`."""
    __tracebackhide__ = True
    expected_shape = tuple(expected_shape)
    if not isinstance(got, torch.Tensor):
        raise CheckFailure(f"{name} should be a tensor of shape {expected_shape}, but it is {_describe(got)}")
    if tuple(got.shape) != expected_shape:
        raise CheckFailure(f"{name} has shape {tuple(got.shape)}, expected {expected_shape}")


def assert_dtype(got: Any, expected_dtype: torch.dtype, name: str = "result") -> None:
    """Fail unless `got` is a tensor of `expected_dtype` (the input's: results keep it)."""
    __tracebackhide__ = True
    if not isinstance(got, torch.Tensor):
        raise CheckFailure(f"{name} should be a tensor of dtype {expected_dtype}, but it is {_describe(got)}")
    if got.dtype != expected_dtype:
        raise CheckFailure(
            f"{name} has dtype {got.dtype}, expected {expected_dtype}: the result must keep the "
            f"input's dtype (make new tensors with X.new_zeros(...) or dtype=X.dtype)"
        )


_TOLERANCES = {
    torch.float64: (1e-6, 1e-8),
    torch.float32: (1e-4, 1e-5),
    torch.float16: (1e-2, 1e-3),
    torch.bfloat16: (2e-2, 1e-2),
}


def assert_close(
    got: Any,
    expected: torch.Tensor,
    *,
    rtol: float | None = None,
    atol: float | None = None,
    name: str = "result",
    check_dtype: bool = True,
) -> None:
    """Fail unless `got` has expected's shape (and dtype) and its values agree within tolerance.

    Default tolerances by dtype: float64 rtol 1e-6 / atol 1e-8, float32 1e-4 / 1e-5; other
    dtypes must match exactly. ``atol=0`` compares in relative terms only (extreme values: 1e-35 is
    not 0). ``check_dtype=False`` compares the values whatever the dtype (a test cell of its own
    checks the dtype). The message gives the worst element's index and both values.
    """
    __tracebackhide__ = True
    assert_shape(got, expected.shape, name)
    if check_dtype:
        assert_dtype(got, expected.dtype, name)
    default_rtol, default_atol = _TOLERANCES.get(expected.dtype, (0.0, 0.0))
    rtol = default_rtol if rtol is None else rtol
    atol = default_atol if atol is None else atol
    g, e = got.detach().to("cpu", torch.float64), expected.detach().to("cpu", torch.float64)
    if g.numel() == 0:
        return
    same_nonfinite = (g == e) | (torch.isnan(g) & torch.isnan(e))
    err = (g - e).abs()
    bad = ~(same_nonfinite | (err <= atol + rtol * e.abs()))
    if not bool(bad.any()):
        return
    err = torch.where(same_nonfinite, torch.zeros_like(err), err)
    err = torch.where(torch.isnan(err), torch.full_like(err, float("inf")), err)
    flat = int(torch.argmax(torch.where(bad, err, torch.full_like(err, -1.0))))
    index = tuple(int(i) for i in torch.unravel_index(torch.tensor(flat), g.shape)) if g.dim() else ()
    where = f"at index {index}" if index else "the value"
    worst_e, worst_g = e[index].item(), g[index].item()
    if worst_e == 0:
        relative, error = "(expected exactly 0: the error is absolute)", abs(worst_g)
    else:
        error = abs(worst_g - worst_e) / abs(worst_e)
        relative = f"relative error {error:.3g}"
    digits = _digits_to_tell_apart(error)
    raise CheckFailure(
        f"{name}: {int(bad.sum())} of {g.numel()} elements differ from PyTorch's.\n"
        f"  worst {where}: expected {worst_e:.{digits}g}, got {worst_g:.{digits}g}, {relative}\n"
        f"  allowed: {atol:g} + {rtol:g} * |expected|"
    )


def _digits_to_tell_apart(relative_error: float) -> int:
    """The significant digits that show two values apart: 4 when they differ by 0.1 % or more (most mistakes), a
    digit or two past their first difference when they are closer (17 at most)."""
    import math

    if not math.isfinite(relative_error) or relative_error >= 1e-3:
        return 4
    if relative_error <= 0:
        return 17
    return min(17, int(-math.log10(relative_error)) + 2)


def assert_raises(
    exc_type: type[BaseException],
    fn: Callable,
    *args: Any,
    match: str | None = None,
    helpers: dict[str, Callable] | None = None,
    **kwargs: Any,
) -> None:
    """Fail unless `fn(*args, **kwargs)` raises `exc_type` whose message matches regex `match`.

    `helpers` as in `call_guarded`. A NotImplementedError (the exercise's stub, not written yet) goes through
    unchanged, as in any other test. Returns None on purpose: the last line of a graded cell must display
    nothing, since nbgrader would read a displayed value as a partial-credit score.
    """
    __tracebackhide__ = True
    import re

    call = describe_call(fn, args, kwargs)
    try:
        if helpers and getattr(fn, "__cnn_course_remote__", False) and hasattr(fn, "call_with_helpers"):
            result = fn.call_with_helpers(helpers, *args, **kwargs)
        else:
            with _references(fn, helpers or {}, None):
                result = fn(*args, **kwargs)
    except exc_type as exc:
        if match is not None and not re.search(match, str(exc), re.IGNORECASE):
            raise CheckFailure(
                f"{call} raised {exc_type.__name__}, but its message {str(exc)!r} "
                f"should name the offending shape or value (looked for /{match}/)"
            ) from None
        return None
    except NotImplementedError:
        raise
    except Exception as exc:  # a different error type: say which
        raise CheckFailure(f"{call} should raise {exc_type.__name__}, but raised {type(exc).__name__}: {exc}") from None
    raise CheckFailure(f"{call} should raise {exc_type.__name__}, but it returned {_describe(result)}")


class ModeProbe(torch.nn.Module):
    """A layer that passes its input through and counts its forward passes: how many ran with gradients
    tracked and how many in training mode. Put it in a test's network to see the modes a loop set."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("forwards", torch.zeros((), dtype=torch.float64))
        self.register_buffer("grad_forwards", torch.zeros((), dtype=torch.float64))
        self.register_buffer("train_forwards", torch.zeros((), dtype=torch.float64))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.forwards += 1
        self.grad_forwards += float(torch.is_grad_enabled())
        self.train_forwards += float(self.training)
        return x


def assert_batch_norm(
    got: Any,
    running_mean: torch.Tensor,
    running_var: torch.Tensor,
    expected: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
    before: tuple[torch.Tensor, torch.Tensor],
    training: bool,
    name: str = "batch_norm2d",
) -> None:
    """Fail unless a batch norm's output `got` and the running statistics it left in `running_mean` and
    `running_var` (updated in place) agree with ``expected``, the oracle's (output, mean, variance)
    (``cu.oracles.batch_norm2d``). `before`: copies of the two statistics from before the call, so that a
    message can say "not updated" or "updated in eval mode". Values only: a test of its own checks the dtype."""
    __tracebackhide__ = True
    mode = "training" if training else "eval"
    for what, now, then, want in zip(
        ("running_mean", "running_var"), (running_mean, running_var), before, expected[1:]
    ):
        if now.shape != want.shape:
            raise CheckFailure(
                f"{name}, {mode} mode: {what} has shape {tuple(now.shape)} after the call, expected {tuple(want.shape)}"
            )
        same_as_before = torch.equal(now.detach().to(then.dtype), then)
        if not training and not same_as_before:
            raise CheckFailure(
                f"{name}, eval mode: {what} changed; in eval mode batch norm only reads the running statistics"
            )
        if training and same_as_before and not torch.equal(want.to(then.dtype), then):
            raise CheckFailure(
                f"{name}, training mode: {what} was not updated in place; the caller's tensor must hold "
                f"(1 - momentum) * old + momentum * the batch's statistic after the call (write into it, "
                f"e.g. with {what}.mul_(...).add_(...) or {what}[:] = ..., instead of binding a new tensor)"
            )
        assert_close(now, want, name=f"{what} after {name} in {mode} mode", check_dtype=False)
    assert_close(got, expected[0], name=f"the output of {name} in {mode} mode", check_dtype=False)


def _snapshot(
    args: tuple, kwargs: dict, may_change: Iterable[int | str] = ()
) -> list[tuple[str, torch.Tensor, torch.Tensor]]:
    """(name, the argument, a copy of it) for each tensor argument but those `may_change` names (positions from 0,
    or keyword names): what the call must leave unchanged."""
    may_change = set(may_change)
    named = [(f"argument {i + 1}", a) for i, a in enumerate(args) if i not in may_change]
    named += [(k, a) for k, a in kwargs.items() if k not in may_change]
    return [(name, a, a.detach().clone()) for name, a in named if isinstance(a, torch.Tensor)]


def _check_unchanged(call: str, snapshot: list) -> None:
    __tracebackhide__ = True
    for name, now, before in snapshot:
        if (
            now.shape != before.shape
            or now.dtype != before.dtype
            or not torch.equal(torch.nan_to_num(now.detach(), nan=0.5), torch.nan_to_num(before, nan=0.5))
        ):
            raise CheckFailure(
                f"{call} changed its {name} in place: a function must leave its inputs as they "
                f"were (compute on a copy, e.g. `z = z - m` instead of `z -= m`)"
            )


# ---------------------------------------------------------------------------------------------
# the forbidden-op guard


class ForbiddenOperationError(CheckFailure):
    """A student's exercise used an op that the course asks them to write by hand."""


# group -> (what it is, aten overload packets, public function names seen by TorchFunctionMode)
GROUPS: dict[str, tuple[str, frozenset[str], frozenset[str]]] = {
    "conv": (
        "torch's convolution",
        frozenset(
            {
                "convolution",
                "_convolution",
                "conv1d",
                "conv2d",
                "conv3d",
                "conv_transpose1d",
                "conv_transpose2d",
                "conv_transpose3d",
                "convolution_overrideable",
                "mkldnn_convolution",
                "_slow_conv2d_forward",
                "slow_conv3d_forward",
                "slow_conv_transpose2d",
                "slow_conv_transpose3d",
                "_conv_depthwise2d",
                "cudnn_convolution",
                "thnn_conv2d",
                "slow_conv_dilated2d",
                "slow_conv_dilated3d",
            }
        ),
        frozenset(
            {
                "conv1d",
                "conv2d",
                "conv3d",
                "conv_transpose1d",
                "conv_transpose2d",
                "conv_transpose3d",
                "convolution",
                "_convolution",
                "conv_tbc",
            }
        ),
    ),
    "pool": (
        "torch's pooling",
        frozenset(
            {
                "max_pool1d",
                "max_pool2d",
                "max_pool3d",
                "max_pool1d_with_indices",
                "max_pool2d_with_indices",
                "max_pool3d_with_indices",
                "avg_pool1d",
                "avg_pool2d",
                "avg_pool3d",
                "adaptive_avg_pool1d",
                "adaptive_avg_pool2d",
                "adaptive_avg_pool3d",
                "_adaptive_avg_pool2d",
                "_adaptive_avg_pool3d",
                "adaptive_max_pool1d",
                "adaptive_max_pool2d",
                "adaptive_max_pool3d",
                "fractional_max_pool2d",
                "fractional_max_pool3d",
                "mkldnn_max_pool2d",
                "mkldnn_max_pool3d",
                "mkldnn_adaptive_avg_pool2d",
                "quantized_max_pool2d",
                "max_unpool2d",
                "max_unpool3d",
            }
        ),
        frozenset(
            {
                "max_pool1d",
                "max_pool2d",
                "max_pool3d",
                "max_pool1d_with_indices",
                "max_pool2d_with_indices",
                "max_pool3d_with_indices",
                "_max_pool1d",
                "_max_pool2d",
                "_max_pool3d",
                "avg_pool1d",
                "avg_pool2d",
                "avg_pool3d",
                "adaptive_avg_pool1d",
                "adaptive_avg_pool2d",
                "adaptive_avg_pool3d",
                "adaptive_max_pool1d",
                "adaptive_max_pool2d",
                "adaptive_max_pool3d",
                "adaptive_max_pool1d_with_indices",
                "adaptive_max_pool2d_with_indices",
                "lp_pool1d",
                "lp_pool2d",
                "lp_pool3d",
                "fractional_max_pool2d",
                "fractional_max_pool3d",
                "fractional_max_pool2d_with_indices",
                "max_unpool2d",
            }
        ),
    ),
    "pad": (
        "torch's padding",
        frozenset(
            {
                "constant_pad_nd",
                "pad",
                "_pad_enum",
                "_pad_circular",
                "reflection_pad1d",
                "reflection_pad2d",
                "reflection_pad3d",
                "replication_pad1d",
                "replication_pad2d",
                "replication_pad3d",
            }
        ),
        frozenset({"pad", "_pad", "constant_pad_nd"}),
    ),
    "activations": (
        "torch's sigmoid/softmax",
        frozenset(
            {
                "sigmoid",
                "sigmoid_",
                "_softmax",
                "softmax",
                "_log_softmax",
                "log_softmax",
                "logsumexp",
                "special_expit",
                "log_sigmoid_forward",
                "_safe_softmax",
            }
        ),
        frozenset(
            {
                "sigmoid",
                "sigmoid_",
                "expit",
                "softmax",
                "log_softmax",
                "logsumexp",
                "logsigmoid",
                "softmin",
                "special_expit",
            }
        ),
    ),
    "losses": (
        "torch's loss functions",
        frozenset(
            {
                "binary_cross_entropy",
                "binary_cross_entropy_with_logits",
                "nll_loss",
                "nll_loss_forward",
                "nll_loss2d",
                "nll_loss2d_forward",
                "nll_loss_nd",
                "cross_entropy_loss",
            }
        ),
        frozenset({"binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy", "nll_loss"}),
    ),
    "norm": (
        "torch's normalisation",
        frozenset(
            {
                "batch_norm",
                "native_batch_norm",
                "_native_batch_norm_legit",
                "_native_batch_norm_legit_functional",
                "_native_batch_norm_legit_no_training",
                "_batch_norm_impl_index",
                "_batch_norm_with_update",
                "_batch_norm_with_update_functional",
                "_batch_norm_no_update",
                "batch_norm_stats",
                "batch_norm_elemt",
                "batch_norm_update_stats",
                "batch_norm_gather_stats",
                "batch_norm_gather_stats_with_counts",
                "cudnn_batch_norm",
                "miopen_batch_norm",
                "instance_norm",
                "layer_norm",
                "native_layer_norm",
                "group_norm",
                "native_group_norm",
                "rms_norm",
                "_fused_rms_norm",
            }
        ),
        frozenset(
            {
                "batch_norm",
                "native_batch_norm",
                "instance_norm",
                "layer_norm",
                "native_layer_norm",
                "group_norm",
                "native_group_norm",
                "rms_norm",
            }
        ),
    ),
    "autograd": ("autograd", frozenset(), frozenset()),  # matched by identity below
    # torch.optim's optimizers (caught as they are created), and its fused kernels
    "optim": (
        "torch.optim",
        frozenset({f"_fused_{name}{tail}" for name in ("adam", "adamw", "sgd", "adagrad") for tail in ("", "_")}),
        frozenset(),
    ),
}

_AUTOGRAD_FUNCTIONS = (torch.Tensor.backward, torch.autograd.backward, torch.autograd.grad)
ADVICE = {  # also what the grading sandbox says (autograder.sandbox.bans)
    "default": "Use indexing, slicing, sum, einsum, unfold or matmul instead.",
    "optim": "Update the weights with tensor arithmetic (+, *, sqrt ...), as the exercise's formula says.",
    "pool": "Use indexing, slicing, max/mean, unfold or as_strided instead.",
    "autograd": "Derive the gradient and compute it with tensor arithmetic.",
    "pad": "Make a tensor of zeros and copy the input into its middle.",
    "activations": "Build it from exp, log, max and sum.",
    "losses": "Build it from exp, log, max, sum and indexing.",
    "norm": "Compute the mean and variance with mean, sum and arithmetic over the right dimensions.",
}


class _Guard:
    """The state of one `forbid(...)` block: which groups are banned and what was caught."""

    def __init__(self, groups: tuple[str, ...]):
        unknown = [g for g in groups if g not in GROUPS]
        if unknown:
            raise ValueError(f"unknown forbidden group(s) {unknown}; known: {sorted(GROUPS)}")
        self.groups = groups
        self.aten = {name: g for g in groups for name in GROUPS[g][1]}
        self.public = {name: g for g in groups for name in GROUPS[g][2]}
        self.violations: list[str] = []
        self.paused = 0  # > 0 while a reference helper (the course's own, see call_guarded) runs

    def violation(self, group: str, what: str) -> ForbiddenOperationError:
        advice = ADVICE.get(group, ADVICE["default"])
        message = f"write this by hand: it called {GROUPS[group][0]} ({what}). {advice}"
        self.violations.append(message)
        return ForbiddenOperationError(message)


class _DispatchWatch(TorchDispatchMode):
    def __init__(self, guard: _Guard):
        super().__init__()
        self.guard = guard

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        name = func.overloadpacket.__name__
        group = self.guard.aten.get(name)
        if group is not None and not self.guard.paused:
            raise self.guard.violation(group, f"aten.{name}")
        return func(*args, **(kwargs or {}))


class _FunctionWatch(TorchFunctionMode):
    def __init__(self, guard: _Guard):
        super().__init__()
        self.guard = guard

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if self.guard.paused:
            return func(*args, **(kwargs or {}))
        if "autograd" in self.guard.groups and func in _AUTOGRAD_FUNCTIONS:
            raise self.guard.violation("autograd", getattr(func, "__qualname__", repr(func)))
        name = getattr(func, "__name__", "")
        group = self.guard.public.get(name)
        module = getattr(func, "__module__", None) or ""
        if group is not None and (module == "" or module.startswith("torch")):  # not a student's own `pad`
            raise self.guard.violation(group, name)
        return func(*args, **(kwargs or {}))


class _EngineWatch:
    """Wraps the autograd engine, the one place Tensor.backward and autograd.grad both end up."""

    def __init__(self, engine: Any, guard: _Guard):
        self._engine, self._guard = engine, guard

    def run_backward(self, *args: Any, **kwargs: Any):
        if self._guard.paused:  # a reference helper of the course's (call_guarded(..., helpers=...)) runs
            return self._engine.run_backward(*args, **kwargs)
        raise self._guard.violation("autograd", "the autograd engine")

    def __getattr__(self, name: str):
        return getattr(self._engine, name)


@contextmanager
def forbid(*groups: str) -> Iterator[_Guard]:
    """While active, any op of the named groups raises ForbiddenOperationError.

    Groups: "conv", "pool", "pad", "activations", "losses", "norm", "autograd", "optim". A violation the
    student's code catches and hides is still reported when the block ends. Only the current
    thread is watched; everything is restored on exit, even after an error.
    """
    guard = _Guard(tuple(groups))
    variable = torch.autograd.Variable
    engine = variable._execution_engine
    if "autograd" in guard.groups:
        variable._execution_engine = _EngineWatch(engine, guard)
    optimizer_init = torch.optim.Optimizer.__init__
    if "optim" in guard.groups:

        def refuse(self: Any, *args: Any, **kwargs: Any) -> None:
            if not guard.paused:
                raise guard.violation("optim", f"torch.optim.{type(self).__name__}")
            optimizer_init(self, *args, **kwargs)

        torch.optim.Optimizer.__init__ = refuse
    try:
        with _FunctionWatch(guard), _DispatchWatch(guard):
            yield guard
    except ForbiddenOperationError:
        raise
    except BaseException:
        if guard.violations:
            raise ForbiddenOperationError(guard.violations[0]) from None
        raise
    finally:
        variable._execution_engine = engine
        torch.optim.Optimizer.__init__ = optimizer_init
    if guard.violations:
        raise ForbiddenOperationError(
            guard.violations[0] + " (the error was caught inside the function, but the op is still off limits)"
        )


# ---------------------------------------------------------------------------------------------
# NumPy / SciPy by source

#: Qualified names of NumPy/SciPy convolution helpers (NumPy's sliding_window_view is allowed).
NUMPY_SCIPY_CONV: frozenset[str] = frozenset(
    {
        "numpy.convolve",
        "numpy.correlate",
        "scipy.signal.convolve",
        "scipy.signal.convolve2d",
        "scipy.signal.correlate",
        "scipy.signal.correlate2d",
        "scipy.signal.fftconvolve",
        "scipy.signal.oaconvolve",
        "scipy.ndimage.convolve",
        "scipy.ndimage.correlate",
        "scipy.ndimage.convolve1d",
        "scipy.ndimage.correlate1d",
        "scipy.ndimage.maximum_filter",
        "scipy.ndimage.uniform_filter",
    }
)


def _banned_objects(banned: Iterable[str]) -> dict[int, str]:
    """id -> qualified name of each banned helper whose module is already imported."""
    found = {}
    for qualified in banned:
        module_name, _, attr = qualified.rpartition(".")
        module = sys.modules.get(module_name)
        obj = getattr(module, attr, None) if module is not None else None
        if obj is not None:
            found[id(obj)] = qualified
    return found


def _all_names(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _all_names(const)
    return names


def _attribute_chain(node: ast.AST) -> list[str]:
    chain = []
    while isinstance(node, ast.Attribute):
        chain.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        chain.append(node.id)
    return chain[::-1]


def scan_source(fn: Callable, banned: Iterable[str] = NUMPY_SCIPY_CONV) -> list[str]:
    """Uses of NumPy/SciPy convolution helpers in `fn`, as readable findings ("line 3: numpy.convolve").

    Looks at the function's source (IPython registers cell sources, so this works for functions
    defined in a notebook) and at the globals its code names, which catches an alias imported at
    the top of the cell. A bare name that is the student's own function is not flagged.
    """
    banned = frozenset(banned)
    short = {q.rpartition(".")[2] for q in banned}
    findings: list[str] = []
    fn = inspect.unwrap(fn)
    glob = getattr(fn, "__globals__", {})
    code = getattr(fn, "__code__", None)
    if code is not None:
        objects = _banned_objects(banned)
        for name in sorted(_all_names(code)):
            if name in glob and id(glob[name]) in objects:
                findings.append(f"{name} is {objects[id(glob[name])]}")
    try:
        source = textwrap.dedent(inspect.getsource(fn))
        first_line = code.co_firstlineno if code is not None else 1
    except (OSError, TypeError):
        return findings
    for node in ast.walk(ast.parse(source)):
        line = getattr(node, "lineno", 1) + first_line - 1
        if isinstance(node, ast.Attribute) and node.attr in short:
            chain = _attribute_chain(node)
            root = glob.get(chain[0]) if chain else None
            root_module = getattr(root, "__name__", "") if isinstance(root, types.ModuleType) else ""
            prefix = (root_module or chain[0]) if chain else ""
            qualified = ".".join([prefix, *chain[1:]]) if chain else node.attr
            if (
                qualified in banned
                or (root_module.split(".")[0] in ("numpy", "scipy"))
                or (not root_module and chain and chain[0] in ("np", "numpy", "scipy", "signal", "ndimage", "sp"))
            ):
                findings.append(f"line {line}: {'.'.join(chain)}")
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in ("numpy", "scipy"):
            for alias in node.names:
                if f"{node.module}.{alias.name}" in banned:
                    findings.append(f"line {line}: from {node.module} import {alias.name}")
    return findings


def call_guarded(
    fn: Callable,
    *args: Any,
    forbid: Iterable[str] = ("conv", "pool"),
    helpers: dict[str, Callable] | None = None,
    in_place: bool | tuple[int | str, ...] = False,
    **kwargs: Any,
) -> Any:
    """Call a student's `fn(*args, **kwargs)` with the banned ops watched; return its result.

    Raises ForbiddenOperationError if the source uses a NumPy/SciPy convolution helper or the
    call reaches an op of the `forbid` groups, and CheckFailure naming the call (its arguments'
    shapes and dtypes) if `fn` changes a tensor argument in place. Any other error from `fn`
    propagates unchanged, with a note naming the call.

    `helpers` maps names of the student's other exercise functions that `fn` calls (``pad2d``,
    ``corr2d`` ...) to the course's reference for them (``cu.oracles``): during this call `fn` sees the
    reference, so a mistake in a helper costs points in the helper's own exercise only. The references
    may use the banned ops. `in_place=True`: the function may update its tensor arguments (an optimizer step); a
    tuple of positions (from 0) and keyword names: it may update those only (06's batch_norm2d, its running statistics).

    Under the grader (``autograder.trusted.grader_kernel``) `fn` is a proxy for the student's function, which
    runs in a sandbox where the banned ops are switched off for good: there is nothing to watch here,
    and `helpers` are passed on by name (the sandbox asks the grader for each helper's answer).
    """
    __tracebackhide__ = True
    call = describe_call(fn, args, kwargs)
    snapshot = [] if in_place is True else _snapshot(args, kwargs, in_place or ())
    try:
        if getattr(fn, "__cnn_course_remote__", False):
            result = fn.call_with(helpers, tuple(forbid), args, kwargs)
        else:
            findings = scan_source(fn)
            if findings:
                raise ForbiddenOperationError(
                    f"{getattr(fn, '__name__', 'this function')} must do the arithmetic "
                    "itself, without NumPy/SciPy convolution helpers: " + "; ".join(findings)
                )
            with _forbid(*tuple(forbid)) as guard, _references(fn, helpers or {}, guard):
                result = fn(*args, **kwargs)
    except ForbiddenOperationError:
        raise
    except Exception as exc:  # the student's error, unchanged, with the case that raised it
        exc.add_note(f"(raised by the call {call})")
        raise exc.with_traceback(_student_frames(exc.__traceback__)) from exc.__cause__
    _check_unchanged(call, snapshot)
    return result


def _student_frames(tb: types.TracebackType | None) -> types.TracebackType | None:
    """`tb` without the frames of torch and of these checks (the guard's modes): the student's own code."""
    kept = []
    while tb is not None:
        name = tb.tb_frame.f_code.co_filename.replace("\\", "/")
        if "/torch/" not in name and "/course_utils/" not in name:
            kept.append(tb)
        tb = tb.tb_next
    for frame, following in zip(kept, kept[1:]):
        frame.tb_next = following
    if kept:
        kept[-1].tb_next = None
        return kept[0]
    return None


@contextmanager
def _references(fn: Callable, helpers: dict[str, Callable], guard: _Guard | None) -> Iterator[None]:
    """While active, the names in `helpers` mean the course's references in `fn`'s globals (the notebook's)."""
    namespace = getattr(inspect.unwrap(fn), "__globals__", None)
    if not helpers or namespace is None:
        yield
        return
    missing = object()
    saved = {name: namespace.get(name, missing) for name in helpers}

    def unguarded(reference: Callable) -> Callable:
        def run(*args: Any, **kwargs: Any) -> Any:
            if guard is None:
                return reference(*args, **kwargs)
            guard.paused += 1
            try:
                return reference(*args, **kwargs)
            finally:
                guard.paused -= 1

        return run

    namespace.update({name: unguarded(reference) for name, reference in helpers.items()})
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is missing:
                namespace.pop(name, None)
            else:
                namespace[name] = value


_forbid = forbid
