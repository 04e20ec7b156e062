"""course_utils.checks: failure messages students read, and the guard against PyTorch's own ops."""

from __future__ import annotations

import importlib.util
import sys
import textwrap

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.functional import conv2d as captured_conv2d  # captured before any guard, as a student might

from course_utils import checks, oracles
from course_utils.checks import ForbiddenOperationError, assert_close, assert_raises, assert_shape, call_guarded, forbid

X = torch.randn(2, 3, 8, 8, generator=torch.Generator().manual_seed(0))
W = torch.randn(4, 3, 3, 3, generator=torch.Generator().manual_seed(1))
Z = torch.randn(4, 5, generator=torch.Generator().manual_seed(2))
T = torch.tensor([0, 1, 2, 3])


# --- assertions ---------------------------------------------------------------------------------


def test_assert_close_passes_and_reports_the_worst_element():
    assert_close(torch.tensor([1.0, 2.0]), torch.tensor([1.0, 2.0 + 1e-7]))
    with pytest.raises(AssertionError) as info:
        assert_close(torch.tensor([[1.0, 2.0], [3.0, 4.0]]), torch.tensor([[1.0, 2.5], [3.0, 9.0]]), name="Y")
    message = str(info.value)
    assert "2 of 4 elements" in message and "index (1, 1)" in message
    assert "expected 9" in message and "got 4" in message


def test_assert_close_names_shape_dtype_and_missing_return():
    with pytest.raises(AssertionError, match=r"shape \(2, 3\), expected \(3, 2\)"):
        assert_close(torch.zeros(2, 3), torch.zeros(3, 2))
    with pytest.raises(AssertionError, match=r"torch.float32, expected torch.float64.*keep the input's dtype"):
        assert_close(torch.zeros(2), torch.zeros(2, dtype=torch.float64))
    with pytest.raises(AssertionError, match="None .*return"):
        assert_shape(None, (2,))
    with pytest.raises(AssertionError, match="got nan"):
        assert_close(torch.tensor([float("nan")]), torch.tensor([1.0]))


def test_float64_tolerance_is_tight():
    with pytest.raises(AssertionError):
        assert_close(torch.tensor([1.0 + 1e-5], dtype=torch.float64), torch.tensor([1.0], dtype=torch.float64))


def test_assert_raises_each_path():
    def raises_value_error(x):
        raise ValueError("shape (2, 3) is wrong")

    assert assert_raises(ValueError, raises_value_error, 1, match=r"\(2, 3\)") is None
    with pytest.raises(AssertionError, match="should name the offending"):
        assert_raises(ValueError, raises_value_error, 1, match="channels")
    with pytest.raises(AssertionError, match="returned a tensor of shape \\(2,\\)"):
        assert_raises(ValueError, lambda: torch.zeros(2))
    with pytest.raises(AssertionError, match="raised TypeError"):
        assert_raises(ValueError, lambda: (_ for _ in ()).throw(TypeError("bad")))
    with pytest.raises(NotImplementedError, match="not yet"):  # a stub fails as in any test, not as a wrong error
        assert_raises(ValueError, lambda: (_ for _ in ()).throw(NotImplementedError("not yet")))


# --- the guard ----------------------------------------------------------------------------------

