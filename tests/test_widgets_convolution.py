"""Plotting helpers and the 01_convolution widgets, driven headless: what is displayed equals torch's result."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from conftest import ROOT
from course_utils import data, kernels
from course_utils.plotting import FigureImage, MatrixView, WindowHighlight, figure_to_png, new_figure
from course_utils.widgets import convolution as cw

EXAMPLE_POST000 = "6x6 input, 3x3 filter"
EXAMPLE_POST003 = "3x3 input 0…8, 2x2 kernel 0…3"


def _torch_corr(X, K, mode):
    """Independent oracle: F.conv2d with PyTorch's own padding argument."""
    padding = {"valid": 0, "same": "same", "full": (K.shape[0] - 1, K.shape[1] - 1)}[mode]
    return F.conv2d(X[None, None].double(), K[None, None].double(), padding=padding)[0, 0]


def _pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png))).astype(int)


# --- plotting -----------------------------------------------------------------------------------


def test_matrix_view_writes_the_numbers_and_updates_in_place():
    fig = new_figure(3, 3)
    view = MatrixView(fig.add_subplot(), torch.tensor([[1.0, -2.0], [3.5, float("nan")]]))
    assert view.texts() == [["1", "-2"], ["3.50", ""]]
    ids = [id(t) for t in view._texts]
    view.update(torch.tensor([[5.0, 6.0], [7.0, 8.0]]))
    assert view.texts() == [["5", "6"], ["7", "8"]] and [id(t) for t in view._texts] == ids
    view.update(torch.arange(6.0).reshape(2, 3))
    assert view.texts() == [["0", "1", "2"], ["3", "4", "5"]]
    assert torch.equal(view.values(), torch.arange(6.0, dtype=torch.float64).reshape(2, 3))
    big = MatrixView(fig.add_subplot(2, 1, 1), torch.zeros(30, 30))
    assert big.texts() == []


def test_window_highlight_moves_and_png_renders():
    fig = new_figure(3, 3)
    ax = fig.add_subplot()
    MatrixView(ax, torch.zeros(4, 4))
    window = WindowHighlight(ax, 0, 0, 2, 2)
    window.move(1, 2, 3, 1)
    assert window.position == (1, 2, 3, 1)
    assert figure_to_png(fig).startswith(b"\x89PNG")


# --- shifting the input (why convolution) ------------------------------------------------------


def _moved(X, dy, dx):
    """Independent of cw.shift_image: pad on one side, crop the other (zeros come in)."""
    H, W = X.shape
    padded = F.pad(X, (max(dx, 0), max(-dx, 0), max(dy, 0), max(-dy, 0)))
    return padded[max(-dy, 0) : max(-dy, 0) + H, max(-dx, 0) : max(-dx, 0) + W]


@pytest.mark.parametrize("dy, dx", [(0, 0), (0, 1), (1, 0), (-2, 3), (3, -3)])
def test_shift_image_moves_and_fills_with_zeros(dy, dx):
    X = torch.arange(1.0, 31.0).reshape(5, 6)
    assert torch.equal(cw.shift_image(X, dy, dx), _moved(X, dy, dx))


@pytest.mark.parametrize("image", list(cw.SHIFT_IMAGES))
@pytest.mark.parametrize("kernel", ["left_sobel", "outline", "diag"])
@pytest.mark.parametrize("dy, dx", [(0, 1), (1, 1), (-3, 2)])
def test_shift_explorer_displays_torchs_maps_and_they_move_with_the_input(image, kernel, dy, dx):
    explorer = cw.ShiftExplorer()
    explorer.set(image=image, kernel=kernel, dy=dy, dx=dx)
    shown = explorer.displayed_maps()
    X = cw.SHIFT_IMAGES[image]()
    K = kernels.get_kernel(kernel, torch.float64)[None, None]
    feature = F.relu(F.conv2d(X[None, None], K))
    feature_moved = F.relu(F.conv2d(_moved(X, dy, dx)[None, None], K))
    assert torch.allclose(shown["feature"], feature[0, 0])
    assert torch.allclose(shown["feature_shifted"], feature_moved[0, 0])
    assert torch.allclose(shown["pooled"], F.max_pool2d(feature, 2)[0, 0])
    assert torch.allclose(shown["pooled_shifted"], F.max_pool2d(feature_moved, 2)[0, 0])
    # equivariance: the map of the moved input is the moved map (the canvas keeps the picture inside)
    assert torch.allclose(feature_moved[0, 0], _moved(feature[0, 0], dy, dx))
    assert explorer.state.equivariance_error == 0 and "exactly" in explorer.caption.value


