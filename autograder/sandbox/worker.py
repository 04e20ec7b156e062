"""The sandbox's side of split grading: runs a student's function on plain data (runs in the sandbox only).

The grader (``autograder.trusted.grader_kernel``) asks for a call by name; the arguments wait in a request
file that only the grader can write (the sandbox sees that folder read-only). The answer, the
function's result and what it did to its arguments (all in ``autograder.wire``'s format) or its
exception as type name and message, is published as a display message of a private MIME type that
the grader reads and never shows. The student's code can replace this object or forge an answer:
that gains nothing, because an answer is only data, which the grader checks itself.
"""

from __future__ import annotations

import os
import types
from pathlib import Path

from autograder import wire

MIME = "application/x-cnn-course-rpc+json"


#: What one cell may print before the rest is dropped here (the grader drops more than this anyway, and a
#: message over its size limit is lost with the rest of the connection's traffic: the student's loss).
CELL_OUTPUT = 1 * 2**20
#: The largest answer value (JSON) passed to the test cells.
VALUE_LIMIT = 2**20


class LazyWidgets:
    """Import finder: ``course_utils.widgets.*`` (matplotlib, ipywidgets) load on first use.

    Grading never draws: the setup cell's widget imports cost nothing unless a cell really uses them.
    """

    def find_spec(self, name, path, target=None):
        import importlib.machinery
        import importlib.util

        if not name.startswith("course_utils.widgets."):
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is not None and spec.loader is not None:
            spec.loader = importlib.util.LazyLoader(spec.loader)
        return spec


class StudentFolder:
    """Import finder, last in sys.meta_path: a top-level module of the working folder (the student's own
    ``helpers.py``) imports, but never in place of a module found any other way (torch, course_utils ...)."""

    def __init__(self, folder: str):
        self.folder = folder

    def find_spec(self, name, path, target=None):
        import importlib.machinery

        if path is not None or "." in name:
            return None
        return importlib.machinery.PathFinder.find_spec(name, [self.folder])


class CappedStream:
    """sys.stdout/stderr that drop what a cell prints beyond CELL_OUTPUT characters."""

    def __init__(self, stream, budget: dict):
        self._stream, self._budget = stream, budget

    def write(self, text: str) -> int:
        left = self._budget["left"]
        if left <= 0:
            if not self._budget["noted"]:
                self._budget["noted"] = True
                self._stream.write("\n[output over the limit: the rest of this cell's output is dropped]\n")
            return len(text)
        self._budget["left"] = left - len(text)
        self._stream.write(text[:left])
        return len(text)

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


