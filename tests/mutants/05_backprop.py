"""Plausible mistakes in 05_backprop's exercises (see autograder.cli.mutation)."""

from autograder.cli.mutation import Mutant

MUTANTS = [
    # conv2d_backward
    Mutant(
        "cb_stride_ignored",
        "conv2d_backward",
        "rows = slice(i, i + (out_h - 1) * sh + 1, sh)\n            cols = slice(j, j + (out_w - 1) * sw + 1, sw)",
        "rows = slice(i, i + out_h)\n            cols = slice(j, j + out_w)",
        "stride ignored in backward",
    ),
    Mutant(
        "cb_no_unflip",
        "conv2d_backward",
        'torch.einsum("nohw,oc->nchw", dY, W[:, :, i, j])',
        'torch.einsum("nohw,oc->nchw", dY, W[:, :, kh - 1 - i, kw - 1 - j])',
        "dX with the kernel flipped twice",
    ),
    Mutant(
        "cb_dx_overwrites",
        "conv2d_backward",
        "dXp[:, :, rows, cols] += torch.einsum",
        "dXp[:, :, rows, cols] = torch.einsum",
        "overwrite instead of accumulate",
    ),
    Mutant(
        "cb_db_batch_mean",
        "conv2d_backward",
        "dY.sum(dim=(0, 2, 3))",
        "dY.sum(dim=(2, 3)).mean(dim=0)",
        "db averaged over the batch",
    ),
    Mutant(
        "cb_db_first_item",
        "conv2d_backward",
        "dY.sum(dim=(0, 2, 3))",
        "dY[0].sum(dim=(1, 2))",
        "db of the first image only",
    ),
    Mutant(
        "cb_dw_first_item",
        "conv2d_backward",
        'torch.einsum("nohw,nchw->oc", dY, Xp[:, :, rows, cols])',
        'torch.einsum("ohw,chw->oc", dY[0], Xp[0, :, rows, cols])',
        "dW of the first image only",
    ),
    Mutant(
        "cb_padding_not_cut",
        "conv2d_backward",
        "return dXp[:, :, ph:ph + H, pw:pw + Wd], dW",
        "return dXp[:, :, :H, :Wd], dW",
        "cuts the wrong border off dXp",
    ),
    Mutant(
        "cb_swapped_padding",
        "conv2d_backward",
        '(sh, sw), (ph, pw) = cu.pair(stride, "stride"), cu.pair(padding, "padding")',
        '(sh, sw), (pw, ph) = cu.pair(stride, "stride"), cu.pair(padding, "padding")',
        "padding pair swapped",
    ),
    Mutant(
        "cb_float32",
        "conv2d_backward",
        "dW = torch.zeros_like(W)",
        "dW = torch.zeros_like(W, dtype=torch.float32)",
        "dW always float32",
    ),
    Mutant(
        "cb_no_shape_check",
        "conv2d_backward",
        "if tuple(dY.shape) != (N, C_out, out_h, out_w):",
        "if dY.dim() != 4:",
        "a dY of the wrong shape accepted",
    ),
    Mutant(
        "cb_mutates_dY",
        "conv2d_backward",
        "dY, W = dY.to(X.dtype), W.to(X.dtype)",
        "dY, W = dY.to(X.dtype), W.to(X.dtype)\n    dY.mul_(1.0000001)",
        "scales the caller's dY in place",
    ),
    # max_pool2d_backward
    Mutant(
        "mpb_overwrite",
        "max_pool2d_backward",
        "accumulate=True",
        "accumulate=False",
        "overlapping windows overwrite instead of accumulate",
    ),
    Mutant(
        "mpb_last_tie",
        "max_pool2d_backward",
        "best = windows.reshape(N, C, out_h, out_w, kh * kw).argmax(dim=-1)",
        "flat = windows.reshape(N, C, out_h, out_w, kh * kw)\n    best = kh * kw - 1 - flat.flip(-1).argmax(dim=-1)",
        "ties go to the last maximum",
    ),
    Mutant(
        "mpb_stride_ignored",
        "max_pool2d_backward",
        "rows = torch.arange(out_h).reshape(1, 1, out_h, 1) * sh + best // kw",
        "rows = torch.arange(out_h).reshape(1, 1, out_h, 1) + best // kw",
        "rows placed as if stride 1",
    ),
    Mutant(
        "mpb_row_col_swapped",
        "max_pool2d_backward",
        "* sh + best // kw",
        "* sh + best // kh",
        "row of the winner from kh instead of kw",
    ),
    Mutant(
        "mpb_default_stride_one",
        "max_pool2d_backward",
        '(sh, sw) = cu.pair(kernel_size if stride is None else stride, "stride")',
        '(sh, sw) = cu.pair(1 if stride is None else stride, "stride")',
        "stride defaults to 1",
    ),
    Mutant(
        "mpb_first_channel",
        "max_pool2d_backward",
        "dX.index_put_((n, c, rows, cols), dY.to(X.dtype), accumulate=True)",
        "dX.index_put_((n, c * 0, rows, cols), dY.to(X.dtype), accumulate=True)",
        "every channel's gradient into channel 0",
    ),
    Mutant(
        "mpb_float32",
        "max_pool2d_backward",
        "dX = torch.zeros_like(X)",
        "dX = torch.zeros_like(X, dtype=torch.float32)",
        "float32 result",
    ),
    Mutant(
        "mpb_spread",
        "max_pool2d_backward",
        "dX.index_put_((n, c, rows, cols), dY.to(X.dtype), accumulate=True)",
        "dX.index_put_((n, c, rows, cols), dY.to(X.dtype), accumulate=True)\n"
        "    ties = (windows == windows.amax(dim=(-2, -1), keepdim=True)).sum(dim=(-2, -1))\n"
        "    dX = dX / ties.amax().clamp(min=1)",
        "the gradient shared between tied maxima",
    ),
    # avg_pool2d_backward
    Mutant("apb_overwrite", "avg_pool2d_backward", "sw] += share", "sw] = share", "overwrite instead of accumulate"),
    Mutant(
        "apb_no_divide",
        "avg_pool2d_backward",
        "share = dY.to(X.dtype) / (kh * kw)",
        "share = dY.to(X.dtype)",
        "forgot to divide by the window size",
    ),
    Mutant(
        "apb_divide_by_kh",
        "avg_pool2d_backward",
        "share = dY.to(X.dtype) / (kh * kw)",
        "share = dY.to(X.dtype) / (kh * kh)",
        "kh * kh for a non-square window",
    ),
    Mutant(
        "apb_stride_ignored",
        "avg_pool2d_backward",
        "dX[:, :, i:i + (out_h - 1) * sh + 1:sh, j:j + (out_w - 1) * sw + 1:sw] += share",
        "dX[:, :, i:i + out_h, j:j + out_w] += share",
        "stride ignored in backward",
    ),
    Mutant(
        "apb_default_stride_one",
        "avg_pool2d_backward",
        '(sh, sw) = cu.pair(kernel_size if stride is None else stride, "stride")',
        '(sh, sw) = cu.pair(1 if stride is None else stride, "stride")',
        "stride defaults to 1",
    ),
    Mutant(
        "apb_float32",
        "avg_pool2d_backward",
        "dX = torch.zeros_like(X)",
        "dX = torch.zeros_like(X, dtype=torch.float32)",
        "float32 result",
    ),
    Mutant(
        "apb_swapped_stride",
        "avg_pool2d_backward",
        "out_h, out_w = (H - kh) // sh + 1, (W - kw) // sw + 1",
        "sh, sw = sw, sh\n    out_h, out_w = (H - kh) // sh + 1, (W - kw) // sw + 1",
        "stride pair read as (w, h)",
    ),
    # learn_kernel
    Mutant(
        "lk_step_sign", "learn_kernel", "W = W - lr * dW", "W = W + lr * dW", "steps up the gradient: the loss grows"
    ),
    Mutant(
        "lk_no_mean",
        "learn_kernel",
        "2 * residual / residual.numel()",
        "2 * residual",
        "the gradient of the sum, not of the mean: steps M times too large",
    ),
    Mutant(
        "lk_no_factor_two",
        "learn_kernel",
        "2 * residual / residual.numel()",
        "residual / residual.numel()",
        "the 2 of the square's derivative forgotten: half steps",
    ),
    Mutant("lk_lr_twice", "learn_kernel", "W = W - lr * dW", "W = W - lr * lr * dW", "the learning rate applied twice"),
    Mutant(
        "lk_one_step_short", "learn_kernel", "for _ in range(steps):", "for _ in range(steps - 1):", "one step short"
    ),
    Mutant(
        "lk_loss_after_step",
        "learn_kernel",
        "losses.append(float((residual ** 2).mean()))\n"
        "        _, dW, _ = conv2d_backward(2 * residual / residual.numel(), X, W)\n"
        "        W = W - lr * dW",
        "_, dW, _ = conv2d_backward(2 * residual / residual.numel(), X, W)\n"
        "        W = W - lr * dW\n"
        "        losses.append(float(((conv2d(X, W) - Y) ** 2).mean()))",
        "the loss after each step instead of before",
    ),
    Mutant(
        "lk_losses_are_tensors",
        "learn_kernel",
        "losses.append(float((residual ** 2).mean()))",
        "losses.append((residual ** 2).mean())",
        "losses as tensors, not Python floats",
    ),
    Mutant(
        "lk_updates_w0_in_place",
        "learn_kernel",
        "W = W - lr * dW",
        "W0.sub_(lr * dW)\n        W = W0.to(X.dtype)",
        "steps the caller's W0 in place",
    ),
    Mutant(
        "lk_no_shape_check",
        "learn_kernel",
        "if tuple(Y.shape) != out_shape:",
        "if Y.dim() != 4:",
        "a Y of the wrong shape accepted (broadcast)",
    ),
    Mutant(
        "lk_negative_steps_accepted",
        "learn_kernel",
        '    if steps < 0:\n        raise ValueError(f"steps must be 0 or more; got {steps}")\n',
        "",
        "negative steps give no steps instead of an error",
    ),
]
