"""Simulated classes for the nbgrader round trip: per assignment, each student's edits and exact score.

A student is a dict {grade_id of a solution cell: how that cell is submitted}: SOLVED is the source
notebook's solution with nbgrader's markers removed; a string is the cell's whole new source.
Cells not named are submitted as released (the stub). Later topics add their assignment here.
"""

from __future__ import annotations

from autograder.simulate import SOLVED

_ALL_01 = {"corr2d": SOLVED, "convolve2d": SOLVED, "conv2d": SOLVED}

CASES: dict[str, dict[str, tuple[dict, float]]] = {
    "01_convolution": {
        "solved": (_ALL_01, 22),
        "blank": ({}, 0),
        # forgot the flip: convolve2d's two test cells (1 + 2 points) fail
        "wrong_convolve2d": ({**_ALL_01, "convolve2d": (
            "def convolve2d(X, K):\n"
            "    return corr2d(X, K, 'valid')\n")}, 19),
        # torch's conv through an alias captured at the top of the cell: all of conv2d's 10 points lost
        "cheater": ({**_ALL_01, "conv2d": (
            "from torch.nn.functional import conv2d as _torch_conv\n\n"
            "def conv2d(X, W, b=None):\n"
            "    return _torch_conv(X, W, b)\n")}, 12),
        # corr2d's cell does not parse: corr2d scores 0; convolve2d's tests give it PyTorch's corr2d (3), conv2d 10
        "syntax_error": ({**_ALL_01, "corr2d": (
            "def corr2d(X, K, mode='valid')\n"
            "    return X\n")}, 13),
        # conv2d's cell never finishes: the cell times out, the rest of the notebook is still graded
        "infinite_loop": ({**_ALL_01, "conv2d": (
            "while True:\n"
            "    pass\n")}, 12),
    },
}

_ALL_04 = {"sigmoid": SOLVED, "softmax": SOLVED, "binary_cross_entropy": SOLVED, "cross_entropy": SOLVED}

CASES["04_losses"] = {
    "solved": (_ALL_04, 16),
    "blank": ({}, 0),
    # softmax without subtracting the max: right on small logits, nan at 1000 (loses the 2 hidden points)
    "naive_softmax": ({**_ALL_04, "softmax": (
        "def softmax(z, dim=-1):\n"
        "    e = torch.exp(z)\n"
        "    return e / e.sum(dim=dim, keepdim=True)\n")}, 14),
    # PyTorch's loss through an alias captured at the top of the cell: all 5 points of cross_entropy lost
    "cheater": ({**_ALL_04, "cross_entropy": (
        "from torch.nn.functional import cross_entropy as _torch_ce\n\n"
        "def cross_entropy(logits, target, reduction='mean'):\n"
        "    return _torch_ce(logits, target, reduction=reduction)\n")}, 11),
    # no clamp at -100: p = 0 gives inf (hidden BCE test, 2 points)
    "no_clamp": ({**_ALL_04, "binary_cross_entropy": (
        "def binary_cross_entropy(p, y, reduction='mean'):\n"
        "    if p.shape != y.shape:\n"
        "        raise ValueError(f'p has shape {tuple(p.shape)} but y has shape {tuple(y.shape)}')\n"
        "    if reduction not in ('mean', 'sum', 'none'):\n"
        "        raise ValueError(f'unknown reduction {reduction!r}')\n"
        "    losses = -(y * torch.log(p) + (1 - y) * torch.log(1 - p))\n"
        "    return {'mean': losses.mean(), 'sum': losses.sum(), 'none': losses}[reduction]\n")}, 14),
}

_ALL_03 = {"max_pool2d": SOLVED, "avg_pool2d": SOLVED, "global_avg_pool2d": SOLVED}

