"""What the text of 04 and 05 states about numbers, measured: each claim fails here if it stops being true."""

from __future__ import annotations

import math

import torch

FLOATS = (torch.float32, torch.float64)


# --- 04: the sigmoid ---------------------------------------------------------------------------


def test_one_over_one_plus_exp_is_the_sigmoid_to_the_last_digit_from_minus_to_plus_1000():
    """04: '1/(1+e^-z) needs no trick': it agrees with torch.sigmoid in relative terms everywhere, no nan."""
    for dtype in FLOATS:
        z = torch.linspace(-1000, 1000, 200_001, dtype=dtype)
        plain, reference = 1 / (1 + torch.exp(-z)), torch.sigmoid(z)
        assert not torch.isnan(plain).any()
        assert plain[0] == 0 and plain[-1] == 1  # at -1000, 1 / inf = 0
        tiny = reference > 0
        relative = ((plain - reference).abs()[tiny] / reference[tiny]).max()
        assert relative < 8 * torch.finfo(dtype).eps, (dtype, float(relative))
        assert torch.equal(plain[~tiny], reference[~tiny])


def test_the_ratio_form_is_nan_at_1000_and_a_clamp_loses_sigmoid_of_minus_80():
    """04: 'e^z/(1+e^z) at z = 1000 is inf/inf = nan'; 'σ(-80) = 1.8e-35, clamped to [-20, 20] it becomes 2e-9'."""
    for dtype in FLOATS:
        z = torch.tensor(1000.0, dtype=dtype)
        assert torch.isnan(torch.exp(z) / (1 + torch.exp(z)))
        at_80 = 1 / (1 + torch.exp(torch.tensor(80.0, dtype=dtype)))
        assert f"{float(at_80):.1e}" == "1.8e-35"
        assert f"{float(torch.sigmoid(torch.tensor(-80.0, dtype=dtype).clamp(-20, 20))):.0e}" == "2e-09"


def test_log_sigmoid_is_minus_inf_below_minus_89_in_float32_and_the_logit_form_is_not():
    """04: 'log σ(z) is -inf once σ(z) rounds to 0 (below z ≈ -89 in float32)'; from the logit it is finite."""
    z = torch.arange(-120.0, -60.0, 0.5)
    zero = z[torch.sigmoid(z) == 0]
    assert -89.5 <= float(zero.max()) <= -88.5, float(zero.max())
    assert torch.isinf(torch.log(torch.sigmoid(torch.tensor(-200.0))))
    from_logit = torch.nn.functional.binary_cross_entropy_with_logits(torch.tensor(-200.0), torch.tensor(1.0))
    assert math.isclose(float(from_logit), 200.0, rel_tol=1e-6)


def _markdown(assignment: str, cell_id: str) -> str:
    import nbformat

    from conftest import source_notebook

    cells = [c for c in nbformat.read(source_notebook(assignment), as_version=4).cells if c.id == cell_id]
    assert len(cells) == 1, f"no cell {cell_id} in {assignment}"
    return cells[0].source


# --- 05: learning the Sobel kernel ---------------------------------------------------------------


def _sobel_run(lr: float, steps: int) -> tuple[torch.Tensor, torch.Tensor, list[float]]:
    """05's demo run (the seed-0 W0 of the notebook), by autograd and torch.optim.SGD: (K, W, losses)."""
    import course_utils as cu

    X, K, Y = cu.examples.kernel_learning_problem("right_sobel")
    W0 = 0.1 * torch.randn(K.shape, generator=torch.Generator().manual_seed(0), dtype=X.dtype)
    W, losses = cu.oracles.learn_kernel(X, Y, W0, lr, steps)
    return K, W, losses