BANNED = {
    "conv": [
        lambda: F.conv2d(X, W),
        lambda: captured_conv2d(X, W),
        lambda: torch.conv2d(X, W),
        lambda: nn.Conv2d(3, 4, 3)(X),
        lambda: F.conv2d(X, W, padding="same"),
        lambda: torch.ops.aten.convolution(X, W, None, [1, 1], [0, 0], [1, 1], False, [0, 0], 1),
        lambda: F.conv1d(X[:, :, 0], W[:, :, 0]),
        lambda: F.conv_transpose2d(X, W.transpose(0, 1)),
        lambda: nn.Conv2d(3, 4, 3, padding=1, padding_mode="circular")(X),
    ],
    "pool": [
        lambda: F.max_pool2d(X, 2),
        lambda: F.avg_pool2d(X, 2),
        lambda: F.adaptive_avg_pool2d(X, 1),
        lambda: nn.MaxPool2d(2)(X),
        lambda: nn.AvgPool2d(3, 1, 1)(X),
        lambda: nn.AdaptiveAvgPool2d(1)(X),
        lambda: F.lp_pool2d(X, 2, 2),
        lambda: F.max_pool2d(X, 2, return_indices=True),
        lambda: torch.ops.aten.avg_pool2d(X, [2, 2]),
    ],
    "pad": [
        lambda: F.pad(X, (1, 1, 1, 1)),
        lambda: F.pad(X, (1, 1, 1, 1), mode="reflect"),
        lambda: F.pad(X, (1, 1, 1, 1), mode="circular"),
        lambda: nn.ZeroPad2d(1)(X),
        lambda: torch.constant_pad_nd(X, (1, 1)),
    ],
    "activations": [
        lambda: torch.sigmoid(Z),
        lambda: Z.sigmoid(),
        lambda: torch.special.expit(Z),
        lambda: F.softmax(Z, -1),
        lambda: Z.softmax(-1),
        lambda: F.log_softmax(Z, -1),
        lambda: torch.logsumexp(Z, -1),
        lambda: nn.Sigmoid()(Z),
        lambda: nn.Softmax(-1)(Z),
    ],
    "losses": [
        lambda: F.binary_cross_entropy(torch.rand(4), torch.rand(4)),
        lambda: nn.BCELoss()(torch.rand(4), torch.rand(4)),
        lambda: F.binary_cross_entropy_with_logits(Z[0], Z[1]),
        lambda: F.cross_entropy(Z, T),
        lambda: nn.CrossEntropyLoss()(Z, T),
        lambda: F.nll_loss(Z, T),
    ],
    "norm": [
        lambda: F.batch_norm(X, torch.zeros(3), torch.ones(3), training=True),
        lambda: F.batch_norm(X, torch.zeros(3), torch.ones(3), torch.ones(3), torch.zeros(3), training=False),
        lambda: torch.batch_norm(X, None, None, torch.zeros(3), torch.ones(3), True, 0.1, 1e-5, False),
        lambda: nn.BatchNorm2d(3)(X),
        lambda: nn.BatchNorm2d(3).eval()(X),
        lambda: nn.BatchNorm1d(5)(Z),
        lambda: torch.ops.aten.native_batch_norm(X, None, None, None, None, True, 0.1, 1e-5),
        lambda: torch.ops.aten._native_batch_norm_legit(X, None, None, torch.zeros(3), torch.ones(3), True, 0.1, 1e-5),
        lambda: torch.ops.aten._native_batch_norm_legit.no_stats(X, None, None, True, 0.1, 1e-5),
        lambda: F.instance_norm(X),
        lambda: nn.InstanceNorm2d(3)(X),
        lambda: F.layer_norm(X, (8, 8)),
        lambda: nn.LayerNorm(8)(X),
        lambda: F.group_norm(X, 3),
        lambda: nn.GroupNorm(1, 3)(X),
        lambda: F.rms_norm(X, (8,)),
    ],
    "autograd": [
        lambda: (X.clone().requires_grad_() * 2).sum().backward(),
        lambda: torch.autograd.grad(((leaf := Z.clone().requires_grad_()) ** 2).sum(), leaf),
        lambda: torch.autograd.backward((Z.clone().requires_grad_() * 3).sum()),
    ],
}
CASES = [(group, i) for group, calls in BANNED.items() for i in range(len(calls))]


@pytest.mark.parametrize("group,index", CASES, ids=[f"{g}-{i}" for g, i in CASES])
def test_each_banned_call_is_caught_and_works_again_afterwards(group, index):
    call = BANNED[group][index]
    with pytest.raises(ForbiddenOperationError, match="write this by hand"):
        with forbid(group):
            call()
    call()  # everything is restored after the guard


def test_a_violation_the_student_swallows_still_fails():
    def sneaky():
        try:
            return F.conv2d(X, W)
        except Exception:
            return torch.zeros(1)

    with pytest.raises(ForbiddenOperationError, match="caught inside"):
        call_guarded(sneaky, forbid=("conv",))


def test_errors_of_the_student_propagate_unchanged():
    def stub():
        raise NotImplementedError()

    with pytest.raises(NotImplementedError):
        call_guarded(stub)


