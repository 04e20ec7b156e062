"""The pattern every widget of the course follows: controls, a pure compute step, a redraw.

A widget hands its controls (name -> ipywidgets control) to ``CourseWidget.__init__`` and defines
``compute(**values)`` (pure: control values in, a state dataclass out; testable without a screen),
``build()`` (creates the figure and every artist the drawing touches, once, and returns both) and
``draw(state)`` (updates those artists from the state alone). Where a control follows the state (a
slider's range, a menu naming the current example), ``follow(state)`` sets it. Any control change runs
compute -> follow -> draw -> PNG refresh once, PyTorch on one thread; errors show in an Output instead
of vanishing; ``set(**values)`` changes several controls with one update. Where one control decides
another (an edit that switches a menu to "custom"), ``settle(values, changed)`` says so. A widget that
steps through an example names its step slider (``play=``): a Play button beside it walks the steps.

Also here: ``PresetMenu`` (a menu of named examples that follows the controls), ``play_button`` and
``single_thread``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Generic, TypeVar

import ipywidgets as widgets
import torch
from matplotlib.figure import Figure

from course_utils.plotting import FigureImage

StateT = TypeVar("StateT")
CUSTOM = "custom"  # what a PresetMenu shows when the controls match none of its examples
PLAY_INTERVAL_MS = 700  # between two steps of a Play button: time to read the step's numbers


class CourseWidget(Generic[StateT]):
    """Base class: subclasses pass their controls and implement compute, build and draw."""

    def __init__(
        self, controls: dict[str, widgets.Widget], captions: Sequence[widgets.Widget] = (), play: str | None = None
    ) -> None:
        """`captions`: widgets the default layout puts between the controls and the figure; `play`: the name
        of the slider that steps through an example, walked by the Play button ``self.play``."""
        self.controls = controls
        self.captions = list(captions)
        self.errors = widgets.Output()
        figure, self.artists = self.build()
        self.figure_image = FigureImage(figure)
        self._holding = False
        self._played = play
        self.play = play_button(controls[play]) if play is not None else None
        for name, control in controls.items():
            if isinstance(control, widgets.Dropdown) and control.layout.width is None:
                control.layout.width = "max-content"  # as wide as its longest choice: nothing cut
            control.observe(lambda change, name=name: self._on_change(name), names="value")
        self.state: StateT = self.update()

    # --- to implement -------------------------------------------------------------------------
    def compute(self, **values: Any) -> StateT:
        raise NotImplementedError

    def build(self) -> tuple[Figure, dict[str, Any]]:
        raise NotImplementedError

    def draw(self, state: StateT) -> None:
        raise NotImplementedError

    def follow(self, state: StateT) -> None:
        """Let controls follow the state (a slider's max, a menu's name); ipywidgets clamps the values."""

    def settle(self, values: dict[str, Any], changed: set[str]) -> dict[str, Any]:
        """The control values to compute from and show, given the names of the controls just changed (by the
        learner or ``set``; none for ``update``). Default: as they are."""
        return values

    def controls_row(self, names: Sequence[str] | None = None) -> widgets.HBox:
        """The controls `names` (default: all) in a row, the Play button before the slider it plays. Each keeps
        its own width (a squeezed toggle or menu cuts its text); what does not fit goes to the next line."""
        shown = []
        for name in self.controls if names is None else names:
            if name == self._played:
                shown.append(self.play)
            shown.append(self.controls[name])
        for control in shown:
            if control.layout.flex is None:
                control.layout.flex = "0 0 auto"
        return widgets.HBox(shown, layout=widgets.Layout(flex_flow="row wrap", align_items="center"))

    def layout(self) -> widgets.Widget:
        """Controls above the captions and the figure, errors below; override for another arrangement."""
        return widgets.VBox(
            [
                self.controls_row(),
                *self.captions,
                self.figure_image.image,
                self.errors,
            ]
        )

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

    def set(self, **values: Any) -> StateT:
        """Set several controls at once with a single update; returns the new state."""
        unknown = set(values) - set(self.controls)
        if unknown:
            raise ValueError(f"unknown control(s) {sorted(unknown)}; controls: {sorted(self.controls)}")
        return self._update({**self.values(), **values}, set(values))

    def update(self) -> StateT:
        """Compute from the current control values, redraw, refresh the image; return the state."""
        return self._update(self.values(), set())

    def _update(self, values: dict[str, Any], changed: set[str]) -> StateT:
        self.errors.outputs = ()
        try:
            with single_thread():  # compute and draw: tensors of a few dozen cells
                values = self.settle(values, changed)
                state = self.compute(**values)
                self._holding = True
                try:
                    self.follow(state)  # ranges first, so the values below fit them
                    for name, value in values.items():
                        if self.controls[name].value != value:
                            self.controls[name].value = value
                finally:
                    self._holding = False
                self.state = state
                self.draw(state)
            self.figure_image.refresh()
        except Exception as exc:  # shown to the student in the widget, not swallowed
            self.errors.append_stdout(f"{type(exc).__name__}: {exc}\n")
            raise
        return state

    def _on_change(self, name: str) -> None:
        if self._holding:
            return
        try:
            self._update(self.values(), {name})
        except Exception:  # already shown in self.errors; a callback must not raise into the kernel
            pass


class PresetMenu(widgets.Dropdown):
    """A menu of named examples that also follows the controls: choosing an example sets the
    controls through `apply`; `follow(current)` names the example the controls now show, or
    "custom", without applying anything."""

    def __init__(self, presets: dict, apply: Callable[[Any], Any], **kwargs: Any) -> None:
        layout = widgets.Layout(width="max-content", flex="0 0 auto")  # its whole name, never squeezed
        super().__init__(options=[*presets, CUSTOM], layout=layout, **kwargs)
        self._presets, self._apply, self._following = presets, apply, False
        self.observe(self._chosen, names="value")

    def _chosen(self, change: dict) -> None:
        if self._following or change["new"] == CUSTOM:
            return
        try:
            self._apply(self._presets[change["new"]])
        except Exception:  # already shown in the widget's errors; a callback must not raise into the kernel
            pass

    def follow(self, current: Any) -> None:
        name = next((n for n, preset in self._presets.items() if preset == current), CUSTOM)
        if self.value != name:
            self._following = True
            try:
                self.value = name
            finally:
                self._following = False


def play_button(slider: widgets.IntSlider, interval: int = PLAY_INTERVAL_MS) -> widgets.Play:
    """A Play button that walks `slider` through its range, a step every `interval` ms (from the start again
    once at the end). Linked both ways to the slider's value, and to its range as it follows the state."""
    play = widgets.Play(interval=interval, step=1, show_repeat=False, tooltip=f"step through {slider.description}")
    for name in ("min", "max", "value"):
        widgets.link((slider, name), (play, name))
    return play


@contextlib.contextmanager
def single_thread() -> Iterator[None]:
    """Run PyTorch on one thread inside the block (restored after). The widgets' tensors are tiny, and a
    second thread only adds waiting: milliseconds per op whenever the other core is busy, and CPU time
    its threads spend spinning. Every widget update runs inside it."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