class Worker:
    def __init__(self, namespace: dict, inbox: str):
        import sys

        self.namespace = namespace
        self.inbox = Path(inbox)
        # the kernel runs with `python -P`: the student's own modules import, after every other way to find a
        # module (the course's own packages come through a finder of the editable install, after sys.path)
        sys.meta_path.append(StudentFolder(os.getcwd()))
        sys.meta_path.insert(0, LazyWidgets())
        budget = {"left": CELL_OUTPUT, "noted": False}
        sys.stdout, sys.stderr = CappedStream(sys.stdout, budget), CappedStream(sys.stderr, budget)
        try:
            from IPython import get_ipython

            get_ipython().events.register("pre_execute", lambda: budget.update(left=CELL_OUTPUT, noted=False))
        except (AttributeError, ImportError):
            pass

    def _publish(self, message: dict) -> None:
        from IPython.display import publish_display_data

        publish_display_data({MIME: wire.dumps(message)})

    def names(self, wanted: list[str] | None = None) -> None:
        """Of the names the test cells read from the notebook (`wanted`), the callables, and the other values as
        plain data (an answer cell's numbers, shapes, choices); a value the wire cannot carry is left out."""
        functions, values = [], {}
        for name in sorted(wanted if wanted is not None else self.namespace):
            if name.startswith("_") or name not in self.namespace:
                continue
            value = self.namespace[name]
            if isinstance(value, types.ModuleType):
                continue
            if callable(value):
                functions.append(name)
                continue
            try:
                encoded = wire.Encoder().encode(value)
                if len(wire.dumps({"v": encoded})) <= VALUE_LIMIT:
                    values[name] = encoded
            except (wire.WireError, ValueError, TypeError, RecursionError):
                continue
        self._publish({"names": functions, "values": values})

    def call(self, request: str) -> None:
        """Run the function the request names on its decoded arguments; publish the answer."""
        from course_utils.training import TensorLoader

        try:
            message = wire.loads((self.inbox / f"{request}.json").read_text())
            decoder = wire.Decoder(message, loader_class=TensorLoader)
            args = [decoder.decode(a) for a in message["args"]]
            kwargs = {k: decoder.decode(v) for k, v in message["kwargs"].items()}
            fn = self.namespace.get(message["name"])
            if fn is None:
                raise NameError(f"name {message['name']!r} is not defined")
        except Exception as exc:  # the grader's message could not be read: say so, as data
            self._publish(
                {
                    "error": {
                        "type": type(exc).__name__,
                        "mro": [c.__name__ for c in type(exc).__mro__],
                        "message": f"the grader could not pass the arguments: {exc}"[:4000],
                    }
                }
            )
            return
        import torch

        if message.get("rng") is not None:
            torch.set_rng_state(decoder.tensor(message["rng"]))
        helpers = [h for h in message.get("helpers", []) if isinstance(h, str) and h.isidentifier()]
        saved = {h: self.namespace.get(h, _MISSING) for h in helpers}
        self.namespace.update({h: HelperStub(self, request, h) for h in helpers})
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:
            answer = {
                "error": {
                    "type": type(exc).__name__,
                    "mro": [c.__name__ for c in type(exc).__mro__],
                    "message": str(exc)[:4000],
                }
            }
        else:
            try:
                answer = wire.encode_result(result, args, kwargs)
            except wire.WireError as exc:
                answer = {
                    "error": {
                        "type": "TypeError",
                        "mro": ["TypeError", "Exception", "BaseException"],
                        "message": f"{message['name']} returned something the grader cannot check: {exc}",
                    }
                }
        finally:
            for h, value in saved.items():
                if value is _MISSING:
                    self.namespace.pop(h, None)
                else:
                    self.namespace[h] = value
        answer["rng"] = wire.encode_tensor(torch.get_rng_state())
        self._publish(answer)


_MISSING = object()
#: How long a helper waits for the grader's answer.
HELPER_TIMEOUT = 30.0


class HelperStub:
    """Stands for one of the student's helper functions (``pad2d`` ...) during a call the grader asked to run
    with the course's reference for it: the arguments go to the grader as data, the grader computes PyTorch's
    answer and writes it to the inbox (which only the grader can write), and the answer comes back as data.
    The grader answers only while that call runs, and only for the names it asked for."""

    def __init__(self, worker: Worker, request: str, name: str):
        self.worker, self.request, self.name = worker, request, name
        self.__name__ = name
        self.count = 0

    def __call__(self, *args, **kwargs):
        import time

        self.count += 1
        ident = f"{self.request}-{self.name}-{self.count}"
        message = wire.encode_call(args, kwargs)
        message.update({"helper": self.name, "id": ident})
        self.worker._publish(message)
        path = self.worker.inbox / f"{ident}.json"
        deadline = time.monotonic() + HELPER_TIMEOUT
        while not path.exists():
            if time.monotonic() > deadline:
                raise RuntimeError(f"the grader did not answer for {self.name}")
            time.sleep(0.002)
        answer = wire.loads(path.read_text())
        if "error" in answer:
            error = answer["error"]
            raise (ValueError if error.get("type") == "ValueError" else RuntimeError)(str(error.get("message", "")))
        return wire.Decoder(answer).decode(answer["result"])
