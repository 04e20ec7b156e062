"""What 02's and 03's text says about shapes, checked with PyTorch: the text names the numbers, torch decides."""

from __future__ import annotations

import math
import warnings

import nbformat
import pytest
import torch
import torch.nn.functional as F

from conftest import source_notebook


def _markdown(assignment: str) -> str:
    nb = nbformat.read(source_notebook(assignment), as_version=4)
    return "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


def _rows_above_for_same(k: int) -> int:
    """How many zero rows PyTorch's padding="same" puts above the input, for a kernel of height k."""
    X = torch.arange(1.0, 11.0).reshape(1, 1, 10, 1)
    K = torch.zeros(1, 1, k, 1)
    K[0, 0, 0, 0] = 1.0  # each output copies the top row of its window
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = F.conv2d(X, K, padding="same").flatten()
    return int((out == 0).sum())


def test_same_padding_puts_the_extra_row_below_the_reverse_of_d2ls_split():
    for k in (2, 4, 6):
        total = k - 1
        assert _rows_above_for_same(k) == total // 2  # PyTorch: the smaller part above, the extra row below
        assert math.ceil(total / 2) > total // 2  # d2l's ceil(p/2) above: more on top
    text = _markdown("02_padding_stride")
    assert "extra row on top" in text and "the extra row at the bottom" in text


def test_stride_figure_shows_four_placements_as_its_alt_text_says():
    """stride.png (a 3x3 input padded by 1, a 2x2 kernel, stride (3, 2)): four placements; the one padded row no
    placement reads lies between the strides (yellow), the one column after the last placement (red)."""
    from course_utils.widgets import padding_stride as ps

    out = F.conv2d(torch.ones(1, 1, 3, 3), torch.ones(1, 1, 2, 2), stride=(3, 2), padding=1)
    assert out.numel() == 4
    padded = torch.ones(1, 1, 5, 5, requires_grad=True)  # how often each padded cell is read: autograd's count
    F.conv2d(padded, torch.ones(1, 1, 2, 2), stride=(3, 2)).sum().backward()
    read = padded.grad[0, 0] > 0
    assert read.any(dim=1).tolist() == [True, True, False, True, True]  # row 2: between strides
    assert read.any(dim=0).tolist() == [True, True, True, True, False]  # column 4: after the last placement
    preset = ps.PRESETS["3×3, kernel 2, stride (3, 2), padding 1"]
    category = ps.conv_arithmetic_state(**preset).category  # the figure's colours
    assert (category[2, :4] == ps.SKIPPED).all() and (category[:, 4] == ps.DROPPED).all()
    red, green, blue = ps.CATEGORY_COLORS[ps.SKIPPED]
    assert red > 0.9 and green > 0.8 and blue < 0.6  # yellow
    red, green, blue = ps.CATEGORY_COLORS[ps.DROPPED]
    assert red > 0.9 and green < 0.6 and blue < 0.6  # red
    text = _markdown("02_padding_stride")
    assert "stride (3, 2): four placements; none reads the yellow row (between strides) or the red column" in text


def test_the_4x4_floor_example_and_p_written_for_2p():
    size = {p: F.conv2d(torch.ones(1, 1, 4, 4), torch.ones(1, 1, 3, 3), stride=2, padding=p).shape[-1] for p in (1, 2)}
    assert size == {1: 2, 2: 3}
    assert (4 - 3 + 2 * 1) / 2 + 1 == 2.5 and (4 - 3 + 1) / 2 + 1 == 2  # right for p = 1 by luck
    assert math.floor((4 - 3 + 2) / 2 + 1) == 2 != size[2]  # P for 2P with p = 2: wrong
    text = _markdown("02_padding_stride")
    assert "$(4 - 3 + 1)/2 + 1 = 2$" in text and "\\lfloor (4 - 3 + 4)/2 \\rfloor + 1 = 3" in text


def test_the_floor_example_matches_its_printout_to_4_decimals_only():
    import course_utils as cu

    im, weight, bias, printed = cu.examples.floor_example_conv()
    out = F.conv2d(im, weight, bias, stride=2, padding=1)
    assert torch.allclose(out, printed, atol=1e-4, rtol=0)
    assert not torch.equal(out, printed)  # equal to the printed 4 decimals, not exactly
    assert "to\nits 4 decimals" in _markdown("02_padding_stride")


def test_ceil_mode_example_of_03_drops_the_third_window():
    assert F.max_pool2d(torch.zeros(1, 1, 4, 4), 2, 3, 1, ceil_mode=True).shape[-2:] == (2, 2)
    assert math.ceil((4 + 2 - 2) / 3) + 1 == 3 and (3 - 1) * 3 >= 4 + 1  # ceil's third window starts after the input
    assert "$\\lceil 4/3 \\rceil + 1 = 3$" in _markdown("03_pooling")


@pytest.mark.parametrize("assignment", ["02_padding_stride", "03_pooling"])
def test_readme_topic_table_gives_the_notebooks_points(assignment):
    from conftest import ROOT

    nb = nbformat.read(source_notebook(assignment), as_version=4)
    total = sum(c.metadata["nbgrader"].get("points", 0) for c in nb.cells if c.metadata["nbgrader"].get("grade"))
    row = next(line for line in (ROOT / "README.md").read_text().splitlines() if line.startswith(f"| `{assignment}` |"))
    assert float(row.rstrip(" |").rsplit("|", 1)[1]) == total


@pytest.mark.parametrize("assignment", ["02_padding_stride", "03_pooling"])
def test_each_question_takes_the_solutions_answer_and_teaches_on_each_hinted_mistake(assignment):
    """Run each question's hidden test with the solution's answers, recording its check_answer call; then
    every hinted wrong answer must fail with its own hint (a hint equal to the right answer never shows)."""
    import course_utils as cu
    from tests.test_self_study import solutions

    nb = nbformat.read(source_notebook(assignment), as_version=4)
    questions = [c for c in nb.cells if c.metadata["nbgrader"].get("grade_id", "").startswith("test_q_")]
    assert 3 <= len(questions) <= 5
    namespace = solutions(assignment)
    calls = []
    real = cu.checks.check_answer

    def recording(name, value, expected, **options):
        calls.append((name, value, expected, options))
        return real(name, value, expected, **options)

    cu.checks.check_answer = recording
    try:
        for cell in questions:
            exec(cell.source, namespace)
    finally:
        cu.checks.check_answer = real
    assert len(calls) == len(questions)
    for name, value, expected, options in calls:
        assert value is namespace[name]
        assert options["hints"], f"{name} has no hint for a common mistake"
        for wrong, hint in options["hints"].items():
            with pytest.raises(AssertionError) as info:
                real(name, wrong, expected, **options)
            assert hint in str(info.value) and options["why"] in str(info.value)