CASES["03_pooling"] = {
    "solved": (_ALL_03, 16),
    "blank": ({}, 0),
    # pads with zeros and starts the max from 0: right on the seed examples, wrong on negative inputs (3 hidden
    # points); its _pool_geometry checks nothing, so both error tests fail too (1 + 1; avg_pool2d calls this
    # _pool_geometry, the student's own choice): 16 - 5 = 11
    "max_from_zero": ({**_ALL_03, "max_pool2d": (
        "def _pair(value, name):\n"
        "    return (value, value) if isinstance(value, int) else tuple(value)\n\n"
        "def _pool_geometry(X, kernel_size, stride, padding, ceil_mode=False):\n"
        "    kh, kw = _pair(kernel_size, 'k')\n"
        "    sh, sw = _pair(kernel_size if stride is None else stride, 's')\n"
        "    ph, pw = _pair(padding, 'p')\n"
        "    H, W = X.shape[-2:]\n"
        "    sizes = []\n"
        "    for n, k, s, p in ((H, kh, sh, ph), (W, kw, sw, pw)):\n"
        "        out = (n + 2 * p - k + (s - 1 if ceil_mode else 0)) // s + 1\n"
        "        if ceil_mode and (out - 1) * s >= n + p:\n"
        "            out -= 1\n"
        "        sizes.append(out)\n"
        "    return (kh, kw), (sh, sw), (ph, pw), tuple(sizes)\n\n"
        "def max_pool2d(X, kernel_size, stride=None, padding=0):\n"
        "    (kh, kw), (sh, sw), (ph, pw), _ = _pool_geometry(X, kernel_size, stride, padding)\n"
        "    N, C, H, W = X.shape\n"
        "    Xp = X.new_zeros(N, C, H + 2 * ph, W + 2 * pw)\n"
        "    Xp[:, :, ph:ph + H, pw:pw + W] = X\n"
        "    return Xp.unfold(2, kh, sh).unfold(3, kw, sw).amax(dim=(-2, -1)).clamp(min=0)\n")}, 11),
    # PyTorch's pooling through an alias captured at the top of the cell: the 7 points of avg_pool2d lost
    "cheater": ({**_ALL_03, "avg_pool2d": (
        "from torch.nn.functional import avg_pool2d as _torch_avg\n\n"
        "def avg_pool2d(X, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):\n"
        "    return _torch_avg(X, kernel_size, stride, padding, ceil_mode, count_include_pad)\n")}, 9),
}

_ALL_02 = {"conv_output_size": SOLVED, "pad2d": SOLVED, "conv2d": SOLVED, "receptive_field": SOLVED}

CASES["02_padding_stride"] = {
    "solved": (_ALL_02, 20),
    "blank": ({}, 0),
    # ignores dilation and checks nothing: conv_output_size's visible (1), hidden (2) and error (1) tests fail;
    # conv2d's tests give it PyTorch's conv_output_size, so conv2d keeps its points: 20 - 4 = 16
    "forgot_dilation": ({**_ALL_02, "conv_output_size": (
        "def conv_output_size(n, k, padding=0, stride=1, dilation=1):\n"
        "    return (n + 2 * padding - k) // stride + 1\n")}, 16),
    # torch's padding through an alias captured at the top of the cell: pad2d's 4 points; conv2d's tests give it
    # PyTorch's pad2d, so conv2d keeps its points: 20 - 4 = 16
    "cheater": ({**_ALL_02, "pad2d": (
        "from torch.nn.functional import pad as _torch_pad\n\n"
        "def _pair(value, name):\n"
        "    return (value, value) if isinstance(value, int) else tuple(value)\n\n"
        "def pad2d(X, padding):\n"
        "    ph, pw = _pair(padding, 'padding')\n"
        "    return _torch_pad(X, (pw, pw, ph, ph))\n")}, 16),
    # forgets that strides multiply the step between units: right for stride-1 stacks, 9 instead of 12 for
    # seed 003's LeNet (1 visible point) and wrong on the strided hidden stacks (2): 20 - 3 = 17
    "no_jump": ({**_ALL_02, "receptive_field": (
        "def receptive_field(layers):\n"
        "    field = 1\n"
        "    for k, s in layers:\n"
        "        if k < 1 or s < 1:\n"
        "            raise ValueError(f'kernel {k}, stride {s}')\n"
        "        field += k - 1\n"
        "    return field\n")}, 17),
}

_ALL_05 = {"conv2d_backward": SOLVED, "max_pool2d_backward": SOLVED, "avg_pool2d_backward": SOLVED,
           "learn_kernel": SOLVED}