ALLOWED = [
    lambda: X[:, :, 1:4, 2:5].sum(),
    lambda: torch.zeros(2, 3),
    lambda: X.mean(),
    lambda: X.amax(dim=(2, 3)),
    lambda: X.max(),
    lambda: X.argmax(),
    lambda: Z.exp().log(),
    lambda: Z.clamp(min=0),
    lambda: torch.where(Z > 0, Z, 0),
    lambda: torch.einsum("nchw,oc->nohw", X, W[:, :, 0, 0]),
    lambda: Z @ Z.T,
    lambda: X.unfold(2, 3, 1),
    lambda: F.unfold(X, 3),
    lambda: X.as_strided((2, 2), (1, 1)),
    lambda: X.flip(-1),
    lambda: X.reshape(6, 64).permute(1, 0),
    lambda: torch.stack([Z, Z]),
    lambda: torch.cat([Z, Z]),
    lambda: _padded_by_hand(),
    lambda: (X - X.mean(dim=(0, 2, 3), keepdim=True)) / (X.var(dim=(0, 2, 3), correction=0, keepdim=True) + 1).sqrt(),
    lambda: X.var(dim=(0, 2, 3), correction=1),
    lambda: torch.linalg.vector_norm(Z, dim=1),
    lambda: Z.norm(dim=1),
]


def _padded_by_hand():
    out = X.new_zeros(2, 3, 10, 10)
    out[:, :, 1:9, 1:9] = X
    return out


@pytest.mark.parametrize("index", range(len(ALLOWED)))
def test_allowed_ops_pass_every_guard_and_give_the_same_numbers(index):
    expected = ALLOWED[index]()
    with forbid(*checks.GROUPS):
        got = ALLOWED[index]()
    assert torch.equal(got, expected)


def test_guard_works_for_float64_and_nests():
    x64 = X.double()
    with forbid("conv"):
        with forbid("pool"):
            assert (x64 * 2).dtype == torch.float64
    with pytest.raises(ForbiddenOperationError, match="pooling"):
        with forbid("conv"):
            with forbid("pool"):
                F.max_pool2d(x64, 2)
    with pytest.raises(ForbiddenOperationError, match="convolution"):
        with forbid("conv"):
            with forbid("pool"):
                F.conv2d(x64, W.double())
    assert F.conv2d(X, W).shape == (2, 4, 6, 6)


def test_unknown_group_is_a_value_error():
    with pytest.raises(ValueError, match="unknown forbidden group"):
        with forbid("everything"):
            pass


def test_call_guarded_accepts_a_hand_written_conv_and_refuses_a_cheat():
    def conv_by_hand(X, W):
        cols = F.unfold(X, W.shape[-2:])  # (N, C*kh*kw, L)
        out = torch.einsum("ok,nkl->nol", W.reshape(W.shape[0], -1), cols)
        return out.reshape(X.shape[0], W.shape[0], X.shape[2] - W.shape[2] + 1, X.shape[3] - W.shape[3] + 1)

    assert_close(call_guarded(conv_by_hand, X, W), F.conv2d(X, W))
    with pytest.raises(ForbiddenOperationError):
        call_guarded(lambda X, W: captured_conv2d(X, W), X, W)


# --- NumPy / SciPy by source --------------------------------------------------------------------


def _module_from_source(tmp_path, source: str):
    path = tmp_path / f"student_{abs(hash(source))}.py"
    path.write_text(textwrap.dedent(source))
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    spec.loader.exec_module(module)
    return module


def test_scan_source_finds_numpy_convolve_by_attribute_and_by_alias(tmp_path):
    m = _module_from_source(
        tmp_path,
        """
        import numpy as np
        from numpy import convolve as c

        def by_attribute(a):
            return np.convolve(a, a)

        def by_alias(a):
            return c(a, a)

        def by_import_inside(a):
            from scipy.signal import convolve2d
            return convolve2d(a, a)
        """,
    )
    assert any("np.convolve" in f for f in checks.scan_source(m.by_attribute))
    assert any("numpy.convolve" in f for f in checks.scan_source(m.by_alias))
    assert any("scipy.signal import convolve2d" in f for f in checks.scan_source(m.by_import_inside))
    with pytest.raises(ForbiddenOperationError, match="NumPy/SciPy"):
        call_guarded(m.by_alias, torch.ones(3).numpy())


