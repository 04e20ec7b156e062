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
