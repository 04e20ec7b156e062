"""Plausible mistakes in 03_pooling's exercises (see autograder.cli.mutation)."""

from autograder.cli.mutation import Mutant

MUTANTS = [
    # pool_geometry
    Mutant(
        "geometry_ceil_keeps_last_in_padding",
        "pool_geometry",
        "        if ceil_mode and (out - 1) * s >= n + p:  # the last window would start after the input\n"
        "            out -= 1\n",
        "",
        "ceil without dropping a last window that starts after the input",
    ),
    Mutant(
        "geometry_drop_past_padding",
        "pool_geometry",
        "(out - 1) * s >= n + p:",
        "(out - 1) * s >= n + 2 * p:",
        "drops a window only when it starts past the padding",
    ),
    Mutant(
        "geometry_ceil_ignored",
        "pool_geometry",
        "(n + 2 * p - k + (s - 1 if ceil_mode else 0)) // s + 1",
        "(n + 2 * p - k) // s + 1",
        "floor always",
    ),
    Mutant(
        "geometry_ceil_adds_one",
        "pool_geometry",
        "(n + 2 * p - k + (s - 1 if ceil_mode else 0)) // s + 1",
        "(n + 2 * p - k) // s + 1 + (1 if ceil_mode else 0)",
        "ceil as floor + 1, even where the division is exact",
    ),
    Mutant(
        "geometry_stride_one",
        "pool_geometry",
        'cu.pair(kernel_size if stride is None else stride, "stride")',
        'cu.pair(1 if stride is None else stride, "stride")',
        "stride defaults to 1, not the kernel size",
    ),
    Mutant(
        "geometry_swapped_sizes",
        "pool_geometry",
        "return (kh, kw), (sh, sw), (ph, pw), tuple(sizes)",
        "return (kh, kw), (sh, sw), (ph, pw), tuple(sizes[::-1])",
        "(out_w, out_h)",
    ),
    Mutant(
        "geometry_padding_up_to_kernel_accepted",
        "pool_geometry",
        "ph > kh // 2 or pw > kw // 2",
        "ph > kh or pw > kw",
        "padding up to the whole kernel accepted",
    ),
    Mutant("geometry_no_fit_check", "pool_geometry", "if out < 1:", "if out < 0:", "an output of size 0 accepted"),
    Mutant("geometry_no_dim_check", "pool_geometry", "if X.dim() != 4:", "if X.dim() < 2:", "2-D input not refused"),
    Mutant(
        "geometry_kernel_zero_accepted",
        "pool_geometry",
        "if min(kh, kw) < 1 or min(sh, sw) < 1:",
        "if min(sh, sw) < 1:",
        "kernel 0 accepted when a stride is given",
    ),
    # max_pool2d
    Mutant(
        "max_zero_padding",
        "max_pool2d",
        'X.new_full((N, C, H + 2 * ph, W + 2 * pw), float("-inf"))',
        "X.new_zeros((N, C, H + 2 * ph, W + 2 * pw))",
        "pads with 0 instead of -inf",
    ),
    Mutant(
        "max_stride_one",
        "max_pool2d",
        "pool_geometry(X, kernel_size, stride, padding)",
        "pool_geometry(X, kernel_size, 1 if stride is None else stride, padding)",
        "stride defaults to 1, not the kernel size",
    ),
    Mutant("max_min", "max_pool2d", ".amax(dim=(-2, -1))", ".amin(dim=(-2, -1))", "minimum"),
    Mutant(
        "max_swapped_kernel",
        "max_pool2d",
        "Xp.unfold(2, kh, sh).unfold(3, kw, sw)",
        "Xp.unfold(2, kw, sh).unfold(3, kh, sw)",
        "kernel pair read as (w, h)",
    ),
    Mutant(
        "max_swapped_stride",
        "max_pool2d",
        "Xp.unfold(2, kh, sh).unfold(3, kw, sw)",
        "Xp.unfold(2, kh, sw).unfold(3, kw, sh)",
        "stride pair read as (w, h)",
    ),
    Mutant(
        "max_one_sided_padding",
        "max_pool2d",
        "Xp[:, :, ph:ph + H, pw:pw + W] = X",
        "Xp[:, :, :H, :W] = X",
        "the padding all at the bottom/right",
    ),
    Mutant(
        "max_float32",
        "max_pool2d",
        'X.new_full((N, C, H + 2 * ph, W + 2 * pw), float("-inf"))',
        'torch.full((N, C, H + 2 * ph, W + 2 * pw), float("-inf"))',
        "float32 result",
    ),
    Mutant(
        "max_mutates_input",
        "max_pool2d",
        "N, C, H, W = X.shape",
        "N, C, H, W = X.shape\n    X.mul_(1.0000001)",
        "scales the caller's X in place",
    ),
    Mutant(
        "max_first_channel",
        "max_pool2d",
        "Xp[:, :, ph:ph + H, pw:pw + W] = X",
        "Xp[:, :, ph:ph + H, pw:pw + W] = X[:, :1]",
        "every channel gets channel 0",
    ),
    # avg_pool2d
    Mutant(
        "avg_count_include_pad_inverted",
        "avg_pool2d",
        "if count_include_pad:",
        "if not count_include_pad:",
        "count_include_pad inverted",
    ),
    Mutant(
        "avg_always_k_squared",
        "avg_pool2d",
        "return window_sums(Xp) / window_sums(counted)",
        "return window_sums(Xp) / (kh * kw)",
        "divides by kh * kw even for clipped ceil windows",
    ),
    Mutant(
        "avg_ignores_ceil",
        "avg_pool2d",
        "pool_geometry(X, kernel_size, stride, padding, ceil_mode)",
        "pool_geometry(X, kernel_size, stride, padding)",
        "ceil_mode ignored (floor always)",
    ),
    Mutant(
        "avg_ceil_keeps_last_in_padding",
        "avg_pool2d",
        "(out_h, out_w) = pool_geometry(X, kernel_size, stride, padding, ceil_mode)",
        "(out_h, out_w) = pool_geometry(X, kernel_size, stride, padding, False)\n"
        "    if ceil_mode:\n"
        "        H0, W0 = X.shape[-2:]\n"
        "        kh0, kw0 = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size\n"
        "        sh0, sw0 = (kh0, kw0) if stride is None else ((stride, stride) if isinstance(stride, int) else stride)\n"
        "        ph0, pw0 = (padding, padding) if isinstance(padding, int) else padding\n"
        "        out_h, out_w = -(-(H0 + 2 * ph0 - kh0) // sh0) + 1, -(-(W0 + 2 * pw0 - kw0) // sw0) + 1",
        "ceil without dropping a last window that starts in the padding",
    ),
    Mutant(
        "avg_stride_one",
        "avg_pool2d",
        "pool_geometry(X, kernel_size, stride, padding, ceil_mode)",
        "pool_geometry(X, kernel_size, 1 if stride is None else stride, padding, ceil_mode)",
        "stride defaults to 1",
    ),
    Mutant(
        "avg_neg_inf_padding",
        "avg_pool2d",
        "Xp = X.new_zeros(N, C, rows, cols)",
        "Xp = X.new_full((N, C, rows, cols), -1.0)",
        "padding is not zero",
    ),
    Mutant(
        "avg_float32",
        "avg_pool2d",
        "return window_sums(Xp) / window_sums(counted)",
        "return (window_sums(Xp) / window_sums(counted)).float()",
        "float32 result",
    ),
    Mutant(
        "avg_mutates_input",
        "avg_pool2d",
        "N, C, H, W = X.shape",
        "N, C, H, W = X.shape\n    X.mul_(1.0000001)",
        "scales the caller's X in place",
    ),
    Mutant(
        "avg_sum_not_mean",
        "avg_pool2d",
        "return window_sums(Xp) / window_sums(counted)",
        "return window_sums(Xp)",
        "window sums, not means",
    ),
    # global_avg_pool2d
    Mutant(
        "gap_height_only",
        "global_avg_pool2d",
        "return X.mean(dim=3, keepdim=True).mean(dim=2, keepdim=True)",
        "return X.mean(dim=2, keepdim=True)[..., :1]",
        "mean over the height only",
    ),
    Mutant(
        "gap_no_keepdim",
        "global_avg_pool2d",
        "return X.mean(dim=3, keepdim=True).mean(dim=2, keepdim=True)",
        "return X.mean(dim=(2, 3))",
        "(N, C) instead of (N, C, 1, 1)",
    ),
    Mutant(
        "gap_over_channels",
        "global_avg_pool2d",
        "return X.mean(dim=3, keepdim=True).mean(dim=2, keepdim=True)",
        "return X.mean(dim=(1, 2, 3), keepdim=True).expand(-1, X.shape[1], 1, 1)",
        "mean over channels too",
    ),
    Mutant(
        "gap_max",
        "global_avg_pool2d",
        "return X.mean(dim=3, keepdim=True).mean(dim=2, keepdim=True)",
        "return X.amax(dim=(2, 3), keepdim=True)",
        "global max instead of mean",
    ),
    Mutant(
        "gap_float32",
        "global_avg_pool2d",
        "return X.mean(dim=3, keepdim=True).mean(dim=2, keepdim=True)",
        "return X.float().mean(dim=3, keepdim=True).mean(dim=2, keepdim=True)",
        "float32 result",
    ),
    Mutant("gap_no_check", "global_avg_pool2d", "if X.dim() != 4:", "if X.dim() < 3:", "3-D input not refused"),
]
