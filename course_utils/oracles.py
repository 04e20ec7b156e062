"""PyTorch's answer for every exercise: the oracle the graded tests and the widgets compare with.

Each function here calls PyTorch's own op (``F.conv2d``, ...), which is exactly what students may
not call inside their exercises (the graded tests enforce that), so nothing here is a hand-written
solution. Shapes follow the course conventions: images NCHW, weights (C_out, C_in, kh, kw).
"""

from __future__ import annotations

import warnings

import torch
import torch.nn.functional as F

from course_utils.shapes import pair

MODES = ("valid", "same", "full")


def mode_padding(mode: str, kernel_shape: tuple[int, int]) -> tuple[int, int, int, int]:
    """Zero padding (top, bottom, left, right) that `mode` puts around an input for a (kh, kw) kernel.

    PyTorch's rule for ``padding="same"``: the total padding along an axis is k - 1, and the
    smaller half, (k - 1) // 2, goes first (top/left). "full" puts k - 1 on every side.
    """
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; use one of {', '.join(MODES)}")
    pads = []
    for k in kernel_shape:
        total = {"valid": 0, "same": k - 1, "full": 2 * (k - 1)}[mode]
        pads.append((total // 2, total - total // 2))
    (top, bottom), (left, right) = pads
    return (top, bottom, left, right)


def corr2d(X: torch.Tensor, K: torch.Tensor, mode: str = "valid") -> torch.Tensor:
    """Cross-correlation of X (H, W) with K (kh, kw) in `mode`, by ``F.conv2d`` and its own padding."""
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; use one of {', '.join(MODES)}")
    kh, kw = K.shape
    padding = {"valid": 0, "same": "same", "full": (kh - 1, kw - 1)}[mode]
    with warnings.catch_warnings():  # torch warns that even kernels need a padded copy; nbgrader fails stderr
        warnings.filterwarnings("ignore", message="Using padding='same' with even kernel lengths")
        return F.conv2d(X[None, None], K[None, None].to(X.dtype), padding=padding)[0, 0]


def convolve2d(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """True convolution of X (H, W) with K (kh, kw), valid mode: ``F.conv2d`` with the kernel rotated 180°."""
    return F.conv2d(X[None, None], K.flip(0).flip(1)[None, None].to(X.dtype))[0, 0]


def conv2d(
    X: torch.Tensor, W: torch.Tensor, b: torch.Tensor | None = None, stride=1, padding=0, dilation=1
) -> torch.Tensor:
    """``F.conv2d``: X (N, C_in, H, W), W (C_out, C_in, kh, kw), b (C_out,) -> (N, C_out, H', W')."""
    return F.conv2d(X, W, b, stride=stride, padding=padding, dilation=dilation)


# --- 04_losses -----------------------------------------------------------------------------------


def sigmoid(z: torch.Tensor) -> torch.Tensor:
    """``torch.sigmoid``."""
    return torch.sigmoid(z)


def softmax(z: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """``F.softmax`` along `dim`."""
    return F.softmax(z, dim=dim)


def binary_cross_entropy(p: torch.Tensor, y: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    """``F.binary_cross_entropy`` (its log is clamped at -100)."""
    return F.binary_cross_entropy(p, y, reduction=reduction)


def cross_entropy(logits: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    """``F.cross_entropy`` of logits (N, C) with class indices (N,)."""
    return F.cross_entropy(logits, target, reduction=reduction)


# --- 03_pooling ----------------------------------------------------------------------------------


def max_pool2d(X: torch.Tensor, kernel_size, stride=None, padding=0) -> torch.Tensor:
    """``F.max_pool2d`` (padding counts as -inf)."""
    return F.max_pool2d(X, kernel_size, stride=stride, padding=padding)


def avg_pool2d(
    X: torch.Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False, count_include_pad: bool = True
) -> torch.Tensor:
    """``F.avg_pool2d``."""
    return F.avg_pool2d(
        X, kernel_size, stride=stride, padding=padding, ceil_mode=ceil_mode, count_include_pad=count_include_pad
    )


def global_avg_pool2d(X: torch.Tensor) -> torch.Tensor:
    """``F.adaptive_avg_pool2d(X, 1)``: (N, C, H, W) -> (N, C, 1, 1)."""
    return F.adaptive_avg_pool2d(X, 1)


def pool_geometry(X: torch.Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False):
    """PyTorch's pooling geometry for X (N, C, H, W): ((kh, kw), (sh, sw), (ph, pw), (out_h, out_w)).

    The pairs by ``cu.pair``; the output size is the shape ``F.max_pool2d`` returns for zeros of X's size
    (with ``ceil_mode``, its rule drops a last window that would start after the input). Raises ValueError
    naming the arguments for a non-4-D X and wherever PyTorch refuses them (a kernel or stride below 1,
    padding negative or over half the kernel, a window larger than the padded input).
    """
    if X.ndim != 4:
        raise ValueError(f"pooling takes X of shape (N, C, H, W); got shape {tuple(X.shape)}")
    kh, kw = pair(kernel_size, "kernel_size")
    sh, sw = pair(kernel_size if stride is None else stride, "stride")
    ph, pw = pair(padding, "padding")
    H, W = X.shape[-2:]
    zeros = torch.zeros(1, 1, H, W, dtype=torch.float64)
    try:
        if min(kh, kw, sh, sw) < 1:  # PyTorch reads a stride of 0 as "the kernel size"; refuse it as it refuses k=0
            raise RuntimeError("kernel size and stride must be greater than zero")
        out = F.max_pool2d(zeros, (kh, kw), (sh, sw), (ph, pw), ceil_mode=ceil_mode).shape[-2:]
    except RuntimeError as exc:
        raise ValueError(
            f"PyTorch refuses kernel_size={kernel_size!r}, stride={stride!r}, padding={padding!r} "
            f"for a {H}x{W} input: {str(exc).splitlines()[0]}"
        ) from None
    return (kh, kw), (sh, sw), (ph, pw), (int(out[0]), int(out[1]))


#: 03's max_pool2d and avg_pool2d call the student's pool_geometry; their tests give them this one instead,
#: so a mistake in pool_geometry costs points in its own exercise only.
POOL_HELPERS = {"pool_geometry": pool_geometry}


# --- 02_padding_stride ---------------------------------------------------------------------------


def conv_output_size(n: int, k: int, padding: int = 0, stride: int = 1, dilation: int = 1) -> int:
    """The size ``F.conv2d`` actually returns along one axis, for input size n and kernel size k.

    Runs F.conv2d on an (n, 1) input of zeros and reads the shape. Raises ValueError naming the
    numbers where PyTorch refuses (a dilated kernel larger than the padded input, a stride below 1 ...),
    as the exercise does.
    """
    try:
        X = torch.zeros(1, 1, n, 1, dtype=torch.float64)  # float64: no oneDNN set-up for a one-off shape
        W = torch.zeros(1, 1, k, 1, dtype=torch.float64)
        return F.conv2d(X, W, stride=(stride, 1), padding=(padding, 0), dilation=(dilation, 1)).shape[2]
    except RuntimeError as exc:
        raise ValueError(
            f"PyTorch refuses n={n}, k={k}, padding={padding}, stride={stride}, dilation={dilation}: {exc}"
        ) from None


def pad2d(X: torch.Tensor, padding) -> torch.Tensor:
    """``F.pad`` with zeros: padding = p or (ph, pw) rows above and below, columns left and right.

    F.pad lists the last dimension first, (left, right, top, bottom); X (..., H, W) -> (..., H + 2ph, W + 2pw).
    """
    ph, pw = pair(padding, "padding")
    return F.pad(X, (pw, pw, ph, ph))


def stack_paths(layers: list[tuple[int, ...]], size: int, unit: tuple[int, int]) -> list[torch.Tensor]:
    """For a stack of layers, how many paths lead from each unit of each map to one `unit` of the last map.

    The stack is ``F.conv2d`` with an all-ones (k, k) kernel, stride s and dilation d for each (k, s) or
    (k, s, d) in `layers`, no padding, on a (size, size) input. Autograd differentiates the chosen unit of
    the last map by every map; with every weight 1 that derivative counts the paths, so a unit the chosen one does not
    depend on gets 0. Returns [input (size, size), map 1, ..., map L] in float64; the last is one-hot.
    Raises RuntimeError (PyTorch's) when a kernel is larger than the map it slides over.
    """
    maps = [torch.ones(1, 1, size, size, dtype=torch.float64, requires_grad=True)]
    with torch.enable_grad():
        for k, s, d in ((*layer, 1)[:3] for layer in layers):
            nxt = F.conv2d(maps[-1], torch.ones(1, 1, k, k, dtype=torch.float64), stride=s, dilation=d)
            nxt.retain_grad()
            maps.append(nxt)
        maps[-1][0, 0, unit[0], unit[1]].backward()
    return [m.grad[0, 0].detach() for m in maps]


def receptive_field(layers: list[tuple[int, ...]]) -> int:
    """Side of the input region one unit of the last layer sees, by brute force (no formula).

    Doubles a square input until the stack of `layers` (see ``stack_paths``) has an output, then
    counts the input rows the first output unit depends on, from the first to the last.
    """
    size = 1
    while True:
        try:
            paths = stack_paths(layers, size, (0, 0))
            break
        except RuntimeError:  # PyTorch: a kernel is larger than its input; try a larger input
            size *= 2
    rows = paths[0].sum(dim=1).nonzero()
    return int(rows.max() - rows.min()) + 1


# --- 05_backprop ---------------------------------------------------------------------------------


def conv2d_backward(
    dY: torch.Tensor, X: torch.Tensor, W: torch.Tensor, stride=1, padding=0
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Autograd of ``F.conv2d(X, W, b, stride, padding)`` with upstream gradient dY: (dX, dW, db).

    dY (N, C_out, out_h, out_w), X (N, C_in, H, W), W (C_out, C_in, kh, kw); returns dX like X,
    dW like W and db (C_out,), in X's dtype. The bias is zero: its value never changes a gradient.
    """
    X, W = X.detach().requires_grad_(), W.detach().to(X.dtype).requires_grad_()
    b = torch.zeros(W.shape[0], dtype=X.dtype, requires_grad=True)
    with torch.enable_grad():
        Y = F.conv2d(X, W, b, stride=stride, padding=padding)
        dX, dW, db = torch.autograd.grad(Y, (X, W, b), dY.to(X.dtype))
    return dX, dW, db


def max_pool2d_backward(dY: torch.Tensor, X: torch.Tensor, kernel_size, stride=None) -> torch.Tensor:
    """Autograd of ``F.max_pool2d(X, kernel_size, stride)`` with upstream gradient dY -> dX like X.

    Each window sends its dY to the first maximum of the window in row-major order (what torch's kernels
    do on ties, not a documented guarantee); a cell that wins several overlapping windows collects the sum
    of their dY.
    """
    X = X.detach().requires_grad_()
    with torch.enable_grad():
        (dX,) = torch.autograd.grad(F.max_pool2d(X, kernel_size, stride), X, dY.to(X.dtype))
    return dX


def avg_pool2d_backward(dY: torch.Tensor, X: torch.Tensor, kernel_size, stride=None) -> torch.Tensor:
    """Autograd of ``F.avg_pool2d(X, kernel_size, stride)`` with upstream gradient dY -> dX like X."""
    X = X.detach().requires_grad_()
    with torch.enable_grad():
        (dX,) = torch.autograd.grad(F.avg_pool2d(X, kernel_size, stride), X, dY.to(X.dtype))
    return dX


#: 02's conv2d calls the student's pad2d and conv_output_size; its tests give it these instead
#: (``cu.checks.call_guarded(..., helpers=CONV2D_HELPERS)``), so a mistake in a helper costs points there only.
CONV2D_HELPERS = {"pad2d": pad2d, "conv_output_size": conv_output_size}


def learn_kernel(
    X: torch.Tensor, Y: torch.Tensor, W0: torch.Tensor, lr: float = 0.1, steps: int = 100
) -> tuple[torch.Tensor, list[float]]:
    """Plain gradient descent on ``mean((F.conv2d(X, W) - Y)**2)`` from W0, with autograd and ``torch.optim.SGD``.

    X (N, C_in, H, W), Y (N, C_out, H - kh + 1, W - kw + 1), W0 (C_out, C_in, kh, kw); no bias. Returns
    the weights after `steps` steps (a new tensor in X's dtype; W0 untouched) and the loss before each step.
    """
    W = W0.detach().to(X.dtype).clone().requires_grad_()
    optimizer = torch.optim.SGD([W], lr=lr)
    losses = []
    with torch.enable_grad():
        for _ in range(steps):
            loss = ((F.conv2d(X, W) - Y.to(X.dtype)) ** 2).mean()
            losses.append(float(loss.detach()))
            (W.grad,) = torch.autograd.grad(loss, [W])
            optimizer.step()
    return W.detach(), losses


# --- 06_lenet ------------------------------------------------------------------------------------


def optimizer_steps(name: str, w0: torch.Tensor, grads: list[torch.Tensor], lr: float, **options) -> list[torch.Tensor]:
    """The weights after each step of ``torch.optim``'s `name` ("momentum": SGD with momentum, or "Adam")
    from w0, fed the gradients `grads` in turn (one per step, each shaped like w0). Returns one tensor per step.
    """
    w = w0.detach().clone().requires_grad_()
    if name == "momentum":
        optimizer = torch.optim.SGD([w], lr=lr, momentum=options.get("momentum", 0.9))
    elif name == "Adam":
        optimizer = torch.optim.Adam([w], lr=lr, betas=options.get("betas", (0.9, 0.999)), eps=options.get("eps", 1e-8))
    else:
        raise ValueError(f"unknown optimizer {name!r}; use 'momentum' or 'Adam'")
    trajectory = []
    for g in grads:
        w.grad = g.detach().to(w.dtype).clone()
        optimizer.step()
        trajectory.append(w.detach().clone())
    return trajectory


def batch_norm2d(
    X: torch.Tensor,
    gamma: torch.Tensor,
    beta: torch.Tensor,
    running_mean: torch.Tensor,
    running_var: torch.Tensor,
    training: bool,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``F.batch_norm`` of X (N, C, H, W) with gamma, beta and the running statistics (C,), run on copies of
    running_mean and running_var: (the output like X, the running mean, the running variance) after the call.
    The arguments are left as they were; in training mode the copies are what the call must leave in the
    caller's tensors, in eval mode they are unchanged."""
    mean, var = running_mean.detach().clone(), running_var.detach().clone()
    out = F.batch_norm(
        X.detach(), mean, var, gamma.detach(), beta.detach(), training=training, momentum=momentum, eps=eps
    )
    return out, mean, var