def test_scan_source_leaves_the_students_own_convolve2d_and_sliding_window_view(tmp_path):
    m = _module_from_source(
        tmp_path,
        """
        import numpy as np

        def convolve2d(X, K):
            return X

        def uses_own(X, K):
            windows = np.lib.stride_tricks.sliding_window_view(X, K.shape)
            return convolve2d(X, K), windows
        """,
    )
    assert checks.scan_source(m.uses_own) == []
    assert checks.scan_source(m.convolve2d) == []


# --- what a failure says (issue 15) --------------------------------------------------------------------


def test_a_function_that_changes_its_input_in_place_fails_and_says_which():
    from course_utils.checks import CheckFailure

    def shifts(z):
        z -= z.amax(dim=-1, keepdim=True)
        return z.exp() / z.exp().sum(dim=-1, keepdim=True)

    with pytest.raises(
        CheckFailure, match=r"shifts\(<tensor \(2, 3\) float64, values \S+ to \S+>\) changed its argument 1"
    ):
        call_guarded(shifts, torch.randn(2, 3, dtype=torch.float64))


def test_a_students_error_keeps_its_type_and_names_the_call():
    def broken(X, K):
        return X[:, :2] + K

    with pytest.raises(RuntimeError) as info:
        call_guarded(broken, torch.ones(3, 4), torch.ones(3, 3))
    assert "broken(<tensor (3, 4) float32, values 1 to 1>, <tensor (3, 3) float32, values 1 to 1>)" in "".join(
        info.value.__notes__
    )


def test_a_call_is_described_short_with_what_explains_it():
    """Issue 29: a message never prints a bias to 17 digits (float32's 0.1 is 0.10000000149011612 as a float), and
    a larger tensor shows its range, so the logits of 1000 behind a softmax's NaN are in the message."""
    from course_utils.checks import describe_call

    def f(*args):
        return args

    bias = torch.tensor([0.1, -2.5, 1 / 3])
    assert repr(bias.tolist()[0]) == "0.10000000149011612"
    assert describe_call(f, (bias,)) == "f(tensor([0.1, -2.5, 0.3333], float32))"
    assert describe_call(f, (torch.tensor([1, 2]),)) == "f(tensor([1, 2], int64))"
    logits = torch.tensor([[1000.0, 0.0, -3.0], [2.0, 1.0, 0.5]])
    assert describe_call(f, (logits,)) == "f(<tensor (2, 3) float32, values -3 to 1000>)"
    logits[1, 1] = float("nan")
    assert describe_call(f, (logits,)) == "f(<tensor (2, 3) float32, values -3 to 1000, 1 not finite>)"
    assert describe_call(f, (torch.zeros(2, 3, dtype=torch.int64),)) == "f(<tensor (2, 3) int64>)"


def test_helpers_give_the_function_the_reference_even_where_the_op_is_banned():
    import torch.nn.functional as F

    from course_utils import oracles

    namespace = {"torch": torch}
    exec(
        "def pad2d(X, p):\n    return X  # wrong\n\ndef conv(X, W):\n    return pad2d(X, 1).sum() * W.sum()\n",
        namespace,
    )
    X, W = torch.ones(1, 1, 2, 2), torch.ones(1)
    assert float(call_guarded(namespace["conv"], X, W, forbid=("pad",), helpers={"pad2d": oracles.pad2d})) == 4.0
    assert namespace["pad2d"](X, 1) is X  # restored afterwards
    namespace["pad2d_banned"] = lambda X, p: F.pad(X, (p, p, p, p))
    exec("def conv2(X):\n    return pad2d_banned(X, 1)\n", namespace)
    with pytest.raises(AssertionError, match="padding"):
        call_guarded(namespace["conv2"], X, forbid=("pad",))


def test_an_expected_zero_is_reported_as_absolute():
    from course_utils.checks import CheckFailure

    with pytest.raises(CheckFailure, match="expected exactly 0") as info:
        assert_close(torch.tensor([1e-3, 1.0]), torch.tensor([0.0, 1.0]))
    assert "e+30" not in str(info.value)


def test_relative_comparison_catches_a_tiny_value_that_an_absolute_one_misses():
    expected = torch.sigmoid(torch.tensor([-80.0], dtype=torch.float64))
    clamped = torch.sigmoid(torch.tensor([-20.0], dtype=torch.float64))
    assert_close(clamped, expected)  # hidden under the absolute tolerance
    with pytest.raises(AssertionError, match="relative error"):
        assert_close(clamped, expected, atol=0.0)


