"""Numerical gradient checks: central differences in float64, compared by relative error.

Before trusting autograd as the oracle for 05's exercises, check it: perturb each input element
by ±eps, measure how the loss changes, and compare with the analytic gradient.

    loss(x) = sum(f(x) * upstream)       (so d loss / d f = upstream: a vector-Jacobian product)
    numerical[i] = (loss(x + eps e_i) - loss(x - eps e_i)) / (2 eps)

Central differences have truncation error O(eps²) and rounding error about 1e-16 / eps; with
float64 and eps = 1e-6 both are far below ``TOLERANCE`` for the smooth, well-scaled functions of
this course. The relative error is ``max|a - b| / max(max|a|, max|b|, 1e-12)``, one number per
tensor, so a gradient that is zero almost everywhere is still judged on its scale.

Kinks (ReLU at 0, a tie in a max) make the derivative undefined there; keep inputs away from
them (distinct random values) when checking max pooling.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

__all__ = [
    "EPS",
    "TOLERANCE",
    "GradientCheck",
    "chain_rule_example",
    "chain_rule_table",
    "check_gradients",
    "numerical_gradients",
    "relative_error",
]

EPS = 1e-6
TOLERANCE = 1e-7


def relative_error(a: torch.Tensor, b: torch.Tensor) -> float:
    """max|a - b| / max(max|a|, max|b|, 1e-12): 0 when equal, about 1 when unrelated."""
    a, b = torch.as_tensor(a, dtype=torch.float64), torch.as_tensor(b, dtype=torch.float64)
    if a.shape != b.shape:
        raise ValueError(f"cannot compare gradients of shapes {tuple(a.shape)} and {tuple(b.shape)}")
    if a.numel() == 0:
        return 0.0
    scale = max(float(a.abs().max()), float(b.abs().max()), 1e-12)
    return float((a - b).abs().max()) / scale


def numerical_gradients(
    f: Callable[..., torch.Tensor],
    inputs: Sequence[torch.Tensor],
    upstream: torch.Tensor | None = None,
    eps: float = EPS,
) -> list[torch.Tensor]:
    """Central-difference gradients of sum(f(*inputs) * upstream) with respect to each input (float64).

    `upstream` defaults to ones (the gradient of f's sum); `f` is called 2 * (total elements) times
    on float64 copies and never needs autograd.
    """
    xs = [torch.as_tensor(x).detach().to(torch.float64).clone() for x in inputs]
    with torch.no_grad():
        out = f(*xs)
        up = torch.ones_like(out) if upstream is None else torch.as_tensor(upstream, dtype=torch.float64)
        if up.shape != out.shape:
            raise ValueError(f"upstream has shape {tuple(up.shape)} but f returns {tuple(out.shape)}")
        grads = []
        for x in xs:
            grad = torch.zeros_like(x)
            flat, gflat = x.view(-1), grad.view(-1)
            for i in range(flat.numel()):
                keep = float(flat[i])
                flat[i] = keep + eps
                plus = float((f(*xs) * up).sum())
                flat[i] = keep - eps
                minus = float((f(*xs) * up).sum())
                flat[i] = keep
                gflat[i] = (plus - minus) / (2 * eps)
            grads.append(grad)
    return grads


@dataclass
class GradientCheck:
    """One row per input: its name, the relative error, and whether it is under the tolerance."""

    names: list[str]
    errors: list[float]
    tolerance: float

    @property
    def passed(self) -> bool:
        return all(e <= self.tolerance for e in self.errors)

    def __str__(self) -> str:
        rows = [
            f"  {n:>6}: relative error {e:.2e} {'ok' if e <= self.tolerance else 'TOO LARGE'}"
            for n, e in zip(self.names, self.errors)
        ]
        return f"gradient check (central differences, float64, tolerance {self.tolerance:.0e}):\n" + "\n".join(rows)


def check_gradients(
    f: Callable[..., torch.Tensor],
    inputs: Sequence[torch.Tensor],
    analytic: Sequence[torch.Tensor],
    upstream: torch.Tensor | None = None,
    names: Sequence[str] | None = None,
    tolerance: float = TOLERANCE,
) -> GradientCheck:
    """Compare `analytic` gradients of sum(f(*inputs) * upstream) with central differences."""
    numerical = numerical_gradients(f, inputs, upstream)
    if len(analytic) != len(numerical):
        raise ValueError(f"{len(analytic)} analytic gradients for {len(numerical)} inputs")
    names = list(names or [f"input {i}" for i in range(len(inputs))])
    return GradientCheck(names, [relative_error(a, n) for a, n in zip(analytic, numerical)], tolerance)


def chain_rule_example() -> dict:
    """Source post 004's small network worked by hand: dL/dw11 as a product of local derivatives, beside autograd.

    Network: x (2) -> z = W1 x + b1 -> a = sigmoid(z) -> y = W2 a + b2 -> o = softmax(y) -> L = -log o[t].
    w11 = W1[0, 0] connects x1 to the first hidden unit. The numbers are the course's (the post shows
    its network only as pictures). Returns {"rows": [(quantity, formula, value)], "by_hand", "autograd"}.
    """
    x = torch.tensor([0.8, -0.4], dtype=torch.float64)
    W1 = torch.tensor([[0.5, -0.3], [0.2, 0.7]], dtype=torch.float64)
    b1 = torch.tensor([0.1, -0.1], dtype=torch.float64)
    W2 = torch.tensor([[0.6, -0.5], [-0.4, 0.9]], dtype=torch.float64)
    b2 = torch.tensor([0.05, -0.05], dtype=torch.float64)
    target = 0
    z = W1 @ x + b1
    a = 1 / (1 + torch.exp(-z))
    y = W2 @ a + b2
    o = torch.exp(y - y.max()) / torch.exp(y - y.max()).sum()
    loss = -torch.log(o[target])
    dL_dy = o - torch.nn.functional.one_hot(torch.tensor(target), 2).double()
    dL_da1 = float(dL_dy @ W2[:, 0])
    da1_dz1 = float(a[0] * (1 - a[0]))
    dz1_dw11 = float(x[0])
    by_hand = dL_da1 * da1_dz1 * dz1_dw11
    rows = [
        ("z1", "w11·x1 + w12·x2 + b1", float(z[0])),
        ("a1", "σ(z1)", float(a[0])),
        ("y1, y2", "W2 a + b2", tuple(y.tolist())),
        ("o1, o2", "softmax(y)", tuple(o.tolist())),
        ("L", f"−log o{target + 1}", float(loss)),
        ("∂L/∂y", "o − one_hot(target)", tuple(dL_dy.tolist())),
        ("∂L/∂a1", "Σ_k ∂L/∂y_k · w2_k1", dL_da1),
        ("∂a1/∂z1", "a1 (1 − a1)", da1_dz1),
        ("∂z1/∂w11", "x1", dz1_dw11),
        ("∂L/∂w11", "∂L/∂a1 · ∂a1/∂z1 · ∂z1/∂w11", by_hand),
    ]
    W1g = W1.clone().requires_grad_()
    with torch.enable_grad():
        yg = W2 @ torch.sigmoid(W1g @ x + b1) + b2
        torch.nn.functional.cross_entropy(yg[None], torch.tensor([target])).backward()
    return {"rows": rows, "by_hand": by_hand, "autograd": float(W1g.grad[0, 0])}


def chain_rule_table():
    """``chain_rule_example`` as an HTML table (quantity, formula, value) with autograd's value beneath."""
    from IPython.display import HTML

    example = chain_rule_example()

    def show(value) -> str:
        return ", ".join(f"{v:.6f}" for v in value) if isinstance(value, tuple) else f"{value:.6f}"

    rows = "".join(
        f"<tr><td>{q}</td><td>{f}</td><td style='text-align:right'>{show(v)}</td></tr>" for q, f, v in example["rows"]
    )
    error = relative_error(torch.tensor(example["by_hand"]), torch.tensor(example["autograd"]))
    verdict = (
        f"<p>by hand ∂L/∂w11 = {example['by_hand']:.10f}; autograd = {example['autograd']:.10f}; "
        f"relative error {error:.1e}</p>"
    )
    return HTML(f"<table><tr><th>quantity</th><th>formula</th><th>value</th></tr>{rows}</table>{verdict}")
