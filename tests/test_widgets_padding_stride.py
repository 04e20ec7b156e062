"""02's explorers driven headless, checked against F.conv2d and against brute force written here.

The widgets find which cells are read through autograd; these tests find them by walking the
placements by hand, and find receptive fields by perturbing inputs, so the two never share code.
"""

from __future__ import annotations

import itertools

import pytest
import torch
import torch.nn.functional as F

from course_utils.widgets import padding_stride as ps
from course_utils.widgets.base import CUSTOM

GEOMETRIES = [  # H, W, kh, kw, ph, pw, sh, sw, dh, dw
    (5, 5, 2, 2, 1, 1, 2, 2, 1, 1),  # source post 004
    (5, 5, 2, 2, 0, 0, 2, 2, 1, 1),  # the floor drops real input
    (7, 6, 3, 2, 1, 2, 2, 3, 1, 1),
    (7, 7, 3, 3, 0, 0, 1, 1, 2, 2),  # dilation
    (7, 7, 2, 2, 0, 0, 2, 2, 2, 2),  # stride and dilation leave rows unread in between
    (3, 4, 2, 3, 1, 0, 3, 2, 1, 1),
    (6, 5, 4, 1, 2, 0, 4, 1, 1, 3),
]
NAMES = ("H", "W", "kh", "kw", "ph", "pw", "sh", "sw", "dh", "dw")


def _brute_force_reads(H, W, kh, kw, ph, pw, sh, sw, dh, dw):
    """Which padded cells some placement reads, and the top-left tap of every placement, by walking them."""
    Hp, Wp = H + 2 * ph, W + 2 * pw
    read = torch.zeros(Hp, Wp, dtype=torch.bool)
    anchors = []
    r = 0
    while r + dh * (kh - 1) < Hp:
        c = 0
        while c + dw * (kw - 1) < Wp:
            anchors.append((r, c))
            for i, j in itertools.product(range(kh), range(kw)):
                read[r + i * dh, c + j * dw] = True
            c += sw
        r += sh
    return read, anchors


@pytest.mark.parametrize("geometry", GEOMETRIES)
def test_explorer_shows_torchs_output_and_which_cells_are_read(geometry):
    values = dict(zip(NAMES, geometry))
    H, W, kh, kw, ph, pw, sh, sw, dh, dw = geometry
    widget = ps.ConvArithmeticExplorer()
    state = widget.set(**values, placement=0)
    X = torch.arange(H * W, dtype=torch.float64).reshape(1, 1, H, W)
    K = torch.arange(kh * kw, dtype=torch.float64).reshape(1, 1, kh, kw)
    expected = F.conv2d(X, K, stride=(sh, sw), padding=(ph, pw), dilation=(dh, dw))[0, 0]
    assert torch.equal(widget.displayed_output(), expected)
    assert widget.controls["placement"].max == expected.numel() - 1

    read, anchors = _brute_force_reads(*geometry)
    shown = widget.displayed_categories()
    assert shown.shape == (H + 2 * ph, W + 2 * pw)
    assert torch.equal(shown == ps.INPUT, read & _inside(H, W, ph, pw))
    assert torch.equal(shown == ps.PADDING, read & ~_inside(H, W, ph, pw))
    rows_read, cols_read = read.any(dim=1).nonzero(), read.any(dim=0).nonzero()
    after = torch.zeros_like(read)
    after[int(rows_read.max()) + 1 :] = True
    after[:, int(cols_read.max()) + 1 :] = True
    assert torch.equal(shown == ps.DROPPED, ~read & after)
    assert torch.equal(shown == ps.SKIPPED, ~read & ~after)
    assert sorted(widget.displayed_anchors()) == sorted(anchors)
    assert state.axes[0].torch_size == expected.shape[0] and state.axes[1].torch_size == expected.shape[1]


def _inside(H, W, ph, pw):
    inside = torch.zeros(H + 2 * ph, W + 2 * pw, dtype=torch.bool)
    inside[ph : ph + H, pw : pw + W] = True
    return inside


def test_post004_floor_never_reads_the_last_padded_row_and_column():
    widget = ps.ConvArithmeticExplorer()  # opens on source post 004: 5x5, kernel 2, stride 2, padding 1
    state = widget.state
    assert state.padded.shape == (7, 7) and state.output.shape == (3, 3)
    shown = widget.displayed_categories()
    assert (shown[6] == ps.DROPPED).all() and (shown[:, 6] == ps.DROPPED).all()
    assert (shown[:6, :6] != ps.DROPPED).all()
    assert [(a.never_read, a.lost) for a in state.axes] == [(1, 0), (1, 0)]
    assert "⌊(5 + 2·1 − 1·(2−1) − 1) / 2⌋ + 1 = ⌊5 / 2⌋ + 1 = 3" in widget.formula.value
    assert "PyTorch: 3 ✓" in widget.formula.value
    # without the padding the same floor loses a row and a column of real input
    state = widget.set(ph=0, pw=0)
    assert [(a.never_read, a.lost) for a in state.axes] == [(1, 1), (1, 1)]
    assert "1 row of input lost" in widget.formula.value