_LEARN_05 = (
    "def conv2d(X, W, b=None):\n"
    "    if X.shape[1] != W.shape[1]:\n"
    "        raise ValueError(f'channels: X {tuple(X.shape)}, W {tuple(W.shape)}')\n"
    "    kh, kw = W.shape[-2:]\n"
    "    windows = X.unfold(2, kh, 1).unfold(3, kw, 1)\n"
    "    return torch.einsum('nchwij,ocij->nohw', windows, W.to(X.dtype))\n\n"
    "def learn_kernel(X, Y, W0, lr=0.1, steps=300):\n"
    "    if steps < 0:\n"
    "        raise ValueError(f'steps = {steps}')\n"
    "    W = W0.clone().to(X.dtype)\n"
    "    if tuple(conv2d(X, W).shape) != tuple(Y.shape):\n"
    "        raise ValueError(f'Y {tuple(Y.shape)} for X {tuple(X.shape)}, W0 {tuple(W0.shape)}')\n"
    "    losses = []\n"
    "    for _ in range(steps):\n"
    "        residual = conv2d(X, W) - Y\n"
    "        losses.append((residual ** 2).mean().item())\n"
    "        W = W - lr * conv2d_backward(2 * residual / residual.numel(), X, W)[1]\n"
    "    return W, losses\n")

CASES["05_backprop"] = {
    "solved": (_ALL_05, 21),
    "blank": ({}, 0),
    # assigns instead of accumulating: right while windows don't overlap (the visible seed 002 test), wrong on
    # the hidden overlapping windows (3 points): 21 - 3 = 18
    "overwrite": ({**_ALL_05, "max_pool2d_backward": (
        "def max_pool2d_backward(dY, X, kernel_size, stride=None):\n"
        "    kh, kw = _pair(kernel_size, 'kernel_size')\n"
        "    sh, sw = _pair(kernel_size if stride is None else stride, 'stride')\n"
        "    windows = X.unfold(2, kh, sh).unfold(3, kw, sw)\n"
        "    N, C, out_h, out_w = windows.shape[:4]\n"
        "    best = windows.reshape(N, C, out_h, out_w, kh * kw).argmax(dim=-1)\n"
        "    rows = torch.arange(out_h).reshape(1, 1, out_h, 1) * sh + best // kw\n"
        "    cols = torch.arange(out_w).reshape(1, 1, 1, out_w) * sw + best % kw\n"
        "    n = torch.arange(N).reshape(N, 1, 1, 1).expand_as(best)\n"
        "    c = torch.arange(C).reshape(1, C, 1, 1).expand_as(best)\n"
        "    dX = torch.zeros_like(X)\n"
        "    dX[n, c, rows, cols] = dY.to(X.dtype)\n"
        "    return dX\n")}, 18),
    # lets autograd do the work: every guarded conv2d_backward test fails (2 + 1 + 4), and the error test too
    # (autograd rejects a dY of the wrong shape with a RuntimeError, not a ValueError): 15 - 8 = 7; learn_kernel,
    # which calls it, fails its two graded runs (2 + 3) and keeps its error test (1): 7 + 1 = 8
    "autograd_cheater": ({**_ALL_05, "conv2d_backward": (
        "def _pair(value, name):\n"
        "    return (value, value) if isinstance(value, int) else tuple(value)\n\n"
        "def conv2d_backward(dY, X, W, stride=1, padding=0):\n"
        "    X = X.detach().requires_grad_()\n"
        "    W = W.detach().requires_grad_()\n"
        "    b = torch.zeros(W.shape[0], dtype=X.dtype, requires_grad=True)\n"
        "    with torch.enable_grad():\n"
        "        Y = F.conv2d(X, W, b, stride=stride, padding=padding)\n"
        "        return torch.autograd.grad(Y, (X, W, b), dY)\n")}, 8),
    # forgets to divide by the window's size: both avg_pool2d_backward tests fail (1 + 2): 21 - 3 = 18
    "avg_no_divide": ({**_ALL_05, "avg_pool2d_backward": (
        "def avg_pool2d_backward(dY, X, kernel_size, stride=None):\n"
        "    kh, kw = _pair(kernel_size, 'kernel_size')\n"
        "    sh, sw = _pair(kernel_size if stride is None else stride, 'stride')\n"
        "    out_h, out_w = dY.shape[-2:]\n"
        "    dX = torch.zeros_like(X)\n"
        "    for i in range(kh):\n"
        "        for j in range(kw):\n"
        "            dX[:, :, i:i + (out_h - 1) * sh + 1:sh, j:j + (out_w - 1) * sw + 1:sw] += dY\n"
        "    return dX\n")}, 18),
    # the mean squared error's gradient without the 1/M: steps M times too large, the descent blows up; both
    # graded runs of learn_kernel fail (2 + 3), its error test passes (1): 21 - 5 = 16
    "no_mean": ({**_ALL_05, "learn_kernel": _LEARN_05.replace("2 * residual / residual.numel()", "2 * residual")}, 16),
}