def test_dtype_is_checked_apart_from_values():
    from course_utils.checks import CheckFailure, assert_dtype

    got = torch.tensor([1.0, 2.0])
    assert_close(got, torch.tensor([1.0, 2.0], dtype=torch.float64), check_dtype=False)
    with pytest.raises(CheckFailure, match="dtype torch.float32, expected torch.float64"):
        assert_dtype(got, torch.float64)


def test_mode_probe_counts_training_and_gradient_passes():
    from course_utils.checks import ModeProbe

    probe = ModeProbe()
    probe(torch.ones(1))
    probe.eval()
    with torch.no_grad():
        probe(torch.ones(1))
    assert (int(probe.forwards), int(probe.train_forwards), int(probe.grad_forwards)) == (2, 1, 1)


def test_a_mode_probe_crosses_the_grading_wire_with_its_counts():
    """06's hidden tests put a ModeProbe in the network the student's loop runs in the sandbox: its counts
    come back as the module's buffers."""
    from autograder import wire
    from course_utils.checks import ModeProbe

    net = nn.Sequential(ModeProbe(), nn.Linear(2, 2))
    net[0](torch.ones(1))
    message = wire.encode_call((net,), {})
    rebuilt = wire.Decoder(message).decode(message["args"][0])
    assert isinstance(rebuilt[0], ModeProbe) and int(rebuilt[0].forwards) == 1
    rebuilt[0].eval()
    rebuilt[0](torch.ones(1))
    wire.apply_after([net], [rebuilt])
    assert (int(net[0].forwards), int(net[0].train_forwards), net[0].training) == (2, 1, False)


def test_check_answer_accepts_the_answer_in_each_form_and_teaches_on_a_wrong_one():
    from course_utils.checks import CheckFailure, check_answer

    check_answer("macs", 1_800_000, 1_800_000, why="")
    check_answer("macs", torch.tensor(1_800_000), 1_800_000, why="")
    check_answer("shape", (2, 6, 24, 24), (2, 6, 24, 24), why="")
    check_answer("shape", torch.Size([2, 6, 24, 24]), (2, 6, 24, 24), why="")
    check_answer("choice", " B ", "b", why="")
    check_answer("ratio", 0.3334, 1 / 3, why="", tol=1e-3)
    with pytest.raises(CheckFailure, match=r"^macs = 1800 is not right\. Count the channels too\. Each of"):
        check_answer("macs", 1800, 1_800_000, why="Each of the outputs ...", hints={1800: "Count the channels too."})
    with pytest.raises(CheckFailure, match=r"^macs = 7 is not right\. Each of"):
        check_answer("macs", 7, 1_800_000, why="Each of the outputs ...", hints={1800: "Count the channels too."})
    with pytest.raises(CheckFailure, match="still `...`"):
        check_answer("macs", ..., 1, why="")
    with pytest.raises(CheckFailure):  # a bool is not the number 1, a string is not a number
        check_answer("flag", True, 1, why="")
    with pytest.raises(CheckFailure):
        check_answer("n", "1", 1, why="")
    with pytest.raises(CheckFailure):
        check_answer("shape", (2, 6), (2, 6, 24, 24), why="")


def test_a_wrong_value_is_shown_at_4_digits_and_a_near_miss_with_the_digits_that_differ():
    """Issue 29: values are printed short (4 significant digits) unless the two are closer than that, when the
    message shows just enough digits for the two printed numbers to differ."""
    import re

    from course_utils.checks import CheckFailure, assert_close

    with pytest.raises(CheckFailure) as wrong:
        assert_close(torch.tensor([0.0, 2.0]), torch.tensor([-1.417797336, 2.0]), name="Y")
    assert "expected -1.418, got 0, relative error 1" in str(wrong.value)
    near = torch.tensor([1.41779734], dtype=torch.float64)
    with pytest.raises(CheckFailure) as close:
        assert_close(near, torch.tensor([1.417797336], dtype=torch.float64), rtol=1e-10, atol=0.0, name="Y")
    expected, got = re.search(r"expected (\S+), got (\S+),", str(close.value)).groups()
    assert expected != got and float(expected) == pytest.approx(1.417797336, rel=1e-12) and len(expected) <= 13


# --- batch norm: the output and the running statistics updated in place ---------------------------