def test_max_pooling_keeps_more_of_the_map_in_place_than_the_feature_map():
    """A one-pixel shift moves the thin responses of an edge kernel off their cells; 2x2 max pooling keeps most."""
    for image in cw.SHIFT_IMAGES:
        state = cw.shift_state(image, "left_sobel", 0, 1)
        assert state.pooled_similarity > state.feature_similarity, (
            image,
            state.feature_similarity,
            state.pooled_similarity,
        )
    unmoved = cw.shift_state("X 9x9", "outline", 0, 0)
    assert unmoved.feature_similarity == pytest.approx(1.0) and unmoved.pooled_similarity == pytest.approx(1.0)


# --- sliding window -----------------------------------------------------------------------------


def test_explorer_starts_on_post_003_with_its_equation():
    explorer = cw.SlidingWindowExplorer()
    assert "0×0 + 1×1 + 3×2 + 4×3 = 19" in explorer.equation.value
    shown = explorer.displayed_output()
    assert shown[0, 0] == 19 and torch.isnan(shown[0, 1]) and torch.isnan(shown[1, 1])


@pytest.mark.parametrize("mode", ["valid", "same", "full"])
@pytest.mark.parametrize("example", [EXAMPLE_POST003, EXAMPLE_POST000])
def test_explorer_displays_torchs_output(example, mode):
    explorer = cw.SlidingWindowExplorer()
    X, K = cw.EXAMPLES[example]()
    expected = _torch_corr(X, K, mode)
    last = expected.numel() - 1
    explorer.set(example=example, mode=mode, step=last)
    assert explorer.controls["step"].max == last
    assert torch.allclose(explorer.displayed_output(), expected)
    explorer.set(relu=True)
    assert torch.allclose(explorer.displayed_output(), expected.clamp(min=0))


def test_explorer_step_through_the_observe_path():
    explorer = cw.SlidingWindowExplorer()
    explorer.controls["example"].value = EXAMPLE_POST000  # as a click would, one control at a time
    explorer.controls["step"].value = 5
    X, K = cw.EXAMPLES[EXAMPLE_POST000]()
    expected = _torch_corr(X, K, "valid")
    shown = explorer.displayed_output()
    assert torch.allclose(shown.flatten()[:6], expected.flatten()[:6]) and torch.isnan(shown.flatten()[6:]).all()
    row, col = divmod(5, 4)
    window = X[row : row + 3, col : col + 3].double() * K.double()
    assert explorer.state.value == pytest.approx(float(window.sum()))
    assert explorer.equation.value.endswith(f"= {int(expected[row, col])}</code>")
    explorer.controls["mode"].value = "full"
    assert explorer.controls["step"].max == 63


# --- kernel gallery -----------------------------------------------------------------------------

GALLERY_IMAGES = [*data.SYNTHETIC_IMAGES, cw.PHOTO]
GALLERY_KERNELS = ["diff_x", "diff_y", "diag", "top_sobel", "blur", "outline"]
GALLERY_CASES = [(kernel, image) for image in GALLERY_IMAGES for kernel in GALLERY_KERNELS]
# the fast tier: each kernel once, on the images in turn
GALLERY_FAST = {(kernel, GALLERY_IMAGES[j % len(GALLERY_IMAGES)]) for j, kernel in enumerate(GALLERY_KERNELS)}


@pytest.mark.parametrize(
    "kernel,image",
    [case if case in GALLERY_FAST else pytest.param(*case, marks=pytest.mark.slow) for case in GALLERY_CASES],
)
def test_gallery_displays_torchs_feature_map(image, kernel):
    gallery = cw.KernelGallery()
    gallery.set(image=image, kernel=kernel)
    picture = data.SYNTHETIC_IMAGES[image]() if image in data.SYNTHETIC_IMAGES else data.photo(size=96)
    expected = _torch_corr(picture, kernels.get_kernel(kernel), "valid")
    assert torch.allclose(gallery.displayed_output(), expected, atol=1e-4)
    assert torch.allclose(gallery.displayed_relu(), expected.clamp(min=0), atol=1e-4)


def test_gallery_edge_image_with_diff_x_finds_the_single_edge():
    gallery = cw.KernelGallery()
    gallery.set(image="edge 7x6", kernel="diff_x")
    shown = gallery.displayed_output()
    assert torch.equal(shown[:, 2], torch.full((7,), 255.0, dtype=torch.float64))
    assert shown.abs().sum() == 255 * 7


def _grid(gallery) -> list[list[float]]:
    return [[gallery.controls[f"k{r}{c}"].value for c in range(3)] for r in range(3)]