def test_padding_2_1_is_two_rows_on_both_sides_and_one_column_on_both_sides():
    widget = ps.ConvArithmeticExplorer()
    widget.preset.value = "padding=(2, 1), 5×5, kernel 3"
    state = widget.state
    assert state.padded.shape == F.pad(torch.ones(5, 5), (1, 1, 2, 2)).shape == (9, 7)
    shown = widget.displayed_categories()
    assert ((shown[:2] == ps.PADDING) | (shown[:2] == ps.DROPPED)).all()
    assert ((shown[-2:] == ps.PADDING) | (shown[-2:] == ps.DROPPED)).all()
    assert (shown[2:7, 1:6] == ps.INPUT).all()
    expected = F.conv2d(torch.arange(25.0).reshape(1, 1, 5, 5), torch.arange(9.0).reshape(1, 1, 3, 3), padding=(2, 1))
    assert torch.equal(widget.displayed_output(), expected[0, 0].double())


def test_each_placement_reads_its_taps_and_the_equation_gives_torchs_value():
    widget = ps.ConvArithmeticExplorer()
    widget.set(**dict(zip(NAMES, (7, 7, 2, 3, 1, 0, 2, 2, 2, 1))), placement=0)
    out = widget.state.output
    for placement in range(out.numel()):
        state = widget.set(placement=placement)
        row, col = divmod(placement, out.shape[1])
        taps = [(row * 2 + i * 2, col * 2 + j) for i in range(2) for j in range(3)]
        assert widget.displayed_taps() == taps
        value = sum(float(state.padded[t]) * k for t, k in zip(taps, range(6)))
        assert value == float(out[row, col])
        assert state.equation.endswith(f"= {ps.format_number(value)}")
        assert widget.equation.value == f"<code>{state.equation}</code>"


def test_a_kernel_too_large_shows_torchs_refusal_and_recovers():
    widget = ps.ConvArithmeticExplorer()
    state = widget.set(H=2, kh=4, ph=0, placement=0)
    assert state.output is None and "PyTorch refuses" in state.message
    assert "PyTorch refuses" in widget.formula.value
    assert not widget.artists["output"].ax.get_visible()
    with pytest.raises(RuntimeError):
        F.conv2d(torch.zeros(1, 1, 2, 5), torch.zeros(1, 1, 4, 2))
    state = widget.set(H=5)
    assert state.output is not None and widget.artists["output"].ax.get_visible()


def test_numbers_toggle_counts_how_often_each_cell_is_read():
    widget = ps.ConvArithmeticExplorer()
    widget.set(**dict(zip(NAMES, (5, 5, 3, 3, 0, 0, 1, 1, 1, 1))), numbers="times read")
    # times a cell is read = the transposed convolution of a map of ones with a kernel of ones
    ones = torch.ones(1, 1, 3, 3, dtype=torch.float64)
    expected = F.conv_transpose2d(ones, ones)
    assert torch.equal(widget.displayed_numbers(), expected[0, 0])
    widget.set(numbers="input values")
    assert torch.equal(widget.displayed_numbers(), torch.arange(25.0, dtype=torch.float64).reshape(5, 5))


def test_preset_menu_follows_the_sliders():
    widget = ps.ConvArithmeticExplorer()
    widget.set(sh=1)
    assert widget.preset.value == CUSTOM
    widget.preset.value = "4×4, kernel 2, stride (2, 2)"
    assert widget.state.output.shape == (2, 2)
    assert torch.equal(widget.displayed_output(), torch.tensor([[24.0, 36.0], [72.0, 84.0]], dtype=torch.float64))


def _depends_on(layers, size, unit):
    """Input cells that change unit (row, col) of the last map: perturb each cell, run the stack of F.conv2d."""
    base = torch.zeros(size * size, 1, size, size, dtype=torch.float64)
    base.view(size * size, -1)[torch.arange(size * size), torch.arange(size * size)] = 1.0  # one-hot inputs
    x = base
    for k, s in layers:
        x = F.conv2d(x, torch.ones(1, 1, k, k, dtype=torch.float64), stride=s)
    return (x[:, 0, unit[0], unit[1]] != 0).reshape(size, size)


@pytest.mark.parametrize(
    "layers", [[(3, 1)] * 3, [(3, 2)] * 3, [(5, 1), (2, 2), (3, 1), (2, 2)], [(2, 3), (2, 1)], [(1, 1), (1, 2), (1, 1)]]
)
def test_receptive_field_explorer_shows_the_units_a_unit_depends_on(layers):
    widget = ps.ReceptiveFieldExplorer()
    for unit in (0, 4, 8):
        state = widget.set(**ps.ReceptiveFieldExplorer.preset_values(layers), unit=unit)
        size = state.paths[0].shape[0]
        depends = _depends_on(layers, size, state.unit)
        assert torch.equal(widget.displayed_paths()[0] > 0, depends)
        rows, cols = depends.any(dim=1).nonzero(), depends.any(dim=0).nonzero()
        field = int(rows.max() - rows.min()) + 1
        assert field == int(cols.max() - cols.min()) + 1 == state.fields[-1]
        assert f"<b>{field}×{field}</b>" in widget.table.value
        assert widget.displayed_regions()[0] == (int(rows.min()), int(cols.min()), field, field)
    assert len(widget.displayed_paths()) == len(layers) + 1


def test_receptive_field_of_post001s_three_layers_grows_3_5_7():
    widget = ps.ReceptiveFieldExplorer()
    assert widget.state.fields == [1, 3, 5, 7]
    assert [r[2] for r in widget.displayed_regions()] == [7, 5, 3]
    widget.preset.value = "the ReLU LeNet of 06: conv 5, pool 2, conv 3, pool 2"
    assert widget.state.fields[-1] == 12
    widget.set(layers=2)
    assert widget.controls["k3"].disabled and not widget.controls["k2"].disabled
    assert widget.preset.value == CUSTOM
