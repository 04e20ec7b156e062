"""Self-study: check an exercise function against PyTorch on random cases, as often as you like.

    cu.practice(corr2d)          # in the notebook, after writing corr2d (course_utils.self_study.practice)

Each call draws new random shapes and values (float32 and float64), adds the error cases the exercise's
text names, runs your function with the banned ops watched (as the graded tests do), and compares with
PyTorch (``course_utils.oracles``). It reports every failed case with its arguments. It checks the same
kinds of things the graded tests check: values, the dtype kept, the inputs left unchanged, extreme values
in relative terms, the modes a training loop sets, and the ValueErrors the text asks for. It is not the
graded tests: those use cases of their own.
"""

from __future__ import annotations

import inspect
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from course_utils import checks, oracles
from course_utils.shapes import pair

FLOATS = (torch.float32, torch.float64)


@dataclass
class Report:
    """What one practice run found: how many cases ran, and a line per failed case."""

    name: str
    cases: int = 0
    failures: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.cases > 0 and not self.failures

    def __str__(self) -> str:
        head = (
            f"practice {self.name}: all {self.cases} cases pass"
            if self.passed
            else f"practice {self.name}: {len(self.failures)} of {self.cases} cases fail"
        )
        shown = self.failures[:10]
        more = [f"  ... and {len(self.failures) - 10} more"] if len(self.failures) > 10 else []
        return "\n".join([head, *[f"  \u2717 {f}" for f in shown], *more])

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))