@pytest.mark.parametrize("kernel", ["outline", "blur", "left_sobel", "diff_x", "diag"])
def test_gallery_grid_shows_the_chosen_kernel(kernel):
    gallery = cw.KernelGallery()
    gallery.controls["kernel"].value = kernel  # as a student picks it from the menu
    expected = torch.zeros(3, 3)
    named = kernels.get_kernel(kernel)
    expected[: named.shape[0], : named.shape[1]] = named  # a smaller kernel at the top left, zeros around
    assert _grid(gallery) == expected.tolist()


def test_gallery_edit_of_a_named_kernel_switches_to_custom_and_flows_through():
    gallery = cw.KernelGallery()
    gallery.set(image="X 9x9", kernel="outline")
    gallery.controls["k11"].value = 2.0  # typing into the centre box while "outline" is chosen
    assert gallery.controls["kernel"].value == cw.CUSTOM
    K = torch.tensor([[-1.0, -1.0, -1.0], [-1.0, 2.0, -1.0], [-1.0, -1.0, -1.0]])
    assert _grid(gallery) == K.tolist()
    assert torch.allclose(gallery.displayed_output(), _torch_corr(data.x_image(), K, "valid"))
    gallery.controls["k00"].value = 0.0  # a second edit stays custom, on top of the first
    K[0, 0] = 0.0
    assert torch.allclose(gallery.displayed_output(), _torch_corr(data.x_image(), K, "valid"))
    gallery.controls["kernel"].value = "blur"  # back to a named kernel: its values, whatever was typed
    assert _grid(gallery) == [[0.0625, 0.125, 0.0625], [0.125, 0.25, 0.125], [0.0625, 0.125, 0.0625]]
    assert torch.allclose(gallery.displayed_output(), _torch_corr(data.x_image(), kernels.get_kernel("blur"), "valid"))


def test_gallery_shows_a_message_when_fashion_mnist_is_missing(monkeypatch, tmp_path):
    monkeypatch.setattr(data, "_CACHE", {})
    monkeypatch.setattr(data, "DEBIAN_DIR", tmp_path / "none")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("COURSE_DATA", raising=False)
    monkeypatch.setenv("COURSE_FASHION_MNIST_URL", "http://127.0.0.1:9/")
    gallery = cw.KernelGallery()
    state = gallery.set(image=cw.FASHION)
    assert state.output is None and "could not be downloaded" in state.message
    assert gallery.artists["message"].get_text() == state.message
    assert not gallery.artists["output"].ax.get_visible()


def test_an_error_in_an_update_is_shown_not_swallowed():
    gallery = cw.KernelGallery()
    gallery.controls["kernel"].options = [*gallery.controls["kernel"].options, "no such kernel"]
    gallery.controls["kernel"].value = "no such kernel"  # the observe path must not raise
    assert gallery.errors.outputs and "unknown kernel" in gallery.errors.outputs[0]["text"]
    gallery.controls["kernel"].value = "blur"
    assert gallery.errors.outputs == ()


# --- channels -----------------------------------------------------------------------------------


@pytest.mark.parametrize("mixing", list(cw.MIXINGS))
def test_channels_view_displays_one_map_per_output_channel(mixing):
    view = cw.ChannelsView()
    view.set(mixing=mixing, kernel="left_sobel")
    X = data.photo(gray=False, size=64).double()
    W = cw.MIXINGS[mixing].double()[:, :, None, None] * kernels.get_kernel("left_sobel", torch.float64)
    expected = F.conv2d(X[None], W)[0]
    shown = view.displayed_outputs()
    assert len(shown) == W.shape[0]
    for o in range(W.shape[0]):
        assert torch.allclose(shown[o].double(), expected[o], atol=1e-4)
    assert str(tuple(W.shape)) in view.caption.value


def test_sum_mixing_equals_summing_three_single_channel_maps():
    state = cw.channels_state("sum over R, G, B", "outline")
    K = kernels.get_kernel("outline", torch.float64)
    per_channel = sum(_torch_corr(state.X[c], K, "valid") for c in range(3))
    assert torch.allclose(state.Y[0], per_channel)


# --- the benchmark ------------------------------------------------------------------------------


@pytest.mark.slow  # every widget's benchmark, in a subprocess (~30 s)
def test_widget_benchmark_prints_one_json_line_with_every_widget():
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "widgets.py"), "--json", "--updates", "3"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1
    report = json.loads(lines[0])["widgets"]
    assert {"shift", "sliding_window", "kernel_gallery", "channels"} <= set(report)
    for figures in report.values():
        assert figures["median_ms"] > 0 and figures["naive_median_ms"] > 0 and figures["updates"] == 3


def test_figure_image_widget_holds_the_png():
    fig = new_figure(2, 2)
    MatrixView(fig.add_subplot(), torch.eye(2))
    image = FigureImage(fig)
    png = image.refresh()
    assert image.image.value == png and png.startswith(b"\x89PNG")