def test_the_sobel_loss_falls_a_thousandfold_in_40_steps_then_about_6_5_times_per_40_slowing_to_3():
    """05: 'a thousandfold in the first 40 steps (from 12 to 0.012), then more slowly: about 6.5 times per 40 steps
    up to step 120, and less and less after that (3 times from step 240 to 280); after 300 steps the weights are
    within 0.002 of Sobel's'. Measured: 1025, then 6.8, 6.5, 6.0, 5.1, 4.0 and 3.0."""
    K, W, losses = _sobel_run(0.1, 300)
    assert round(losses[0]) == 12 and round(losses[40], 3) == 0.012, (losses[0], losses[40])
    assert 700 < losses[0] / losses[40] < 1400, losses[0] / losses[40]
    later = [losses[i] / losses[i + 40] for i in range(40, 300 - 40, 40)]  # 40-80, 80-120, ..., 240-280
    assert len(later) == 6 and all(6 < r < 7.2 for r in later[:2]), later
    assert all(a > b for a, b in zip(later, later[1:])), later  # less and less
    assert round(later[-1]) == 3, later
    assert float((W - K).abs().max()) < 0.002
    text = " ".join(_markdown("05_backprop", "md-learn-after").split())
    assert "about 6.5 times per 40 steps up to step 120, and less and less after that (3 times" in text


def test_the_sobel_run_at_lr_0_2_falls_for_four_steps_then_grows_past_a_million():
    """05: 'lr=0.2: the loss falls for four steps, then grows without bound (a million after 30 steps)'."""
    _, _, losses = _sobel_run(0.2, 60)
    assert all(losses[i + 1] < losses[i] for i in range(4)), losses[:6]
    assert all(losses[i + 1] > losses[i] for i in range(4, 59)), losses[:10]
    assert 1e6 <= losses[29] < 1e7, losses[29]


def test_the_one_by_two_kernel_is_learned_too():
    """05: 'Try the kernel "diff_x" with W0 of shape (1, 1, 1, 2)': 300 steps at lr 0.1 find it."""
    import course_utils as cu

    X, K, Y = cu.examples.kernel_learning_problem("diff_x")
    W0 = 0.1 * torch.randn(1, 1, 1, 2, generator=torch.Generator().manual_seed(0), dtype=X.dtype)
    W, _ = cu.oracles.learn_kernel(X, Y, W0, 0.1, 300)
    assert float((W - K).abs().max()) < 1e-6


# --- 05: dX by hand, three ways ------------------------------------------------------------------

#: (n, k, s, p) along one axis, with rows the floor drops (r > 0), r > p (an input row itself gets 0) and none
AXES = [(6, 3, 2, 0), (8, 3, 2, 0), (8, 3, 2, 1), (9, 3, 3, 1), (7, 2, 3, 0), (5, 3, 1, 1), (10, 4, 3, 2), (6, 1, 2, 0)]


def _conv_case(rows, cols, seed: int = 0):
    (n, k, s, p), (m, kw, sw, pw) = rows, cols
    gen = torch.Generator().manual_seed(seed)
    X = torch.randn(2, 3, n, m, generator=gen, dtype=torch.float64, requires_grad=True)
    W = torch.randn(4, 3, k, kw, generator=gen, dtype=torch.float64)
    Y = torch.nn.functional.conv2d(X, W, stride=(s, sw), padding=(p, pw))
    dY = torch.randn(Y.shape, generator=gen, dtype=torch.float64)
    (dX,) = torch.autograd.grad(Y, X, dY)
    return X.detach(), W, dY, dX


def test_dx_is_the_padded_dilated_dy_correlated_with_the_rotated_kernel_k_1_p_above_plus_the_dropped_rows_below():
    """05: 'pad the dilated dY with k-1-p rows above, k-1-p plus the r = (n + 2p - k) - (o-1)s rows the floor
    dropped below (columns likewise), and the full correlation gives exactly n rows'."""
    F = torch.nn.functional
    for rows, cols in zip(AXES, AXES[3:] + AXES[:3]):
        X, W, dY, dX = _conv_case(rows, cols)
        pads = []
        for (n, k, s, p), axis in ((rows, 2), (cols, 3)):
            o = dY.shape[axis]
            r = (n + 2 * p - k) - (o - 1) * s
            assert 0 <= r < s
            pads.append((k - 1 - p, k - 1 - p + r))
        dilated = torch.zeros(*dY.shape[:2], (dY.shape[2] - 1) * rows[2] + 1, (dY.shape[3] - 1) * cols[2] + 1)
        dilated = dilated.to(dY.dtype)
        dilated[:, :, :: rows[2], :: cols[2]] = dY
        (top, bottom), (left, right) = pads
        padded = F.pad(dilated, (left, right, top, bottom))
        got = F.conv2d(padded, W.transpose(0, 1).flip(-2, -1))
        assert got.shape == dX.shape, (rows, cols, got.shape, dX.shape)
        torch.testing.assert_close(got, dX, msg=f"rows {rows}, columns {cols}")


