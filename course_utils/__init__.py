"""Helpers shared by every notebook of cnn-course: ``import course_utils as cu``.

Modules: ``data`` (images and Fashion-MNIST), ``kernels`` (named kernels), ``plotting`` (matrices
with their numbers, windows, feature-map grids), ``checks`` (assertions and the forbidden-op
guard used by the graded tests), ``widgets.<topic>`` (each topic's interactive widgets).
Importing the package has no side effects: no seeds are set and nothing is downloaded.
"""

from course_utils import checks, data, kernels, plotting

__all__ = ["checks", "data", "kernels", "plotting"]
__version__ = "0.1.0"
