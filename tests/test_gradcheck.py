"""course_utils.gradcheck: central differences against analytic derivatives, and the chain-rule example."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from course_utils import gradcheck


def test_numerical_gradient_of_a_cube_is_three_x_squared():
    x = torch.tensor([[-1.5, 0.3], [2.0, 0.7]], dtype=torch.float64)
    (grad,) = gradcheck.numerical_gradients(lambda t: t**3, [x])
    assert gradcheck.relative_error(grad, 3 * x**2) < 1e-9


def test_upstream_weights_the_outputs():
    x = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)
    up = torch.tensor([2.0, -1.0, 0.5], dtype=torch.float64)
    (grad,) = gradcheck.numerical_gradients(lambda t: torch.sin(t), [x], up)
    assert gradcheck.relative_error(grad, up * torch.cos(x)) < 1e-9


def test_autograd_of_conv2d_passes_and_a_wrong_gradient_fails():
    gen = torch.Generator().manual_seed(7)
    X = torch.randn(1, 2, 5, 4, generator=gen, dtype=torch.float64)
    W = torch.randn(3, 2, 3, 2, generator=gen, dtype=torch.float64)
    dY = torch.randn(1, 3, 2, 3, generator=gen, dtype=torch.float64)
    Xg, Wg = X.clone().requires_grad_(), W.clone().requires_grad_()
    (F.conv2d(Xg, Wg, stride=2, padding=(0, 1)) * dY).sum().backward()

    def f(X, W):
        return F.conv2d(X, W, stride=2, padding=(0, 1))

    report = gradcheck.check_gradients(f, [X, W], [Xg.grad, Wg.grad], dY, names=["dX", "dW"])
    assert report.passed and max(report.errors) < 1e-8, str(report)
    wrong = gradcheck.check_gradients(f, [X, W], [Xg.grad * (1 + 1e-5), Wg.grad], dY, names=["dX", "dW"])
    assert not wrong.passed and wrong.errors[0] > gradcheck.TOLERANCE and "TOO LARGE" in str(wrong)


def test_shapes_are_checked_with_clear_messages():
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(3, 2\)"):
        gradcheck.relative_error(torch.zeros(2, 3), torch.zeros(3, 2))
    with pytest.raises(ValueError, match=r"upstream has shape \(2,\)"):
        gradcheck.numerical_gradients(lambda t: t * 2, [torch.zeros(3)], torch.zeros(2))
    assert gradcheck.relative_error(torch.zeros(4), torch.zeros(4)) == 0.0


def test_chain_rule_by_hand_equals_autograd_and_central_differences():
    example = gradcheck.chain_rule_example()
    assert example["by_hand"] == pytest.approx(example["autograd"], rel=1e-12)
    rows = dict((q, v) for q, _, v in example["rows"])
    x1 = rows["∂z1/∂w11"]
    assert rows["∂L/∂w11"] == pytest.approx(rows["∂L/∂a1"] * rows["∂a1/∂z1"] * x1, rel=1e-15)
    # the loss as a function of w11 alone, differentiated numerically
    W1 = torch.tensor([[0.5, -0.3], [0.2, 0.7]], dtype=torch.float64)

    def loss(w11):
        W = W1.clone()
        W[0, 0] = w11
        f64 = torch.float64
        a = torch.sigmoid(W @ torch.tensor([0.8, -0.4], dtype=f64) + torch.tensor([0.1, -0.1], dtype=f64))
        y = torch.tensor([[0.6, -0.5], [-0.4, 0.9]], dtype=f64) @ a + torch.tensor([0.05, -0.05], dtype=f64)
        return F.cross_entropy(y[None], torch.tensor([0]))

    (numerical,) = gradcheck.numerical_gradients(loss, [torch.tensor(0.5, dtype=torch.float64)])
    assert float(numerical) == pytest.approx(example["by_hand"], rel=1e-7)


def test_chain_rule_table_shows_matching_values():
    html = gradcheck.chain_rule_table().data
    example = gradcheck.chain_rule_example()
    assert f"{example['autograd']:.10f}" in html and f"{example['by_hand']:.10f}" in html
    assert html.count("<tr>") == len(example["rows"]) + 1
