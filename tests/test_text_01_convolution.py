"""01_convolution's text says only what is true: each number or claim it prints, recomputed with PyTorch."""

from __future__ import annotations

import itertools
import re

import nbformat
import pytest
import torch
import torch.nn.functional as F

from conftest import ROOT
from course_utils import data, examples, figures, kernels
from course_utils.widgets import convolution as cw

NOTEBOOK = ROOT / "source" / "01_convolution" / "01_convolution.ipynb"

#: The padded 8x8 that the lecture notes behind the 6x6 example feed to SAME for their FULL map, as printed there.
NOTES_PADDED = [
    [0, 0, 0, 0, 0, 0, 0, 0],
    [0, 5, 6, 0, 1, 8, 2, 0],
    [0, 2, 5, 7, 2, 3, 7, 0],
    [0, 0, 7, 2, 4, 5, 6, 0],
    [0, 5, 3, 6, 9, 3, 1, 0],
    [0, 6, 5, 3, 1, 4, 6, 0],
    [0, 5, 2, 4, 0, 8, 7, 0],
    [0, 0, 0, 0, 0, 0, 0, 0],
]


def markdown(cell_id: str) -> str:
    cells = [c for c in nbformat.read(NOTEBOOK, as_version=4).cells if c.id == cell_id]
    assert len(cells) == 1, f"no cell {cell_id} in {NOTEBOOK.name}"
    return cells[0].source


def printed_matrix(text: str) -> torch.Tensor:
    """The numbers of the (only) pmatrix in `text`, as a tensor."""
    body = re.search(r"\\begin\{pmatrix\}(.*?)\\end\{pmatrix\}", text, re.S).group(1)
    rows = [row for row in body.split("\\\\") if row.strip()]
    return torch.tensor([[float(v) for v in row.split("&")] for row in rows])


