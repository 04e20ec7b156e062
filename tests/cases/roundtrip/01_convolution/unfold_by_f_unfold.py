# conv2d_unfold through F.unfold (allowed: it only gathers the windows; the sandbox's conv ban leaves im2col alone)
# points: 29
# solved: conv2d convolve2d corr2d
# %% cell conv2d_unfold
def conv2d_unfold(X, W, b=None, stride=1, padding=0):
    if X.dim() != 4 or W.dim() != 4:
        raise ValueError(f"X and W must be 4-D; got {tuple(X.shape)} and {tuple(W.shape)}")
    N, C_in, H, width = X.shape
    C_out, C_w, kh, kw = W.shape
    if C_w != C_in:
        raise ValueError(f"channel mismatch: X has {C_in} channels, W {tuple(W.shape)} expects {C_w}")
    if b is not None and tuple(b.shape) != (C_out,):
        raise ValueError(f"b must have shape ({C_out},); got {tuple(b.shape)}")
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    if min(sh, sw) < 1 or min(ph, pw) < 0:
        raise ValueError(f"stride {stride} must be at least 1 and padding {padding} at least 0")
    if kh > H + 2 * ph or kw > width + 2 * pw:
        raise ValueError(f"kernel {kh}x{kw} is larger than the padded input {H + 2 * ph}x{width + 2 * pw}")
    out_h, out_w = (H + 2 * ph - kh) // sh + 1, (width + 2 * pw - kw) // sw + 1
    cols = F.unfold(X, (kh, kw), padding=(ph, pw), stride=(sh, sw))
    Y = W.reshape(C_out, -1) @ cols
    if b is not None:
        Y = Y + b[:, None]
    return Y.reshape(N, C_out, out_h, out_w)