def _bn_case(training: bool):
    gen = torch.Generator().manual_seed(7)
    X = torch.randn(4, 3, 5, 5, generator=gen, dtype=torch.float64) * 2 + 1
    gamma, beta, mean = (torch.randn(3, generator=gen, dtype=torch.float64) for _ in range(3))
    var = torch.rand(3, generator=gen, dtype=torch.float64) + 0.5
    return X, gamma, beta, mean, var, training


def _check_bn(fn, training: bool):
    X, gamma, beta, mean, var, training = _bn_case(training)
    expected = oracles.batch_norm2d(X, gamma, beta, mean, var, training)
    before = (mean.clone(), var.clone())
    got = call_guarded(fn, X, gamma, beta, mean, var, training, forbid=("norm",), in_place=(3, 4))
    checks.assert_batch_norm(got, mean, var, expected, before, training)


def _torchs(X, gamma, beta, mean, var, training, momentum=0.1, eps=1e-5):
    """torch's batch norm with the statistics updated as it does (allowed here: no guard is asked for)."""
    out, new_mean, new_var = oracles.batch_norm2d(X, gamma, beta, mean, var, training, momentum, eps)
    mean.copy_(new_mean)
    var.copy_(new_var)
    return out


@pytest.mark.parametrize("training", [True, False])
def test_assert_batch_norm_passes_torchs_own_and_names_each_mistake(training):
    with pytest.raises(ForbiddenOperationError, match="normalisation"):
        _check_bn(_torchs, training)  # F.batch_norm itself is off limits under forbid=("norm",)
    X, gamma, beta, mean, var, _ = _bn_case(training)
    expected = oracles.batch_norm2d(X, gamma, beta, mean, var, training)
    before = (mean.clone(), var.clone())
    checks.assert_batch_norm(_torchs(X, gamma, beta, mean, var, training), mean, var, expected, before, training)

    def only_the_output(X, gamma, beta, mean, var, training, momentum=0.1, eps=1e-5):
        return oracles.batch_norm2d(X, gamma, beta, mean, var, training, momentum, eps)[0]

    def updates_always(X, gamma, beta, mean, var, training, momentum=0.1, eps=1e-5):
        out = oracles.batch_norm2d(X, gamma, beta, mean, var, training, momentum, eps)[0]
        _, new_mean, new_var = oracles.batch_norm2d(X, gamma, beta, mean, var, True, momentum, eps)
        mean.copy_(new_mean)
        var.copy_(new_var)
        return out

    def shifted(X, gamma, beta, mean, var, training, momentum=0.1, eps=1e-5):
        return _torchs(X, gamma, beta, mean, var, training, momentum, eps) + 1e-3

    def changes_x(X, gamma, beta, mean, var, training, momentum=0.1, eps=1e-5):
        out = _torchs(X, gamma, beta, mean, var, training, momentum, eps)
        X -= 1
        return out

    for fn, message in (
        (only_the_output, "running_mean was not updated in place" if training else None),
        (updates_always, None if training else "eval mode: running_mean changed"),
        (shifted, "the output of batch_norm2d in " + ("training" if training else "eval") + " mode: .* differ"),
        (changes_x, "changed its argument 1 in place"),
    ):
        X, gamma, beta, mean, var, _ = _bn_case(training)
        expected = oracles.batch_norm2d(X, gamma, beta, mean, var, training)
        before = (mean.clone(), var.clone())
        run = lambda fn=fn, a=(X, gamma, beta, mean, var, training): call_guarded(fn, *a, forbid=(), in_place=(3, 4))  # noqa: E731
        if message is None:
            checks.assert_batch_norm(run(), mean, var, expected, before, training)
            continue
        with pytest.raises(AssertionError, match=message):
            checks.assert_batch_norm(run(), mean, var, expected, before, training)


def test_assert_batch_norm_names_the_running_variance_when_only_it_is_wrong():
    X, gamma, beta, mean, var, training = _bn_case(True)
    expected = oracles.batch_norm2d(X, gamma, beta, mean, var, True)
    before = (mean.clone(), var.clone())
    out = _torchs(X, gamma, beta, mean, var, True)
    var.mul_(1.01)
    with pytest.raises(AssertionError, match=r"running_var after batch_norm2d in training mode: 3 of 3 elements"):
        checks.assert_batch_norm(out, mean, var, expected, before, True)
