"""The source posts' worked examples as tensors: every call returns new float32 tensors.

Notebooks, graded tests and widgets all take the source posts' examples from here, so each number the
course quotes has one home. The post each example comes from is named in its docstring.
"""

from __future__ import annotations

import torch

from course_utils import data, oracles
from course_utils.kernels import get_kernel

_POST000_X = (
    (5, 6, 0, 1, 8, 2),
    (0, 9, 8, 4, 6, 5),
    (2, 6, 5, 3, 8, 4),
    (6, 3, 4, 9, 1, 0),
    (7, 5, 9, 1, 6, 7),
    (2, 5, 9, 2, 3, 7),
)


def grid6_input() -> torch.Tensor:
    """Source post 000's 6x6 input (H, W) for the VALID / SAME / FULL examples."""
    return torch.tensor(_POST000_X, dtype=torch.float32)


def grid6_filter() -> torch.Tensor:
    """Source post 000's 3x3 filter [[0, -1, 1], [1, 0, 0], [0, -1, 1]] as (kh, kw)."""
    return get_kernel("filter_6x6")


def arange3_single() -> tuple[torch.Tensor, torch.Tensor]:
    """Source post 003, one channel: X = arange(9) as (3, 3), K = arange(4) as (2, 2); valid output 19 25 / 37 43."""
    return torch.arange(9.0).reshape(3, 3), torch.arange(4.0).reshape(2, 2)


def arange_two_in() -> tuple[torch.Tensor, torch.Tensor]:
    """Source post 003, two input channels, one output: X (1, 2, 3, 3) = arange(18), W (1, 2, 2, 2) = arange(8)."""
    return torch.arange(18.0).reshape(1, 2, 3, 3), torch.arange(8.0).reshape(1, 2, 2, 2)


def arange_three_in_two_out() -> tuple[torch.Tensor, torch.Tensor]:
    """Source post 003, three input channels, two outputs, 1x1 kernels:
    X (1, 3, 3, 3) = arange(27), W (2, 3, 1, 1) = arange(6)."""
    return torch.arange(27.0).reshape(1, 3, 3, 3), torch.arange(6.0).reshape(2, 3, 1, 1)


def bce_example() -> tuple[torch.Tensor, torch.Tensor]:
    """Source post 000's binary cross-entropy example: p = [0.1, 0.2, 0.3, 0.4], y = [0, 0, 0, 1]."""
    return torch.tensor([0.1, 0.2, 0.3, 0.4]), torch.tensor([0.0, 0.0, 0.0, 1.0])


def bce_example_unused() -> tuple[torch.Tensor, torch.Tensor]:
    """The five-sample example source post 000 defines and then overwrites:
    p = [0.2, 0.8, 0.4, 0.1, 0.9], y = [0, 1, 0, 0, 1]."""
    return torch.tensor([0.2, 0.8, 0.4, 0.1, 0.9]), torch.tensor([0.0, 1.0, 0.0, 0.0, 1.0])


def cross_entropy_examples() -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Source post 000's two cross-entropy examples: logits log(20, 40, 60, 80) and log(10, 30, 50, 90), class 3."""
    return [
        (torch.tensor([[20.0, 40.0, 60.0, 80.0]]).log(), torch.tensor([3])),
        (torch.tensor([[10.0, 30.0, 50.0, 90.0]]).log(), torch.tensor([3])),
    ]


def two_channel_pool_input() -> torch.Tensor:
    """Source post 002's pooling input (1, 2, 4, 4): channel 0 has rows of 0, 1, 2, 3; channel 1 rows of 4, 5, 6, 7."""
    rows = torch.arange(8.0).reshape(2, 4, 1)
    return rows.expand(2, 4, 4).reshape(1, 2, 4, 4).clone()


def arange4_strided() -> tuple[torch.Tensor, torch.Tensor]:
    """Source post 003's stride example: X = arange(16) as (4, 4), K = arange(4) as (2, 2);
    stride (2, 2) gives 24 36 / 72 84."""
    return torch.arange(16.0).reshape(4, 4), torch.arange(4.0).reshape(2, 2)


_POST004_IM = (
    (-0.2146, 0.3375, 2.7877, 0.2052, -0.4651),
    (-0.2261, 0.0116, -0.6255, 1.2523, -1.0565),
    (-1.9227, -0.2575, -0.7725, 0.5658, 0.0717),
    (0.8153, -1.3656, -0.1844, 0.1573, -0.2235),
    (0.0184, -0.0475, 0.2359, 0.0127, 2.0665),
)
_POST004_WEIGHT = ((-0.4872, 0.0604), (-0.3968, -0.3317))
_POST004_BIAS = -0.1179
_POST004_PRINTED = ((-0.0467, -1.1766, -0.0450), (0.5063, 0.1971, -1.0401), (-0.0748, 0.4769, -0.8986))


def floor_example_conv() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Source post 004's ``nn.Conv2d(1, 1, kernel_size=2, stride=2, padding=1)`` on a random 5x5 input.

    Returns (im (1, 1, 5, 5), weight (1, 1, 2, 2), bias (1,), printed output (1, 1, 3, 3)), as the post
    printed them (rounded to 4 decimals, so recomputing the output agrees to about 1e-4).
    """
    return (
        torch.tensor(_POST004_IM)[None, None],
        torch.tensor(_POST004_WEIGHT)[None, None],
        torch.tensor([_POST004_BIAS]),
        torch.tensor(_POST004_PRINTED)[None, None],
    )


def relu_lenet_layers() -> list[tuple[int, int]]:
    """(kernel_size, stride) of source post 003's ReLU LeNet, conv and pool alike: conv 5, max-pool 2,
    conv 3, max-pool 2."""
    return [(5, 1), (2, 2), (3, 1), (2, 2)]


def kernel_learning_problem(
    kernel: str = "right_sobel", size: int = 32
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """05's kernel to recover: X, the grey photo (longer side `size`) standardised to mean 0 and std 1, as
    (1, 1, H, W) float64; K, the named kernel as (1, 1, kh, kw) float64; Y = F.conv2d(X, K), the targets.

    Standardising matters for gradient descent: without it the pixels' large common mean makes the
    loss very steep in one direction, and a learning rate small enough for that one crawls in all others.
    """
    X = data.photo(size=size).to(torch.float64)
    X = ((X - X.mean()) / X.std())[None, None]
    K = get_kernel(kernel, torch.float64)[None, None]
    return X, K, oracles.conv2d(X, K)
