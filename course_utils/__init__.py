"""Helpers shared by every notebook of cnn-course: ``import course_utils as cu``.

Modules: ``data`` (images and Fashion-MNIST), ``examples`` (the source posts' worked examples),
``kernels`` (named kernels), ``oracles`` (PyTorch's answer to each exercise), ``plotting``
(matrices with their numbers, windows, feature-map grids), ``gradcheck`` (numerical gradient
checks), ``training`` (device, threads, seeds, Fashion-MNIST tensors, recipes and
the ``fit`` driver for 06), ``checks`` (assertions and the
forbidden-op guard used by the graded tests), ``shapes`` (``pair``: an int or an ``(h, w)`` pair, as
topic 02 has students write it), ``figures`` (pictures without controls, and the static
PNGs of each topic: ``python -m course_utils.figures``), ``widgets.<topic>`` (each topic's widgets).
Importing the package has no side effects: no seeds are set and nothing is downloaded. ``plotting``
and ``figures`` (and so matplotlib) are imported on first use: the grader and the tests that draw
nothing start faster.
"""

import importlib
from importlib.metadata import version

from course_utils import checks, data, examples, gradcheck, kernels, oracles, self_study, shapes, training
from course_utils.self_study import practice
from course_utils.shapes import pair


def __getattr__(name: str):
    if name in ("plotting", "figures"):
        return importlib.import_module(f"course_utils.{name}")
    raise AttributeError(f"module 'course_utils' has no attribute {name!r}")


__all__ = [
    "checks",
    "data",
    "examples",
    "figures",
    "gradcheck",
    "kernels",
    "oracles",
    "pair",
    "plotting",
    "practice",
    "self_study",
    "shapes",
    "training",
]
__version__ = version("cnn-course")  # the one version string is pyproject.toml's