def _rand(rng: random.Random, shape: tuple[int, ...], dtype: torch.dtype, scale: float = 1.0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(rng.randrange(2**31))
    return torch.randn(shape, generator=gen, dtype=dtype) * scale


# --- the cases of each exercise: (args, kwargs) -------------------------------------------------


def _corr2d_cases(rng: random.Random, dtype: torch.dtype) -> Iterator[tuple[tuple, dict]]:
    for _ in range(4):
        H, W, kh, kw = rng.randint(1, 8), rng.randint(1, 8), rng.randint(1, 4), rng.randint(1, 4)
        X, K = _rand(rng, (H, W), dtype), _rand(rng, (kh, kw), dtype)
        for mode in ("valid", "same", "full"):
            if mode != "valid" or (kh <= H and kw <= W):
                yield (X, K, mode), {}


def _convolve2d_cases(rng, dtype):
    for (X, K, mode), _ in _corr2d_cases(rng, dtype):
        if mode == "valid":
            yield (X, K), {}


def _conv2d_cases(rng, dtype, strided: bool, dilated: bool = True):
    for _ in range(5):
        N, C_in, C_out = rng.randint(1, 3), rng.randint(1, 3), rng.randint(1, 4)
        kh, kw = rng.randint(1, 3), rng.randint(1, 3)
        s = (rng.randint(1, 3), rng.randint(1, 3)) if strided else 1
        p = (rng.randint(0, 2), rng.randint(0, 2)) if strided else 0
        d = (rng.randint(1, 2), rng.randint(1, 2)) if strided and dilated else 1
        H = rng.randint(max(1, (pair(d, "dilation")[0] * (kh - 1) + 1) - 2 * pair(p, "padding")[0]), 9)
        W = rng.randint(max(1, (pair(d, "dilation")[1] * (kw - 1) + 1) - 2 * pair(p, "padding")[1]), 9)
        X, Wt = _rand(rng, (N, C_in, H, W), dtype), _rand(rng, (C_out, C_in, kh, kw), dtype)
        b = _rand(rng, (C_out,), dtype) if rng.random() < 0.6 else None
        if strided and dilated:
            yield (X, Wt, b), {"stride": s, "padding": p, "dilation": d}
        elif strided:
            yield (X, Wt, b), {"stride": s, "padding": p}
        else:
            yield (X, Wt, b), {}


def _pool_cases(rng, dtype, avg: bool):
    for _ in range(6):
        kh, kw = rng.randint(1, 4), rng.randint(1, 4)
        stride = None if rng.random() < 0.3 else (rng.randint(1, 3), rng.randint(1, 3))
        padding = (rng.randint(0, kh // 2), rng.randint(0, kw // 2))
        H, W = rng.randint(max(1, kh - 2 * padding[0]), 9), rng.randint(max(1, kw - 2 * padding[1]), 9)
        X = _rand(rng, (rng.randint(1, 2), rng.randint(1, 3), H, W), dtype) - 2.0  # negative: padding is not 0
        if avg:
            for ceil_mode, include in ((False, True), (False, False), (True, True), (True, False)):
                yield (X, (kh, kw), stride, padding), {"ceil_mode": ceil_mode, "count_include_pad": include}
        else:
            yield (X, (kh, kw), stride, padding), {}


def _backward_cases(rng, dtype, pool: str):
    for _ in range(5):
        kh, kw = rng.randint(1, 3), rng.randint(1, 3)
        stride = None if rng.random() < 0.3 else (rng.randint(1, 3), rng.randint(1, 3))
        H, W = rng.randint(kh, 8), rng.randint(kw, 8)
        shape = (rng.randint(1, 2), rng.randint(1, 3), H, W)
        ties = pool == "max" and rng.random() < 0.5
        X = (
            torch.randint(0, 3, shape, generator=torch.Generator().manual_seed(rng.randrange(2**31))).to(dtype)
            if ties
            else _rand(rng, shape, dtype)
        )
        out = (oracles.max_pool2d if pool == "max" else oracles.avg_pool2d)(X, (kh, kw), stride)
        yield (_rand(rng, tuple(out.shape), dtype), X, (kh, kw), stride), {}


def _conv_backward_cases(rng, dtype):
    for _ in range(5):
        kh, kw = rng.randint(1, 3), rng.randint(1, 3)
        s, p = (rng.randint(1, 3), rng.randint(1, 3)), (rng.randint(0, 2), rng.randint(0, 2))
        H, W = rng.randint(max(1, kh - 2 * p[0]), 8), rng.randint(max(1, kw - 2 * p[1]), 8)
        X = _rand(rng, (rng.randint(1, 2), rng.randint(1, 3), H, W), dtype)
        Wt = _rand(rng, (rng.randint(1, 3), X.shape[1], kh, kw), dtype)
        dY = _rand(rng, tuple(oracles.conv2d(X, Wt, stride=s, padding=p).shape), dtype)
        yield (dY, X, Wt, s, p), {}


def _sigmoid_cases(rng, dtype):
    far = 80.0 if dtype == torch.float32 else 700.0
    yield (torch.tensor([-1000.0, -far, -far / 3, -1.0, 0.0, 1.0, far / 3, far, 1000.0], dtype=dtype),), {}
    yield (_rand(rng, (rng.randint(1, 4), rng.randint(1, 5), 3), dtype, 30.0),), {}


def _softmax_cases(rng, dtype):
    z = _rand(rng, (rng.randint(1, 4), rng.randint(2, 6), 3), dtype, 50.0)
    for dim in (0, 1, -1):
        yield (z, dim), {}
    yield (torch.tensor([[1000.0, 999.0, -1000.0]], dtype=dtype),), {}


def _bce_cases(rng, dtype):
    for reduction in ("mean", "sum", "none"):
        shape = tuple(rng.randint(1, 5) for _ in range(rng.randint(1, 3)))
        gen = torch.Generator().manual_seed(rng.randrange(2**31))
        p, y = torch.rand(shape, generator=gen, dtype=dtype), (torch.rand(shape, generator=gen) > 0.5).to(dtype)
        yield (p, y, reduction), {}
    yield (torch.tensor([0.0, 1.0, 0.0, 1.0], dtype=dtype), torch.tensor([1.0, 0.0, 0.0, 1.0], dtype=dtype), "none"), {}


def _ce_cases(rng, dtype):
    for reduction in ("mean", "sum", "none"):
        N, C = rng.randint(1, 6), rng.randint(1, 8)
        gen = torch.Generator().manual_seed(rng.randrange(2**31))
        yield (_rand(rng, (N, C), dtype, 5.0), torch.randint(0, C, (N,), generator=gen), reduction), {}
    yield (torch.tensor([[1000.0, -1000.0, 0.0]], dtype=dtype), torch.tensor([1]), "none"), {}


def _global_cases(rng, dtype):
    for _ in range(3):
        yield (_rand(rng, tuple(rng.randint(1, 6) for _ in range(4)), dtype),), {}


def _pad_cases(rng, dtype):
    for _ in range(4):
        shape = tuple(rng.randint(1, 5) for _ in range(rng.randint(2, 4)))
        padding = rng.randint(0, 2) if rng.random() < 0.5 else (rng.randint(0, 2), rng.randint(0, 2))
        yield (_rand(rng, shape, dtype), padding), {}


@dataclass(frozen=True)
class Exercise:
    cases: Callable[[random.Random, torch.dtype], Iterator[tuple[tuple, dict]]]
    oracle: Callable
    forbid: tuple[str, ...]
    errors: tuple[tuple[tuple, dict, str], ...] = ()  # (args, kwargs, regex the message must match)
    helpers: dict[str, Callable] | None = None


_ONES4 = torch.ones(1, 1, 4, 4)
EXERCISES: dict[str, Exercise] = {
    "corr2d": Exercise(
        _corr2d_cases,
        oracles.corr2d,
        ("conv",),
        (
            ((torch.ones(2, 3, 4), torch.ones(2, 2)), {}, r"2, 3, 4"),
            ((torch.ones(4, 4), torch.ones(2, 2), "circular"), {}, "circular"),
            ((torch.ones(2, 2), torch.ones(3, 3), "valid"), {}, "3"),
        ),
    ),
    "convolve2d": Exercise(_convolve2d_cases, oracles.convolve2d, ("conv",), helpers={"corr2d": oracles.corr2d}),
    "conv2d_01": Exercise(
        lambda rng, dt: _conv2d_cases(rng, dt, False),
        oracles.conv2d,
        ("conv",),
        (
            ((torch.ones(2, 5, 5), torch.ones(3, 2, 3, 3)), {}, r"2, 5, 5"),
            ((torch.ones(1, 2, 5, 5), torch.ones(3, 4, 3, 3)), {}, r"4"),
            ((torch.ones(1, 2, 5, 5), torch.ones(3, 2, 6, 6)), {}, r"6"),
            ((torch.ones(1, 2, 5, 5), torch.ones(3, 2, 3, 3), torch.ones(2)), {}, r"\(3,\)|\(2,\)|bias"),
        ),
    ),
    "conv2d_unfold": Exercise(
        lambda rng, dt: _conv2d_cases(rng, dt, True, dilated=False),
        oracles.conv2d,
        ("conv",),
        (
            ((torch.ones(2, 5, 5), torch.ones(3, 2, 3, 3)), {}, r"2, 5, 5"),
            ((torch.ones(1, 2, 5, 5), torch.ones(3, 4, 3, 3)), {}, r"4"),
            ((torch.ones(1, 2, 5, 5), torch.ones(3, 2, 3, 3), torch.ones(2)), {}, r"\(3,\)|\(2,\)|bias"),
            ((_ONES4, torch.ones(1, 1, 7, 7)), {"padding": 1}, r"7|6"),
            ((_ONES4, torch.ones(1, 1, 2, 2)), {"stride": 0}, r"stride|0"),
            ((_ONES4, torch.ones(1, 1, 2, 2)), {"padding": -1}, r"-1"),
        ),
    ),
    "conv2d_02": Exercise(
        lambda rng, dt: _conv2d_cases(rng, dt, True),
        oracles.conv2d,
        ("conv", "pad"),
        (
            ((_ONES4, torch.ones(1, 1, 5, 5)), {}, "5"),
            ((_ONES4, torch.ones(1, 1, 3, 3)), {"dilation": 2}, "4"),
            ((torch.ones(1, 2, 4, 4), torch.ones(1, 3, 2, 2)), {}, "3"),
        ),
        helpers=oracles.CONV2D_HELPERS,
    ),
    "pad2d": Exercise(
        _pad_cases,
        oracles.pad2d,
        ("conv", "pad"),
        (
            ((torch.ones(3, 3), -1), {}, "-1"),
            ((torch.ones(3, 3), (1, 2, 3)), {}, "1, 2, 3"),
            ((torch.ones(4), 1), {}, "4"),
        ),
    ),
    "max_pool2d": Exercise(
        lambda rng, dt: _pool_cases(rng, dt, False),
        oracles.max_pool2d,
        ("conv", "pool"),
        (
            ((torch.ones(4, 4), 2), {}, r"4, 4"),
            ((_ONES4, 0), {}, "0"),
            ((_ONES4, 2, 1, 2), {}, "2"),
            ((_ONES4, 3, 1, -1), {}, "-1"),
            ((_ONES4, 5), {}, "5"),
        ),
        helpers=oracles.POOL_HELPERS,
    ),
    "avg_pool2d": Exercise(
        lambda rng, dt: _pool_cases(rng, dt, True),
        oracles.avg_pool2d,
        ("conv", "pool"),
        (((_ONES4, 3, 1, 2), {}, "2"), ((_ONES4, 6), {}, "6")),
        helpers=oracles.POOL_HELPERS,
    ),
    "global_avg_pool2d": Exercise(
        _global_cases, oracles.global_avg_pool2d, ("conv", "pool"), (((torch.ones(3, 4, 4),), {}, r"3, 4, 4"),)
    ),
    "sigmoid": Exercise(_sigmoid_cases, oracles.sigmoid, ("activations", "losses")),
    "softmax": Exercise(_softmax_cases, oracles.softmax, ("activations", "losses")),
    "binary_cross_entropy": Exercise(
        _bce_cases,
        oracles.binary_cross_entropy,
        ("activations", "losses"),
        (
            ((torch.rand(4), torch.ones(5)), {}, r"4.*5|5.*4"),
            ((torch.rand(4), torch.ones(4), "average"), {}, "average"),
        ),
    ),
    "cross_entropy": Exercise(
        _ce_cases,
        oracles.cross_entropy,
        ("activations", "losses"),
        (
            ((torch.randn(4, 3, 2), torch.zeros(4, dtype=torch.long)), {}, r"4, 3, 2"),
            ((torch.randn(4, 3), torch.tensor([0, 1, 3, 0])), {}, r"3|0\.\.2"),
            ((torch.randn(4, 3), torch.zeros(4, dtype=torch.long), "avg"), {}, "avg"),
        ),
    ),
    "conv2d_backward": Exercise(
        _conv_backward_cases,
        oracles.conv2d_backward,
        ("autograd", "conv", "pool"),
        (((torch.ones(1, 2, 2, 2), torch.ones(1, 1, 5, 5), torch.ones(2, 1, 3, 3)), {}, "2, 2"),),
    ),
    "max_pool2d_backward": Exercise(
        lambda rng, dt: _backward_cases(rng, dt, "max"), oracles.max_pool2d_backward, ("autograd", "conv", "pool")
    ),
    "avg_pool2d_backward": Exercise(
        lambda rng, dt: _backward_cases(rng, dt, "avg"), oracles.avg_pool2d_backward, ("autograd", "conv", "pool")
    ),
}


def _key(fn: Callable) -> str:
    name = getattr(fn, "__name__", "")
    if name == "conv2d":
        try:
            return "conv2d_02" if "stride" in inspect.signature(fn).parameters else "conv2d_01"
        except (TypeError, ValueError):
            return "conv2d_01"
    return name


def _check(report: Report, fn: Callable, run: Callable[[], None]) -> None:
    report.cases += 1
    try:
        run()
    except AssertionError as exc:
        report.failures.append(str(exc).strip())
    except Exception as exc:
        report.failures.append(f"{type(exc).__name__}: {exc}")


def _compare(fn: Callable, exercise: Exercise, args: tuple, kwargs: dict) -> None:
    got = checks.call_guarded(fn, *args, forbid=exercise.forbid, helpers=exercise.helpers, **kwargs)
    expected = exercise.oracle(*args, **kwargs)
    call = checks.describe_call(fn, args, kwargs)
    pairs = zip(("dX", "dW", "db"), got, expected) if isinstance(expected, tuple) else [("", got, expected)]
    if isinstance(expected, tuple) and not (isinstance(got, tuple) and len(got) == len(expected)):
        raise checks.CheckFailure(f"{call} should return {len(expected)} tensors; got {checks._describe(got)}")
    for part, g, e in pairs:
        name = f"{part} of {call}" if part else call
        checks.assert_close(g, e, name=name, check_dtype=False, atol=0.0 if fn.__name__ == "sigmoid" else None)
        checks.assert_dtype(g, e.dtype, name=name)


def has_practice(fn: Callable) -> bool:
    """Whether ``practice(fn)`` knows the exercise `fn` is written for."""
    key = _key(fn)
    return key in _LOOPS or key in EXERCISES


def practice(fn: Callable, seed: int | None = None) -> Report:
    """Check your exercise function `fn` on new random cases against PyTorch; a report of every failed case."""
    key = _key(fn)
    rng = random.Random(seed)
    if key in _LOOPS:
        report = Report(getattr(fn, "__name__", key))
        _LOOPS[key](report, fn, rng)
        return report
    if not has_practice(fn):
        known = ", ".join(sorted(EXERCISES) + sorted(_LOOPS))
        raise ValueError(f"no practice for {getattr(fn, '__name__', fn)!r}; known: {known}")
    exercise = EXERCISES[key]
    report = Report(getattr(fn, "__name__", key))
    for dtype in FLOATS:
        for args, kwargs in exercise.cases(rng, dtype):
            _check(report, fn, lambda a=args, k=kwargs: _compare(fn, exercise, a, k))
    for args, kwargs, match in exercise.errors:
        _check(
            report,
            fn,
            lambda a=args, k=kwargs, m=match: checks.assert_raises(
                ValueError, fn, *a, match=m, helpers=exercise.helpers, **k
            ),
        )
    return report


# --- 06: networks and loops ---------------------------------------------------------------------


def _lenet(report: Report, fn: Callable, rng: random.Random, parameters: int) -> None:
    def run() -> None:
        net = fn()
        out = net(torch.zeros(2, 1, 28, 28))
        checks.assert_shape(out, (2, 10), name=f"{fn.__name__}()(zeros(2, 1, 28, 28))")
        count = sum(p.numel() for p in net.parameters())
        assert count == parameters, f"{fn.__name__}() has {count:,} parameters; expected {parameters:,}"

    _check(report, fn, run)


def _evaluate(report: Report, fn: Callable, rng: random.Random) -> None:
    def run() -> None:
        n, batch = rng.randint(20, 90), rng.randint(4, 16)
        scores = _rand(rng, (n, 5), torch.float32)
        labels = torch.randint(0, 5, (n,), generator=torch.Generator().manual_seed(rng.randrange(2**31)))
        net = nn.Sequential(checks.ModeProbe(), nn.Dropout(0.5)).train()
        loader = [(scores[i : i + batch], labels[i : i + batch]) for i in range(0, n, batch)]
        got = fn(net, loader)
        expected = float((scores.argmax(1) == labels).double().mean())
        probe = net[0]
        assert int(probe.train_forwards) == 0, "forward passes ran in training mode: call net.eval() first"
        assert int(probe.grad_forwards) == 0, "forward passes tracked gradients: use torch.no_grad()"
        assert isinstance(got, float) and abs(got - expected) < 1e-12, (
            f"{n} samples in batches of {batch}: expected {expected}, got {got!r}"
        )

    _check(report, fn, run)


def _train(report: Report, fn: Callable, rng: random.Random) -> None:
    import copy

    def run() -> None:
        n, batch = rng.randint(20, 70), rng.randint(4, 32)
        X, y = _rand(rng, (n, 6), torch.float32), torch.randint(0, 3, (n,), generator=torch.Generator().manual_seed(1))
        torch.manual_seed(rng.randrange(2**31))
        net = nn.Sequential(checks.ModeProbe(), nn.Linear(6, 3))
        reference = copy.deepcopy(net)
        net.eval()
        loader = [(X[i : i + batch], y[i : i + batch]) for i in range(0, n, batch)]
        got_loss, got_acc = fn(net, loader, nn.CrossEntropyLoss(), torch.optim.SGD(net.parameters(), lr=0.1))
        opt = torch.optim.SGD(reference.parameters(), lr=0.1)
        total, right = 0.0, 0
        for inputs, targets in loader:
            scores = reference(inputs)
            batch_loss = nn.functional.cross_entropy(scores, targets)
            opt.zero_grad()
            batch_loss.backward()
            opt.step()
            total += batch_loss.item() * len(targets)
            right += int((scores.argmax(1) == targets).sum())
        probe = net[0]
        assert int(probe.train_forwards) == int(probe.forwards) > 0, "forward passes ran in eval mode: call net.train()"
        for p, q in zip(net.parameters(), reference.parameters()):
            checks.assert_close(
                p.detach(), q.detach(), name=f"the weights after one epoch ({n} samples, batch {batch})"
            )
        assert isinstance(got_loss, float) and abs(got_loss - total / n) < 1e-5, (
            f"mean loss over {n} samples (batch {batch}): expected {total / n:.6f}, got {got_loss!r}"
        )
        assert isinstance(got_acc, float) and abs(got_acc - right / n) < 1e-12, (
            f"training accuracy: expected {right / n}, got {got_acc!r}"
        )

    _check(report, fn, run)


_NORM_FORBID = ("norm",)


def _batch_norm_once(fn: Callable, X, gamma, beta, mean, var, training: bool, momentum: float, eps: float) -> None:
    args = (X, gamma, beta, mean, var, training, momentum, eps)
    call = checks.describe_call(fn, args)
    expected = oracles.batch_norm2d(*args)
    before = (mean.clone(), var.clone())
    got = checks.call_guarded(fn, *args, forbid=_NORM_FORBID, in_place=(3, 4))
    checks.assert_batch_norm(got, mean, var, expected, before, training, name=call)
    checks.assert_dtype(got, X.dtype, name=f"the output of {call}")


def _batch_norm(report: Report, fn: Callable, rng: random.Random) -> None:
    """batch_norm2d against F.batch_norm (oracles.batch_norm2d): training and eval mode, the running statistics
    updated in place (training) or left alone (eval), other momentum and eps, float32 and float64."""
    for dtype in FLOATS:
        for training in (True, False):
            for _ in range(3):
                N, C, H, W = rng.randint(1, 4), rng.randint(1, 4), rng.randint(1, 5), rng.randint(1, 5)
                if N * H * W < 2:  # torch refuses a batch statistic of one value per channel
                    N += 1
                X = _rand(rng, (N, C, H, W), dtype, rng.choice((0.5, 1.0, 3.0))) + rng.uniform(-2, 2)
                gamma, beta, mean = (_rand(rng, (C,), dtype) for _ in range(3))
                var = _rand(rng, (C,), dtype).abs() + 0.5
                momentum, eps = rng.choice((0.1, 0.5, 0.01, 1.0)), rng.choice((1e-5, 1e-3, 0.1))
                _check(
                    report, fn, lambda a=(X, gamma, beta, mean, var, training, momentum, eps): _batch_norm_once(fn, *a)
                )
    ones, zeros = torch.ones(3), torch.zeros(3)
    X = torch.randn(2, 3, 4, 4)
    for args, match in (
        ((X[0], ones, zeros, zeros, ones, True), r"3, 4, 4"),
        ((X, torch.ones(4), zeros, zeros, ones, True), r"\(4,\)"),
        ((X, ones, torch.zeros(3, 1), zeros, ones, True), r"3, 1"),
        ((X, ones, zeros, torch.zeros(2), ones, False), r"\(2,\)"),
        ((X, ones, zeros, zeros, torch.ones(1, 3), False), r"1, 3"),
    ):
        _raises(report, fn, args, match)


# --- 02 and 03: sizes, as plain numbers -------------------------------------------------------------


def _same_value(report: Report, fn: Callable, call: str, run: Callable[[], Any], expected: Any) -> None:
    def check() -> None:
        got = run()
        assert got == expected and type(got) is type(expected), f"{call} = {got!r}; PyTorch gives {expected!r}"

    _check(report, fn, check)


def _raises(report: Report, fn: Callable, args: tuple, match: str) -> None:
    _check(report, fn, lambda: checks.assert_raises(ValueError, fn, *args, match=match))


def _pool_geometry(report: Report, fn: Callable, rng: random.Random) -> None:
    cases = 0
    while cases < 24:
        X = torch.zeros(rng.randint(1, 2), rng.randint(1, 3), rng.randint(1, 8), rng.randint(1, 8))
        k = rng.randint(1, 4) if rng.random() < 0.5 else (rng.randint(1, 4), rng.randint(1, 4))
        s = rng.choice([None, rng.randint(1, 3), (rng.randint(1, 3), rng.randint(1, 3))])
        kh, kw = pair(k, "kernel_size")
        p = (rng.randint(0, kh // 2), rng.randint(0, kw // 2))
        ceil_mode = rng.random() < 0.6
        try:
            expected = oracles.pool_geometry(X, k, s, p, ceil_mode)
        except ValueError:
            continue
        cases += 1
        call = checks.describe_call(fn, (X, k, s, p, ceil_mode))
        _same_value(report, fn, call, lambda a=(X, k, s, p, ceil_mode): fn(*a), expected)
    ones = torch.ones(1, 1, 4, 4)
    for args, match in (
        ((torch.ones(4, 4), 2), "4, 4"),
        ((ones, 0, 1), "0"),
        ((ones, 2, 0), "0"),
        ((ones, 2, 1, 2), "2"),
        ((ones, 3, 1, -1), "-1"),
        ((ones, (2, 5)), "5"),
    ):
        _raises(report, fn, args, match)


def _receptive_field(report: Report, fn: Callable, rng: random.Random) -> None:
    for _ in range(12):
        layers = [
            (rng.randint(1, 5), rng.randint(1, 3)) + ((rng.randint(1, 3),) if rng.random() < 0.5 else ())
            for _ in range(rng.randint(0, 4))
        ]
        call = checks.describe_call(fn, (layers,))
        _same_value(report, fn, call, lambda a=layers: fn(a), oracles.receptive_field(layers))
    for layers, match in (([(3, 1), (0, 1)], "0"), ([(3, 0)], "0"), ([(3, 1, 0)], "0"), ([(3, 1, 2, 1)], "3, 1, 2, 1")):
        _raises(report, fn, (layers,), match)


# --- 05: learning a kernel ----------------------------------------------------------------------

_LEARN_FORBID = ("autograd", "conv", "pool")
_LEARN_HELPERS = {
    "conv2d_backward": oracles.conv2d_backward
}  # as the graded tests: your conv2d_backward is graded apart


def _learn_once(fn: Callable, X: torch.Tensor, Y: torch.Tensor, W0: torch.Tensor, lr: float, steps: int) -> None:
    args = (X, Y, W0, lr, steps)
    call = checks.describe_call(fn, args)
    got = checks.call_guarded(fn, *args, forbid=_LEARN_FORBID, helpers=_LEARN_HELPERS)
    if not (isinstance(got, tuple) and len(got) == 2):
        raise checks.CheckFailure(f"{call} should return (W, losses); got {checks._describe(got)}")
    W, losses = got
    expected_W, expected_losses = oracles.learn_kernel(*args)
    if not (isinstance(losses, list) and len(losses) == steps and all(type(v) is float for v in losses)):
        raise checks.CheckFailure(
            f"{call}: losses should be a list of {steps} Python floats, the loss before each step; "
            f"got {checks._describe(losses)}"
        )
    checks.assert_close(W, expected_W, name=f"W of {call}", check_dtype=False)
    checks.assert_dtype(W, X.dtype, name=f"W of {call}")
    if steps:
        rtol = 1e-4 if X.dtype == torch.float32 else None
        as_tensor = [torch.tensor(v, dtype=torch.float64) for v in (losses, expected_losses)]
        checks.assert_close(*as_tensor, rtol=rtol, name=f"losses of {call} (before each step)")


def _learn(report: Report, fn: Callable, rng: random.Random) -> None:
    """learn_kernel against autograd and torch.optim.SGD (oracles.learn_kernel), on small random problems."""
    for dtype in FLOATS:
        for _ in range(3):
            N, C_in, C_out = rng.randint(1, 2), rng.randint(1, 3), rng.randint(1, 2)
            kh, kw = rng.randint(1, 3), rng.randint(1, 3)
            X = _rand(rng, (N, C_in, rng.randint(kh, 7), rng.randint(kw, 7)), dtype)
            Y = oracles.conv2d(X, _rand(rng, (C_out, C_in, kh, kw), dtype))
            W0 = _rand(rng, (C_out, C_in, kh, kw), dtype)
            lr, steps = rng.choice((0.005, 0.01, 0.02)), rng.randint(0, 12)
            _check(report, fn, lambda a=(X, Y, W0, lr, steps): _learn_once(fn, *a))
    X, W0 = torch.ones(1, 2, 6, 6), torch.zeros(1, 2, 3, 3)
    for args, match in (
        ((X, torch.ones(1, 1, 5, 5), W0), r"5, 5"),
        ((X, torch.ones(1, 1, 4, 4), torch.zeros(1, 1, 3, 3)), r"1, 1, 3, 3|2, 6, 6"),
        ((X, torch.ones(1, 1, 4, 4), W0, 0.1, -2), "-2"),
    ):
        _check(
            report,
            fn,
            lambda a=args, m=match: checks.assert_raises(ValueError, fn, *a, match=m, helpers=_LEARN_HELPERS),
        )


_LOOPS: dict[str, Callable[[Report, Callable, random.Random], None]] = {
    "pool_geometry": _pool_geometry,
    "receptive_field": _receptive_field,
    "build_lenet": lambda r, f, g: _lenet(r, f, g, 61706),
    "build_lenet_relu": lambda r, f, g: _lenet(r, f, g, 170988),
    "evaluate_accuracy": _evaluate,
    "train_epoch": _train,
    "learn_kernel": _learn,
    "batch_norm2d": _batch_norm,
}
