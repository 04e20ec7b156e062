"""Plausible mistakes in 02_padding_stride's exercises (see autograder.cli.mutation)."""

from autograder.cli.mutation import Mutant

MUTANTS = [
    # conv_output_size
    Mutant(
        "size_no_plus_one",
        "conv_output_size",
        "return (n + 2 * padding - span) // stride + 1",
        "return (n + 2 * padding - span) // stride",
        "forgot the + 1",
    ),
    Mutant(
        "size_ceil",
        "conv_output_size",
        "return (n + 2 * padding - span) // stride + 1",
        "return -(-(n + 2 * padding - span) // stride) + 1",
        "ceil instead of floor",
    ),
    Mutant(
        "size_one_sided_padding",
        "conv_output_size",
        "return (n + 2 * padding - span) // stride + 1",
        "return (n + padding - span) // stride + 1",
        "padding counted once",
    ),
    Mutant(
        "size_ignores_dilation", "conv_output_size", "span = dilation * (k - 1) + 1", "span = k", "dilation ignored"
    ),
    Mutant(
        "size_dilation_times_k",
        "conv_output_size",
        "span = dilation * (k - 1) + 1",
        "span = dilation * k",
        "d * k instead of d * (k - 1) + 1",
    ),
    Mutant(
        "size_float",
        "conv_output_size",
        "return (n + 2 * padding - span) // stride + 1",
        "return (n + 2 * padding - span) / stride + 1",
        "true division: a float, not the floor",
    ),
    Mutant(
        "size_no_fit_check",
        "conv_output_size",
        "if span > n + 2 * padding:",
        "if span > n + 2 * padding + 1:",
        "a kernel one cell too large is not refused",
    ),
    Mutant(
        "size_message_without_numbers",
        "conv_output_size",
        'raise ValueError(f"a kernel spanning {span} cells (k={k}, dilation={dilation}) does not fit "\n'
        '                         f"an input of {n} padded to {n + 2 * padding}")',
        'raise ValueError("the kernel does not fit")',
        "right sizes, a message that names no numbers",
    ),
    Mutant(
        "size_accepts_stride_zero",
        "conv_output_size",
        "if min(n, k, stride, dilation) < 1 or padding < 0:",
        "if min(n, k, dilation) < 1 or padding < 0 or stride < 0:",
        "stride 0 not refused",
    ),
    # pad2d
    Mutant(
        "pad_float32",
        "pad2d",
        "out = X.new_zeros(*X.shape[:-2], H + 2 * ph, W + 2 * pw)",
        "out = torch.zeros(*X.shape[:-2], H + 2 * ph, W + 2 * pw)",
        "result always float32",
    ),
    Mutant(
        "pad_swapped_pair",
        "pad2d",
        'ph, pw = _pair(padding, "padding")',
        'pw, ph = _pair(padding, "padding")',
        "(ph, pw) read as (pw, ph)",
    ),
    Mutant(
        "pad_one_side",
        "pad2d",
        "out[..., ph:ph + H, pw:pw + W] = X",
        "out[..., :H, :W] = X",
        "all padding at the bottom/right",
    ),
    Mutant(
        "pad_ones",
        "pad2d",
        "out = X.new_zeros(*X.shape[:-2], H + 2 * ph, W + 2 * pw)",
        "out = X.new_ones(*X.shape[:-2], H + 2 * ph, W + 2 * pw)",
        "pads with ones",
    ),
    Mutant(
        "pad_last_two_as_first",
        "pad2d",
        "out = X.new_zeros(*X.shape[:-2], H + 2 * ph, W + 2 * pw)\n    out[..., ph:ph + H, pw:pw + W] = X",
        "out = X.new_zeros(*X.shape[:-2], H + 2 * ph, W + 2 * pw)\n"
        "    out[..., ph:ph + H, pw:pw + W] = X if X.dim() == 2 else X[:1]",
        "leading dims collapsed to the first",
    ),
    Mutant("pad_negative_accepted", "pad2d", "if ph < 0 or pw < 0:", "if False:", "negative padding not refused"),
    Mutant(
        "pad_mutates_input",
        "pad2d",
        "H, W = X.shape[-2:]",
        "H, W = X.shape[-2:]\n    X.copy_(X * 1.0000001)",
        "scales the caller's X in place",
    ),
    # conv2d
    Mutant(
        "conv_stride_ignored_in_slice",
        "conv2d",
        "(out_h - 1) * sh + 1:sh, j * dw",
        "(out_h - 1) * sh + 1:sh * 0 + 1, j * dw",
        "rows stepped by 1 instead of the stride",
    ),
    Mutant(
        "conv_dilation_ignored",
        "conv2d",
        "patch = Xp[:, :, i * dh:i * dh + (out_h - 1) * sh + 1:sh, j * dw:j * dw + (out_w - 1) * sw + 1:sw]",
        "patch = Xp[:, :, i:i + (out_h - 1) * sh + 1:sh, j:j + (out_w - 1) * sw + 1:sw]",
        "dilation ignored",
    ),
    Mutant(
        "conv_stride_swapped",
        "conv2d",
        '(sh, sw), (ph, pw), (dh, dw) = _pair(stride, "stride")',
        '(sw, sh), (ph, pw), (dh, dw) = _pair(stride, "stride")',
        "stride pair read as (w, h)",
    ),
    Mutant(
        "conv_padding_swapped",
        "conv2d",
        "Xp = pad2d(X, (ph, pw))",
        "Xp = pad2d(X, (pw, ph))",
        "padding pair swapped when padding",
    ),
    Mutant(
        "conv_no_bias", "conv2d", "        out += b.to(X.dtype).reshape(1, -1, 1, 1)", "        pass", "bias ignored"
    ),
    Mutant(
        "conv_float32",
        "conv2d",
        "out = X.new_zeros(X.shape[0], W.shape[0], out_h, out_w)",
        "out = torch.zeros(X.shape[0], W.shape[0], out_h, out_w)",
        "float32 result",
    ),
    Mutant(
        "conv_flipped",
        "conv2d",
        "W[:, :, i, j].to(X.dtype)",
        "W[:, :, kh - 1 - i, kw - 1 - j].to(X.dtype)",
        "convolution instead of cross-correlation",
    ),
    Mutant(
        "conv_first_channel",
        "conv2d",
        'out += torch.einsum("nchw,oc->nohw", patch, W[:, :, i, j].to(X.dtype))',
        'out += torch.einsum("nchw,oc->nohw", patch[:, :1], W[:, :1, i, j].to(X.dtype))',
        "input channels not summed",
    ),
    Mutant(
        "conv_no_channel_check",
        "conv2d",
        "if X.shape[1] != W.shape[1]:",
        "if X.shape[1] < W.shape[1]:",
        "extra input channels not refused",
    ),
    Mutant(
        "conv_bias_added_early",
        "conv2d",
        "    out = X.new_zeros(X.shape[0], W.shape[0], out_h, out_w)\n",
        "    out = X.new_zeros(X.shape[0], W.shape[0], out_h, out_w)\n"
        "    if b is not None:\n        out += b.to(X.dtype).reshape(1, -1, 1, 1)\n",
        "bias added twice",
    ),
    # receptive_field
    Mutant(
        "rf_sum_of_kernels", "receptive_field", "field += d * (k - 1) * jump", "field += d * (k - 1)", "strides ignored"
    ),
    Mutant(
        "rf_jump_before",
        "receptive_field",
        "        field += d * (k - 1) * jump\n        jump *= s",
        "        jump *= s\n        field += d * (k - 1) * jump",
        "the layer's own stride applied to it",
    ),
    Mutant("rf_start_zero", "receptive_field", "field, jump = 1, 1", "field, jump = 0, 1", "empty stack sees 0"),
    Mutant(
        "rf_k_not_k_minus_one",
        "receptive_field",
        "field += d * (k - 1) * jump",
        "field += d * k * jump - 1",
        "d * k * jump - 1",
    ),
    Mutant(
        "rf_no_check",
        "receptive_field",
        "if k < 1 or s < 1 or d < 1:",
        "if k < 0 or s < 0 or d < 0:",
        "kernel 0 accepted",
    ),
    Mutant(
        "rf_ignores_dilation",
        "receptive_field",
        "field += d * (k - 1) * jump",
        "field += (k - 1) * jump",
        "dilation ignored",
    ),
    Mutant(
        "rf_dilation_span_dk",
        "receptive_field",
        "field += d * (k - 1) * jump",
        "field += (d * k - 1) * jump",
        "a dilated kernel spans d * k cells",
    ),
    Mutant("rf_dilation_as_stride", "receptive_field", "jump *= s", "jump *= s * d", "dilation multiplies the step"),
    Mutant(
        "rf_dilation_zero_accepted",
        "receptive_field",
        "if k < 1 or s < 1 or d < 1:",
        "if k < 1 or s < 1:",
        "dilation 0 accepted",
    ),
    Mutant(
        "rf_any_length_accepted",
        "receptive_field",
        "if len(layer) not in (2, 3):",
        "if len(layer) < 2:",
        "a layer of four numbers read as its first three",
    ),
]
