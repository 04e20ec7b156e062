"""Every widget's redraw of what changed is pixel-identical to a full draw and to a brand-new figure.

The changes are benchmarks/widgets.py's (what a student does with each widget); the brand-new figure is
its naive path. A stale artist left behind, or one not redrawn, shows up as a pixel difference.
"""

from __future__ import annotations

import importlib.util
import io

import numpy as np
import pytest
from PIL import Image

from conftest import ROOT
from course_utils.plotting import figure_to_png

# every widget drawn several times over (about 60 s of CPU): in make test, not in make test-fast
pytestmark = pytest.mark.slow


def _benchmark():
    spec = importlib.util.spec_from_file_location("benchmark_widgets", ROOT / "benchmarks" / "widgets.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


BENCHMARK = _benchmark()
CASES = {name: (factory, changes) for name, factory, changes in BENCHMARK.cases()}


def _pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)))


@pytest.mark.parametrize("name", list(CASES))
def test_incremental_redraw_matches_a_full_one_and_a_new_figure(name):
    factory, changes = CASES[name]
    widget = factory()
    for values in changes[:12] + changes[-6:]:  # the first steps, then the last ones (options, other shapes)
        widget.set(**values)
    shown = _pixels(widget.figure_image.image.value)
    assert np.array_equal(shown, _pixels(figure_to_png(widget.figure))), f"{name}: partial redraw != full draw"
    assert np.array_equal(shown, _pixels(BENCHMARK.render_naive(widget))), f"{name}: redraw != a new figure"


def _visible_texts(figure) -> list:
    """The texts matplotlib draws: visible, not empty, on a visible axes, not a tick label beyond the limits."""
    from matplotlib.text import Text

    hidden = set()
    for ax in figure.axes:
        for axis in (ax.xaxis, ax.yaxis):
            low, high = sorted(axis.get_view_interval())
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                if not low - 1e-9 * (high - low) <= tick.get_loc() <= high + 1e-9 * (high - low):
                    hidden |= {id(tick.label1), id(tick.label2)}
    return [
        t
        for t in figure.findobj(Text)
        if id(t) not in hidden and t.get_visible() and t.get_text() and (t.axes is None or t.axes.get_visible())
    ]


def _text_problems(figure) -> list[str]:
    """Texts smaller than 10 px, and texts cut by the figure's edge (the PNG ends there)."""
    renderer = figure.canvas.get_renderer()
    problems = []
    for text in _visible_texts(figure):
        px = text.get_fontsize() * figure.dpi / 72
        if px < 10:
            problems.append(f"{text.get_text()!r} is {px:.1f} px")
        box = text.get_window_extent(renderer)
        if box.x0 < -1 or box.y0 < -1 or box.x1 > figure.bbox.x1 + 1 or box.y1 > figure.bbox.y1 + 1:
            problems.append(f"{text.get_text()!r} is cut by the figure's edge ({box.bounds})")
    return problems


@pytest.mark.parametrize("name", list(CASES))
def test_every_text_is_at_least_10_pixels_and_inside_the_figure(name):
    factory, changes = CASES[name]
    widget = factory()
    for values in [{}, *changes]:
        widget.set(**values)
        assert not _text_problems(widget.figure), f"{name} after {values}: {_text_problems(widget.figure)[:5]}"
