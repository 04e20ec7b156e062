"""Named convolution kernels from the course's source posts (source post 000 and source post 001).

Every kernel is a plain nested tuple here (immutable, no torch needed to read it); `get_kernel`
turns one into a tensor of shape (kh, kw). Kernels are applied as cross-correlation, as PyTorch's
``F.conv2d`` does, so a kernel is read exactly as it is written: its top-left entry multiplies
the top-left pixel of each window.
"""

from __future__ import annotations

import torch

# name -> (rows, description)
_KERNELS: dict[str, tuple[tuple[tuple[float, ...], ...], str]] = {
    # source post 001, part 1-3: finite differences
    "diff_x": (((1.0, -1.0),), "(1, -1): horizontal difference, finds vertical edges"),
    "diff_y": (((1.0,), (-1.0,)), "(1, -1)^T: vertical difference, finds horizontal edges"),
    "diag": (((1.0, -1.0), (-1.0, 1.0)), "[[1, -1], [-1, 1]]: mixed difference, finds corners and diagonals"),
    # source post 001, part 4: the setosa.io image-kernel set
    "bottom_sobel": (((-1, -2, -1), (0, 0, 0), (1, 2, 1)), "Sobel, bright below dark"),
    "top_sobel": (((1, 2, 1), (0, 0, 0), (-1, -2, -1)), "Sobel, bright above dark"),
    "left_sobel": (((1, 0, -1), (2, 0, -2), (1, 0, -1)), "Sobel, bright left of dark"),
    "right_sobel": (((-1, 0, 1), (-2, 0, 2), (-1, 0, 1)), "Sobel, bright right of dark"),
    "sharpen": (((0, -1, 0), (-1, 5, -1), (0, -1, 0)), "sharpen: the centre minus its four neighbours"),
    "blur": (
        ((0.0625, 0.125, 0.0625), (0.125, 0.25, 0.125), (0.0625, 0.125, 0.0625)),
        "Gaussian-like blur (weights sum to 1)",
    ),
    "emboss": (((-2, -1, 0), (-1, 1, 1), (0, 1, 2)), "emboss: relief lit from the bottom right"),
    "outline": (((-1, -1, -1), (-1, 8, -1), (-1, -1, -1)), "outline: the centre minus all eight neighbours"),
    "identity": (((0, 0, 0), (0, 1, 0), (0, 0, 0)), "identity: copies the image"),
    # source post 000: the 3x3 filter of the VALID / SAME / FULL examples
    "filter_6x6": (((0, -1, 1), (1, 0, 0), (0, -1, 1)), "the 3x3 filter of the 6x6 example in 01"),
}

#: source post 001's ``top_sobel`` as printed, with its typo (-1 where Sobel has 1); kept to show the fix.
TOP_SOBEL_WITH_TYPO: tuple[tuple[int, ...], ...] = ((-1, 2, 1), (0, 0, 0), (-1, -2, -1))


def kernel_names() -> list[str]:
    """Names of every named kernel, in teaching order."""
    return list(_KERNELS)


def describe(name: str) -> str:
    """A one-line description of kernel `name`."""
    return _lookup(name)[1]


def get_kernel(name: str, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Kernel `name` as a new tensor of shape (kh, kw) and the given dtype."""
    return torch.tensor(_lookup(name)[0], dtype=dtype)


def _lookup(name: str):
    try:
        return _KERNELS[name]
    except KeyError:
        raise ValueError(f"unknown kernel {name!r}; known kernels: {', '.join(_KERNELS)}") from None
