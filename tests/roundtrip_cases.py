"""Simulated classes for the nbgrader round trip: per assignment, each student's edits and exact score.

A student is a dict {grade_id of a solution cell: how that cell is submitted}: SOLVED is the source
notebook's solution with nbgrader's markers removed; a string is the cell's whole new source.
Cells not named are submitted as released (the stub). Later topics add their assignment here.
"""

from __future__ import annotations

SOLVED = object()

_ALL_01 = {"corr2d": SOLVED, "convolve2d": SOLVED, "conv2d": SOLVED}

CASES: dict[str, dict[str, tuple[dict, float]]] = {
    "01_convolution": {
        "solved": (_ALL_01, 20),
        "blank": ({}, 0),
        # forgot the flip: convolve2d's two test cells (1 + 2 points) fail
        "wrong_convolve2d": ({**_ALL_01, "convolve2d": (
            "def convolve2d(X, K):\n"
            "    return corr2d(X, K, 'valid')\n")}, 17),
        # torch's conv through an alias captured at the top of the cell: all of conv2d's 9 points lost
        "cheater": ({**_ALL_01, "conv2d": (
            "from torch.nn.functional import conv2d as _torch_conv\n\n"
            "def conv2d(X, W, b=None):\n"
            "    return _torch_conv(X, W, b)\n")}, 11),
        # corr2d's cell does not parse: corr2d and convolve2d (which calls it) score 0, conv2d 9
        "syntax_error": ({**_ALL_01, "corr2d": (
            "def corr2d(X, K, mode='valid')\n"
            "    return X\n")}, 9),
        # conv2d's cell never finishes: the cell times out, the rest of the notebook is still graded
        "infinite_loop": ({**_ALL_01, "conv2d": (
            "while True:\n"
            "    pass\n")}, 11),
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
