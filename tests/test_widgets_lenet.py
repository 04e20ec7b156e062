"""06's widgets driven headless on a small network defined here (not the exercise's LeNet)."""

from __future__ import annotations

import ipywidgets
import pytest
import torch
from torch import nn

from course_utils import data, training
from course_utils.widgets import lenet as lw


@pytest.fixture(scope="module")
def small():
    torch.manual_seed(0)
    net = nn.Sequential(
        nn.Conv2d(1, 4, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(4, 30, 3),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(30 * 11 * 11, 10),
    )
    X, y = training.fashion_mnist("test", normalize=True, subset=300, seed=1)
    return net, X, y


def test_layer_shapes_follow_each_layer(small):
    net, X, _ = small
    rows = lw.layer_shapes(net)
    x = torch.zeros(1, 1, 28, 28)
    for (name, shape, params), layer in zip(rows, net):
        x = layer(x)
        assert shape == tuple(x.shape) and params == sum(p.numel() for p in layer.parameters()), name
    html = lw.shape_table(net).data
    assert f"{sum(p.numel() for p in net.parameters()):,}" in html and "(1, 30, 11, 11)" in html


def test_feature_maps_are_the_layers_outputs(small):
    net, X, y = small
    viewer = lw.FeatureMapViewer(net, X, y)
    assert len(viewer.layers) == 5  # conv, relu, pool, conv, relu: the layers whose output is still an image
    viewer.set(image=7, layer=viewer.layers[3])
    out = net[:4](X[7:8])[0].detach()
    shown = viewer.displayed_maps()
    assert len(shown) == lw.MAX_MAPS and all(torch.allclose(s.float(), o) for s, o in zip(shown, out))
    assert "of 30" in viewer.artists["title"].get_text()
    viewer.set(layer=viewer.layers[0])
    assert len(viewer.displayed_maps()) == 4
    assert viewer.artists["ax_in"].get_title() == f"input: {data.CLASS_NAMES[int(y[7])]}"


def test_confusion_matrix_and_most_confident_mistakes(small):
    net, X, y = small
    view = lw.MistakesView(net, X, y)
    with torch.no_grad():
        probabilities = torch.softmax(net.eval()(X), dim=1)
    predicted = probabilities.argmax(1)
    counts = torch.bincount(y * 10 + predicted, minlength=100).reshape(10, 10)
    assert torch.equal(view.displayed_confusion(), counts.double())
    for true_class in (lw.ALL, "Shirt"):
        state = view.set(true_class=true_class)
        wrong = [
            i
            for i in range(len(y))
            if predicted[i] != y[i] and (true_class == lw.ALL or data.CLASS_NAMES[int(y[i])] == true_class)
        ]
        confidence = probabilities.max(1).values
        expected = sorted(wrong, key=lambda i: -float(confidence[i]))[: lw.WORST]
        assert [float(confidence[i]) for i in state.worst] == pytest.approx([float(confidence[i]) for i in expected])
        assert set(state.worst) <= set(wrong)
        shown = [ax for ax in view.artists["axes"] if ax.get_visible()]
        assert len(shown) == len(expected)
    assert view.artists["row"].position == (data.CLASS_NAMES.index("Shirt"), 0, 1, 10)


def test_optimizer_curves_smooth_with_a_moving_average():
    runs = [lw.Run("SGD", 0.1, [3.0, 1.0, 2.0, 0.0, 1.0], 0.5, 1.0), lw.Run("Adam", 1e-3, [1.0] * 5, 0.8, 1.0)]
    widget = lw.OptimizerCurves(runs)
    widget.set(smoothing=2)
    curves = widget.displayed_curves()
    assert curves["SGD"] == pytest.approx([2.0, 1.5, 1.0, 0.5]) and curves["Adam"] == pytest.approx([1.0] * 4)
    widget.set(SGD=False)
    assert list(widget.displayed_curves()) == ["Adam"]
    assert [widget.controls[name].icon for name in ("SGD", "Adam")] == ["", "check"]
    widget.controls["SGD"].value = True  # a click on its toggle brings the curve back
    assert list(widget.displayed_curves()) == ["SGD", "Adam"]


def test_optimizer_curves_are_chosen_with_toggles_not_a_ctrl_click_list():
    runs = [lw.Run(name, 0.1, [1.0, 0.5], 0.5, 1.0) for name in lw.COMPARISON_LRS]
    widget = lw.OptimizerCurves(runs)
    assert not any(isinstance(c, ipywidgets.SelectMultiple) for c in widget.controls.values())
    toggles = [c for c in widget.controls.values() if isinstance(c, ipywidgets.ToggleButton)]
    assert [t.description for t in toggles] == list(lw.COMPARISON_LRS) and all(t.value for t in toggles)


def test_training_monitor_plots_what_fit_reports():
    monitor = lw.TrainingMonitor(epochs=2)
    for i in range(1, 5):
        monitor.losses(torch.randn(3, 10), torch.tensor([1, 2, 3]))
        monitor.on_batch(i, 4)
    assert monitor.bar.value == 4 and monitor.bar.max == 4
    monitor.on_epoch(training.Epoch(1, 1.2, 0.5, 0.6, 3.0))
    monitor.on_epoch(training.Epoch(2, 0.8, 0.7, 0.75, 6.0))
    assert monitor.displayed_accuracy() == ([0.5, 0.7], [0.6, 0.75])
    assert list(monitor.loss_line.get_ydata()) == monitor.losses.losses and len(monitor.losses.losses) == 4
    assert monitor.bar.description == "done"


def test_training_monitor_keeps_drawing_under_5_percent_of_training_time(monkeypatch):
    """A loaded machine: each redraw costs 0.2 s, each batch 50 ms; the monitor still redraws, but rarely."""
    clock = [0.0]
    monkeypatch.setattr(lw.time, "perf_counter", lambda: clock[0])
    monitor = lw.TrainingMonitor(epochs=1)

    def slow_refresh():
        clock[0] += 0.2

    monkeypatch.setattr(monitor.image, "refresh", slow_refresh)
    for batch in range(1, 1001):
        clock[0] += 0.05
        monitor.losses.losses.append(1.0)
        monitor.on_batch(batch, 1000)
    assert monitor.draw_seconds / (1000 * 0.05) < 0.05, (monitor.draw_seconds, monitor.redraws)
    assert monitor.redraws >= 4 and monitor.loss_line.get_xdata()[-1] == 1000
    assert monitor.ax_loss.get_xlim() == (0, 1000) and monitor.bar.value == 1000