def test_fold_is_the_adjoint_of_unfold_and_folds_the_patch_gradients_into_dx():
    """05: '<unfold(X), C> = <X, fold(C)>', and dX = fold(W_mat^T dY) for the im2col convolution."""
    F = torch.nn.functional
    for rows, cols in zip(AXES, AXES[3:] + AXES[:3]):
        X, W, dY, dX = _conv_case(rows, cols, seed=1)
        size, k, s, p = X.shape[-2:], (rows[1], cols[1]), (rows[2], cols[2]), (rows[3], cols[3])
        patch_grads = W.reshape(W.shape[0], -1).T @ dY.flatten(2)
        torch.testing.assert_close(F.fold(patch_grads, size, k, stride=s, padding=p), dX)
        C = torch.randn(patch_grads.shape, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
        lhs = (F.unfold(X, k, stride=s, padding=p) * C).sum()
        rhs = (X * F.fold(C, size, k, stride=s, padding=p)).sum()
        torch.testing.assert_close(lhs, rhs)


def test_the_floor_drops_an_input_row_in_some_axes_and_its_gradient_is_zero():
    """The cases above include rows the floor drops that belong to X itself (r > p), whose dX is exactly 0."""
    dropped = [(n, k, s, p) for n, k, s, p in AXES if (n + 2 * p - k) % s > p]
    assert dropped
    for n, k, s, p in dropped:
        _, _, _, dX = _conv_case((n, k, s, p), (5, 1, 1, 0))
        r = (n + 2 * p - k) % s
        assert torch.equal(dX[:, :, n - (r - p) :], torch.zeros_like(dX[:, :, n - (r - p) :]))


# --- 05: ties in max pooling ----------------------------------------------------------------------


def test_a_tied_max_sends_its_gradient_to_the_first_maximum_and_the_text_calls_that_torchs_behaviour():
    """05: 'to the first in row-major order (what torch's kernels do, as in 03: PyTorch does not document it,
    though argmax documents that it returns the first maximum)'; question 1's window, by autograd."""
    for dtype in FLOATS:
        window = torch.tensor([[[[3.0, 3.0], [1.0, 2.0]]]], dtype=dtype, requires_grad=True)
        torch.nn.functional.max_pool2d(window, 2).sum().backward()
        assert window.grad.flatten().tolist() == [1, 0, 0, 0]
        assert int(window.detach().flatten().argmax()) == 0  # argmax's documented first maximum agrees
    text = _markdown("05_backprop", "md-ex2")
    assert "what torch's kernels do, as in 03: PyTorch does not document it" in text
    assert "PyTorch's rule" not in text


# --- 05: the questions' numbers ------------------------------------------------------------------


def test_a_conv_layers_backward_pass_costs_twice_its_forward_pass():
    """05, question 2: dX and dW take one multiply-add per (output cell, weight) pair each, as the forward pass does
    (torch's own FLOP counter, over strides and paddings)."""
    from torch.utils.flop_counter import FlopCounterMode

    for stride, padding in ((1, 0), (2, 1), (3, 2)):
        X = torch.randn(2, 3, 11, 9, requires_grad=True)
        W = torch.randn(4, 3, 3, 2, requires_grad=True)
        with FlopCounterMode(display=False) as forward:
            Y = torch.nn.functional.conv2d(X, W, stride=stride, padding=padding)
        with FlopCounterMode(display=False) as backward:
            Y.backward(torch.randn_like(Y))
        pairs = Y.numel() * W[0].numel()  # (output cell, weight) pairs: N * C_out * out_h * out_w * C_in * kh * kw
        assert forward.get_total_flops() == 2 * pairs  # a multiply-add is 2 FLOPs
        assert backward.get_total_flops() == 2 * forward.get_total_flops()


def test_the_sobel_problems_mean_runs_over_750_output_cells():
    """05, question 4: the photo is 32x27, the kernel 3x3, so M = 30 * 25 = 750."""
    import course_utils as cu

    X, K, Y = cu.examples.kernel_learning_problem("right_sobel")
    assert tuple(X.shape) == (1, 1, 32, 27) and tuple(K.shape) == (1, 1, 3, 3) and Y.numel() == 750
