"""What the text of 04 and 05 states about numbers, measured: each claim fails here if it stops being true."""

from __future__ import annotations

import math

import torch

FLOATS = (torch.float32, torch.float64)


# --- 04: the sigmoid ---------------------------------------------------------------------------


def test_one_over_one_plus_exp_is_the_sigmoid_to_the_last_digit_from_minus_to_plus_1000():
    """04: '1/(1+e^-z) needs no trick': it agrees with torch.sigmoid in relative terms everywhere, no nan."""
    for dtype in FLOATS:
        z = torch.linspace(-1000, 1000, 200_001, dtype=dtype)
        plain, reference = 1 / (1 + torch.exp(-z)), torch.sigmoid(z)
        assert not torch.isnan(plain).any()
        assert plain[0] == 0 and plain[-1] == 1  # at -1000, 1 / inf = 0
        tiny = reference > 0
        relative = ((plain - reference).abs()[tiny] / reference[tiny]).max()
        assert relative < 8 * torch.finfo(dtype).eps, (dtype, float(relative))
        assert torch.equal(plain[~tiny], reference[~tiny])


def test_the_ratio_form_is_nan_at_1000_and_a_clamp_loses_sigmoid_of_minus_80():
    """04: 'e^z/(1+e^z) at z = 1000 is inf/inf = nan'; 'σ(-80) = 1.8e-35, clamped to [-20, 20] it becomes 2e-9'."""
    for dtype in FLOATS:
        z = torch.tensor(1000.0, dtype=dtype)
        assert torch.isnan(torch.exp(z) / (1 + torch.exp(z)))
        at_80 = 1 / (1 + torch.exp(torch.tensor(80.0, dtype=dtype)))
        assert f"{float(at_80):.1e}" == "1.8e-35"
        assert f"{float(torch.sigmoid(torch.tensor(-80.0, dtype=dtype).clamp(-20, 20))):.0e}" == "2e-09"


def test_log_sigmoid_is_minus_inf_below_minus_89_in_float32_and_the_logit_form_is_not():
    """04: 'log σ(z) is -inf once σ(z) rounds to 0 (below z ≈ -89 in float32)'; from the logit it is finite."""
    z = torch.arange(-120.0, -60.0, 0.5)
    zero = z[torch.sigmoid(z) == 0]
    assert -89.5 <= float(zero.max()) <= -88.5, float(zero.max())
    assert torch.isinf(torch.log(torch.sigmoid(torch.tensor(-200.0))))
    from_logit = torch.nn.functional.binary_cross_entropy_with_logits(torch.tensor(-200.0), torch.tensor(1.0))
    assert math.isclose(float(from_logit), 200.0, rel_tol=1e-6)