def _full(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    return F.conv2d(X[None, None], K[None, None], padding=(K.shape[0] - 1, K.shape[1] - 1))[0, 0]


def _pad_then_same(X: torch.Tensor, K: torch.Tensor, rings: int) -> torch.Tensor:
    """Pad `rings` rings of zeros, then TensorFlow's SAME: total k - 1, the smaller half first (as PyTorch's)."""
    kh, kw = K.shape
    Xp = F.pad(X, (rings,) * 4)
    Xp = F.pad(Xp, ((kw - 1) // 2, kw - 1 - (kw - 1) // 2, (kh - 1) // 2, kh - 1 - (kh - 1) // 2))
    return F.conv2d(Xp[None, None], K[None, None])[0, 0]


def test_the_full_map_the_text_prints_is_pytorchs():
    X, K = examples.grid6_input(), examples.grid6_filter()
    shown = printed_matrix(markdown("md-full"))
    full = _full(X, K)
    assert shown.shape == (8, 8) and torch.equal(shown, full)
    valid = F.conv2d(X[None, None], K[None, None])[0, 0]
    assert torch.equal(full[2:6, 2:6], valid), "the text says the middle 4x4 is the valid map"
    assert valid[0].tolist() == [-7, 8, 20, -6] and "$-7, 8, 20, -6$" in markdown("md-full")


def test_the_notes_padded_another_matrix_so_their_full_map_is_not_this_inputs():
    X, K = examples.grid6_input(), examples.grid6_filter()
    interior = torch.tensor(NOTES_PADDED, dtype=torch.float32)[1:7, 1:7]
    differs = (interior != X).any(dim=1).tolist()
    assert differs == [False, True, True, True, True, True], "the text: row 1 is this input's, rows 2 to 6 are not"
    theirs = _pad_then_same(torch.tensor(NOTES_PADDED, dtype=torch.float32)[1:7, 1:7], K, 1)
    assert not torch.equal(theirs, _full(X, K))


def test_pad_then_same_is_full_for_an_odd_kernel_padded_half_and_never_for_an_even_one():
    X = examples.grid6_input()
    K3 = examples.grid6_filter()
    assert torch.equal(_pad_then_same(X, K3, 1), _full(X, K3))  # 3x3: one ring
    K5 = torch.randn(5, 5, generator=torch.Generator().manual_seed(0))
    assert _pad_then_same(X, K5, 1).shape == (8, 8) and _full(X, K5).shape == (10, 10)  # the text's 5x5 numbers
    assert torch.allclose(_pad_then_same(X, K5, 2), _full(X, K5))  # (k - 1) / 2 rings
    for k, rings in itertools.product((2, 4), range(6)):  # even: no number of rings gives full's size
        K = torch.ones(k, k)
        assert _pad_then_same(X, K, rings).shape != _full(X, K).shape
    text = markdown("md-full-same")
    assert "a 5×5 after one ring gives an 8×8 map, not full's 10×10" in text
    assert "For an even kernel no number of rings works" in text


def test_for_an_even_kernel_a_lopsided_pad_then_same_is_full():
    """01: 'Only a lopsided pad does, k/2 rows above and k/2-1 below (for 2x2: one row on top, none below)';
    SAME is PyTorch's padding="same" here, not a copy of its split."""
    import warnings

    X = examples.grid6_input()
    for k in (2, 4, 6):
        K = torch.randn(k, k, generator=torch.Generator().manual_seed(k), dtype=torch.float64)
        before, after = k // 2, k // 2 - 1
        lopsided = F.pad(X.double(), (before, after, before, after))
        with warnings.catch_warnings():  # torch warns that an even kernel's "same" padding is lopsided
            warnings.simplefilter("ignore")
            same = F.conv2d(lopsided[None, None], K[None, None], padding="same")[0, 0]
        torch.testing.assert_close(same, _full(X.double(), K))
    assert "$k/2$ rows above and $k/2-1$ below (for 2×2: one row on top, none below)" in markdown("md-full-same")


def _one_pixel_moves() -> list[tuple[str, str, int, int, float, float]]:
    moves = []
    for image, kernel in itertools.product(cw.SHIFT_IMAGES, cw.SHIFT_KERNELS):
        for dy, dx in itertools.product((-1, 0, 1), repeat=2):
            if (dy, dx) != (0, 0):
                state = cw.shift_state(image, kernel, dy, dx)
                moves.append((image, kernel, dy, dx, state.feature_similarity, state.pooled_similarity))
    return moves


def test_pooling_raises_the_overlap_usually_and_the_counterexample_has_the_texts_numbers():
    moves = _one_pixel_moves()
    higher = [m for m in moves if m[5] > m[4]]
    lower = [m for m in moves if m[5] < m[4]]
    both_zero = [m for m in moves if m[4] == m[5] == 0]
    assert (len(moves), len(higher)) == (120, 110)
    assert sorted(m[1] for m in lower) == ["blur", "left_sobel", "outline"]
    assert all(m[0] == "edge 7x6" and m[2:4] == (1, 0) for m in lower), "each moves the edge one row down"
    assert len(both_zero) == 7 and len(lower) + len(both_zero) == 10
    outline = next(m for m in lower if m[1] == "outline")
    text = markdown("md-shift")
    assert f"`outline` overlaps by {outline[4]:.2f} before pooling and {outline[5]:.2f} after" in text
    assert "110 of the 120 one-pixel" in text and "other 7 exceptions both overlaps are 0" in text


def test_the_kernel_gallery_figure_shows_what_its_caption_says():
    settings = figures.KERNEL_GALLERY_FIGURE
    gallery = cw.KernelGallery()
    state = gallery.set(**settings)
    photo = data.photo(gray=True, size=96).double()
    assert torch.equal(state.image, photo), "the figure's input is the photograph"
    assert torch.equal(state.kernel, kernels.get_kernel("left_sobel").double())
    expected = F.conv2d(photo[None, None], state.kernel[None, None])[0, 0]
    assert torch.allclose(gallery.displayed_output(), expected)
    assert f"`{settings['kernel']}` on the photograph, with and without ReLU" in markdown("md-gallery")


@pytest.mark.parametrize("cell_id", ["intro"])
def test_the_students_are_told_in_one_sentence_what_grading_switches_off(cell_id):
    text = markdown(cell_id)
    rule = text[text.index("**What you may use.**") :]
    for grader_detail in ("alias", "torch.ops", "thread", "subprocess"):
        assert grader_detail not in rule, f"{grader_detail!r}: the grader's details belong in README's security section"
    assert "When your work is graded they are switched off" in rule


def test_im2col_turns_the_worked_example_into_one_product():
    X, K = examples.arange3_single()
    cols = F.unfold(X[None, None], kernel_size=2)[0]
    assert cols.shape == (4, 4) and cols[:, 0].tolist() == [0, 1, 3, 4]  # the first window, as a column
    assert (K.reshape(1, -1) @ cols).flatten().tolist() == [19, 25, 37, 43]
    assert "one product gives 19, 25, 37, 43" in markdown("md-im2col")


def test_im2col_holds_each_number_k_squared_times_at_stride_1_and_about_that_over_s_squared():
    for k, side in itertools.product((1, 3, 5, 7), (7, 31)):
        X = torch.zeros(2, 3, side, side)
        cols = F.unfold(X, kernel_size=k, padding=(k - 1) // 2)
        assert cols.numel() == k * k * X.numel()
    X = torch.zeros(100, 3, 31, 31)  # the text's CS231n batch, stride 2
    ratio = F.unfold(X, kernel_size=3, padding=1, stride=2).numel() / X.numel()
    assert abs(ratio - 9 / 4) / (9 / 4) < 0.1, ratio
    text = markdown("md-memory")
    assert "exactly $k_h k_w$ windows" in text and "9 times for a 3×3 kernel" in text and "about $s^2$" in text


@pytest.mark.skipif(not torch.backends.mkldnn.is_available(), reason="PyTorch built without oneDNN")
def test_f_conv2d_calls_onednn_in_float32_and_im2col_in_float64():
    from torch.profiler import profile

    from course_utils import timing

    for side in (8, 128):  # the plot's smallest and largest batches
        called = {}
        for dtype in (torch.float32, torch.float64):
            X, W, b = timing.conv_case(side, dtype=dtype)
            with profile() as prof:
                F.conv2d(X, W, b)
            called[dtype] = {event.name for event in prof.events()}
        assert "aten::mkldnn_convolution" in called[torch.float32]
        assert "aten::_slow_conv2d_forward" in called[torch.float64]
        assert "aten::mkldnn_convolution" not in called[torch.float64]
    text = markdown("md-frameworks")
    assert "`aten::mkldnn_convolution`" in text and "`aten::_slow_conv2d_forward`" in text


def test_unfold_and_as_strided_which_the_text_allows_pass_both_guards():
    """ "What you may use" allows Tensor.unfold, F.unfold and as_strided: the students' guard lets them through, and
    no op they reach (im2col, unfold, as_strided) matches the grading sandbox's conv ban."""
    from autograder.sandbox.bans import banned_ops
    from course_utils.checks import forbid

    X = torch.randn(2, 3, 6, 6, dtype=torch.float64)
    with forbid("conv"):
        cols = F.unfold(X, 3, padding=1, stride=2)
        windows = X.unfold(2, 3, 1).unfold(3, 3, 1)
        view = X.as_strided((2, 3, 4, 4, 3, 3), (108, 36, 6, 1, 6, 1))
    assert cols.shape == (2, 27, 9) and torch.equal(windows, view)
    banned = {name.split("::")[1].split(".")[0] for name in banned_ops("conv")}
    assert banned and not banned & {"im2col", "col2im", "unfold", "unfold_copy", "as_strided", "mm", "bmm", "matmul"}
    for allowed in ("`Tensor.unfold`", "`F.unfold`", "`as_strided`"):
        assert allowed in markdown("intro")


def _question_cells() -> list[tuple[str, str, str]]:
    """(variable, the answer cell's solution value, the test cell's source) for each of 01's questions."""
    cells = nbformat.read(NOTEBOOK, as_version=4).cells
    found = []
    for i, cell in enumerate(cells):
        if cell.id.startswith("answer-"):
            solution = re.search(r"### BEGIN SOLUTION\n(\w+) = (.*)\n### END SOLUTION", cell.source)
            found.append((solution.group(1), solution.group(2), cells[i + 1].source))
    return found


def test_each_question_checks_its_form_then_its_value_and_teaches_each_hinted_mistake():
    import course_utils as cu

    questions = _question_cells()
    assert [q[0] for q in questions] == [
        "conv_params",
        "conv_macs",
        "stacked_kernel_shape",
        "twice_diff_kernel",
        "im2col_copies",
    ]
    for variable, value, test_source in questions:
        namespace = {"torch": torch, "F": F, "cu": cu}
        right = eval(value)
        exec(test_source, {**namespace, variable: right})  # the solution's answer passes, computed by PyTorch
        with pytest.raises(NotImplementedError):  # a fresh copy: the answer is still `...`
            exec(test_source, {**namespace, variable: ...})
        with pytest.raises(AssertionError, match="should be"):  # a wrong form fails the visible part
            exec(test_source, {**namespace, variable: "five"})
        hints = re.search(r"hints=\{(.*?)\n    \},", test_source, re.S).group(1)
        wrong_answers = [eval(key) for key in re.findall(r"^\s+(.+?): \"", hints, re.M)]
        assert len(wrong_answers) >= 3, variable
        unhinted = {int: 987654, tuple: (99, 99), list: [9, 9, 9]}[type(right)]
        with pytest.raises(cu.checks.CheckFailure) as failure:
            exec(test_source, {**namespace, variable: unhinted})
        why = str(failure.value).removeprefix(f"{variable} = {unhinted!r} is not right. ")
        assert len(why) > 80, why  # the reasoning that gives the right answer
        for wrong in wrong_answers:
            wrong = list(wrong) if isinstance(right, list) else wrong
            with pytest.raises(cu.checks.CheckFailure) as failure:
                exec(test_source, {**namespace, variable: wrong})
            message = str(failure.value)
            hint = message.removeprefix(f"{variable} = {wrong!r} is not right. ").removesuffix(f" {why}")
            assert message.endswith(why) and hint and hint != why, message  # its own hint, then the why