_ALL_06 = {"build_lenet": SOLVED, "evaluate_accuracy": SOLVED, "optimizer_steps": SOLVED}
# (06 trains a network in every graded run, so its class is kept small: solved, blank, two realistic bugs.)

_EVALUATE_06 = (
    "def evaluate_accuracy(net, loader):\n"
    "    net.eval()\n"
    "    correct = total = 0\n"
    "    with torch.no_grad():\n"
    "        for X, y in loader:\n"
    "            correct += int((net(X).argmax(dim=1) == y).sum())\n"
    "            total += len(y)\n"
    "    return correct / total\n\n")
_TRAIN_06 = (
    "def train_epoch(net, loader, loss_fn, optimizer):\n"
    "    net.train()\n"
    "    losses, correct, total = [], 0, 0\n"
    "    for X, y in loader:\n"
    "        scores = net(X)\n"
    "        loss = loss_fn(scores, y)\n"
    "        optimizer.zero_grad()\n"
    "        loss.backward()\n"
    "        optimizer.step()\n"
    "        losses.append(loss.item() * len(y))\n"
    "        correct += int((scores.argmax(dim=1) == y).sum())\n"
    "        total += len(y)\n"
    "    return sum(losses) / total, correct / total\n")

CASES["06_lenet"] = {
    "solved": (_ALL_06, 16),
    "blank": ({}, 0),
    # averages the batches' mean losses (a short last batch counts as much as a full one): the hidden
    # reference comparison fails (2 points); everything visible passes: 14
    "batch_mean": ({**_ALL_06, "evaluate_accuracy": _EVALUATE_06 + _TRAIN_06.replace(
        "losses.append(loss.item() * len(y))", "losses.append(loss.item())").replace(
        "sum(losses) / total", "sum(losses) / len(losses)")}, 14),
    # second conv of the ReLU LeNet is 5x5 instead of 3x3: its flatten no longer gives 1250 features, so its
    # visible test (1) and its layer-by-layer test (1) fail; the training run uses a network of its own: 14
    "wrong_kernel": ({**_ALL_06, "build_lenet": (
        "def build_lenet():\n"
        "    return nn.Sequential(\n"
        "        nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.Sigmoid(), nn.AvgPool2d(2, 2),\n"
        "        nn.Conv2d(6, 16, kernel_size=5), nn.Sigmoid(), nn.AvgPool2d(2, 2),\n"
        "        nn.Flatten(), nn.Linear(400, 120), nn.Sigmoid(), nn.Linear(120, 84), nn.Sigmoid(),\n"
        "        nn.Linear(84, 10))\n\n"
        "def build_lenet_relu():\n"
        "    return nn.Sequential(\n"
        "        nn.Conv2d(1, 20, kernel_size=5), nn.ReLU(), nn.MaxPool2d(2, 2),\n"
        "        nn.Conv2d(20, 50, kernel_size=5), nn.ReLU(), nn.MaxPool2d(2, 2),\n"
        "        nn.Flatten(), nn.Linear(1250, 128), nn.ReLU(), nn.Linear(128, 10))\n")}, 14),
    # Adam without the bias correction (m and s used as they are): its first steps are far too small, so
    # adam_step's visible test (1) and the hidden comparison (2, both optimizers in one cell) fail: 16 - 3 = 13
    "no_bias_correction": ({**_ALL_06, "optimizer_steps": (
        "def momentum_step(w, grad, velocity, lr, momentum=0.9):\n"
        "    if grad.shape != w.shape or velocity.shape != w.shape:\n"
        "        raise ValueError(f'w {tuple(w.shape)}, grad {tuple(grad.shape)}, velocity {tuple(velocity.shape)}')\n"
        "    velocity = momentum * velocity + grad\n"
        "    return w - lr * velocity, velocity\n\n"
        "def adam_step(w, grad, m, s, t, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):\n"
        "    if grad.shape != w.shape or m.shape != w.shape or s.shape != w.shape:\n"
        "        raise ValueError(f'w {tuple(w.shape)}, grad {tuple(grad.shape)}, '\n"
        "                         f'm {tuple(m.shape)}, s {tuple(s.shape)}')\n"
        "    if t < 1:\n"
        "        raise ValueError(f't = {t}')\n"
        "    m = betas[0] * m + (1 - betas[0]) * grad\n"
        "    s = betas[1] * s + (1 - betas[1]) * grad ** 2\n"
        "    return w - lr * m / (s.sqrt() + eps), m, s\n")}, 13),
}
