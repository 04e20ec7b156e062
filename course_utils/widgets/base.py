"""The pattern every widget of the course follows: controls, a pure compute step, a redraw.

A subclass defines ``make_controls()`` (name -> ipywidgets control), ``compute(**values)`` (pure:
control values in, a state dataclass out; testable without a screen), ``build_figure()`` (creates
the figure and all its artists once) and ``draw(state)`` (updates those artists). The base class
wires them: any control change runs compute -> draw -> PNG refresh, errors show in an Output
instead of vanishing, ``set(**values)`` changes several controls with one update, and
``render_naive(**values)`` is the slow path (a new figure per change) the benchmark compares with.
"""

from __future__ import annotations

import time
from typing import Any

import ipywidgets as widgets
from matplotlib.figure import Figure

from course_utils.plotting import FigureImage, figure_to_png


class CourseWidget:
    """Base class: subclasses implement make_controls, compute, build_figure and draw."""

    def __init__(self) -> None:
        self.controls: dict[str, widgets.Widget] = self.make_controls()
        self.errors = widgets.Output()
        self.figure_image = FigureImage(self.build_figure())
        self.state: Any = None
        self.last_update_ms: float = 0.0
        self._holding = False
        for control in self.controls.values():
            control.observe(self._on_change, names="value")
        self.update()

    # --- to implement -------------------------------------------------------------------------
    def make_controls(self) -> dict[str, widgets.Widget]:
        raise NotImplementedError

    def compute(self, **values: Any) -> Any:
        raise NotImplementedError

    def build_figure(self) -> Figure:
        raise NotImplementedError

    def draw(self, state: Any) -> None:
        raise NotImplementedError

    def layout(self) -> widgets.Widget:
        """Controls above the figure, errors below; override for another arrangement."""
        return widgets.VBox([widgets.HBox(list(self.controls.values()), layout=widgets.Layout(flex_flow="row wrap")),
                             self.figure_image.image, self.errors])

    # --- the wiring ---------------------------------------------------------------------------
    @property
    def figure(self) -> Figure:
        return self.figure_image.figure

    @property
    def widget(self) -> widgets.Widget:
        if not hasattr(self, "_widget"):
            self._widget = self.layout()
        return self._widget

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)

    def values(self) -> dict[str, Any]:
        return {name: control.value for name, control in self.controls.items()}

    def before_compute(self, values: dict[str, Any]) -> None:
        """Hook to keep controls consistent (e.g. a slider's max) before computing; may edit values."""

    def update(self) -> Any:
        """Compute from the current control values, redraw, refresh the image; return the state."""
        start = time.perf_counter()
        self.errors.outputs = ()
        try:
            values = self.values()
            self._holding, was_holding = True, self._holding
            try:
                self.before_compute(values)
            finally:
                self._holding = was_holding
            self.state = self.compute(**self.values())
            self.draw(self.state)
            self.figure_image.refresh()
        except Exception as exc:  # shown to the student in the widget, not swallowed
            self.errors.append_stdout(f"{type(exc).__name__}: {exc}\n")
            raise
        finally:
            self.last_update_ms = (time.perf_counter() - start) * 1000
        return self.state

    def _on_change(self, change: dict) -> None:
        if self._holding:
            return
        try:
            self.update()
        except Exception:  # already shown in self.errors; a callback must not raise into the kernel
            pass

    def set(self, **values: Any) -> Any:
        """Set several controls at once with a single update; returns the new state."""
        unknown = set(values) - set(self.controls)
        if unknown:
            raise ValueError(f"unknown control(s) {sorted(unknown)}; controls: {sorted(self.controls)}")
        self._holding = True
        try:
            for name, value in values.items():
                self.controls[name].value = value
            # limits may depend on other controls (a slider's max on the mode): set again after them
            self.before_compute(self.values())
            for name, value in values.items():
                self.controls[name].value = value
        finally:
            self._holding = False
        return self.update()

    def render_naive(self, **values: Any) -> bytes:
        """The slow path: a brand-new figure for the same state, rendered to PNG and dropped."""
        current = self.values()
        current.update(values)
        state = self.compute(**current)
        keep = self.figure_image.figure
        fig = self.build_figure()
        self.figure_image.figure = fig
        try:
            self.draw(state)
            return figure_to_png(fig)
        finally:
            self.figure_image.figure = keep
            self._artists_by_figure.pop(id(fig), None)
            self.rebind(keep)

    def rebind(self, fig: Figure) -> None:
        """Point the artists back at `fig` after render_naive built another; subclasses that keep
        artists as attributes store them per figure (see ``artists``)."""
        self.artists = self._artists_by_figure[id(fig)]

    # artists per figure, so render_naive can build a throwaway figure without losing ours
    @property
    def _artists_by_figure(self) -> dict[int, Any]:
        if not hasattr(self, "_artist_store"):
            self._artist_store = {}
        return self._artist_store

    def keep_artists(self, fig: Figure, artists: Any) -> Any:
        """Record `artists` as the drawing handles of `fig` and make them current."""
        self._artists_by_figure[id(fig)] = artists
        self.artists = artists
        return artists
