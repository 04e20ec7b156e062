"""What a student's output and markup may be once it leaves the sandbox: inert text, images, or cleaned HTML.

The grading kernel passes every output of the student's code through `display_bundle` (or, inside a test
cell, `as_text`), and the autograde step passes every notebook through `SanitizeMarkup`, so that no
graded notebook, feedback page or Formgrader view holds a student's script, event handler,
``javascript:`` URL, SVG script or ``isolated`` flag. The cleaning is nh3's (the Python binding of the
Ammonia sanitizer: an allow-list of tags, attributes and URL schemes; no script, style or event handler
survives it); nothing here filters HTML by hand. nbconvert's own ``clean_html`` (bleach) would do too, but
it escapes even headings and paragraphs.
"""

from __future__ import annotations

import base64
import binascii
from pathlib import Path
from typing import Any

import nh3
from nbconvert.filters import markdown2html
from nbconvert.preprocessors import Preprocessor
from traitlets import Bool

#: Image types kept as they are once their bytes are checked to be that image (plots stay images).
IMAGES = {"image/png": b"\x89PNG\r\n\x1a\n", "image/jpeg": b"\xff\xd8\xff", "image/gif": b"GIF8"}
#: The most text kept of one output's plain-text form.
TEXT_LIMIT = 100_000


def _image(mime: str, value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        head = base64.b64decode(value[:64].strip() + "=" * (-len(value[:64].strip()) % 4), validate=False)
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None
    return value if head.startswith(IMAGES[mime]) else None


def _text(value: Any) -> str:
    text = "".join(value) if isinstance(value, list) else str(value)
    return text[:TEXT_LIMIT]


def display_bundle(data: Any, metadata: Any = None) -> tuple[dict, dict]:
    """A student's display data as something no page runs: text, checked images, and HTML cleaned by nbconvert's
    sanitizer. Everything else (Javascript, SVG, Markdown, LaTeX, widget views, any other type) is dropped; its
    plain-text form stays. Metadata keeps only an image's numeric size (no ``isolated``, no ``transient``)."""
    data = data if isinstance(data, dict) else {}
    bundle: dict[str, str] = {}
    if "text/plain" in data:
        bundle["text/plain"] = _text(data["text/plain"])
    for mime in IMAGES:
        image = _image(mime, data.get(mime))
        if image is not None:
            bundle[mime] = image
    if "text/html" in data:
        bundle["text/html"] = nh3.clean(_text(data["text/html"]))
    if not bundle:
        kinds = ", ".join(sorted(str(k)[:60] for k in data)[:5]) or "nothing"
        bundle["text/plain"] = f"[output of type {kinds}: not shown by the grader]"
    kept = {}
    for mime in IMAGES:
        meta = metadata.get(mime) if isinstance(metadata, dict) else None
        if mime in bundle and isinstance(meta, dict):
            size = {k: meta[k] for k in ("width", "height") if isinstance(meta.get(k), (int, float))}
            if size:
                kept[mime] = size
    return bundle, kept


def as_text(kind: str, content: dict) -> str:
    """Any output message of the student's as plain text (what a test cell shows of it: nothing nbgrader reads)."""
    if kind == "stream":
        return _text(content.get("text", ""))
    if kind == "error":
        return f"{_text(content.get('ename', 'Error'))[:200]}: {_text(content.get('evalue', ''))[:4000]}\n"
    data = content.get("data") if isinstance(content.get("data"), dict) else {}
    if "text/plain" in data:
        text = _text(data["text/plain"])
        return text if text.endswith("\n") else text + "\n"
    return f"[output of type {', '.join(sorted(str(k)[:60] for k in data)[:5]) or 'nothing'}: not shown]\n"


def clean_markdown(source: str) -> str:
    """A student's Markdown cell as HTML cleaned by nh3: the same text and formatting as nbconvert renders it,
    with no script, handler, frame, form or ``javascript:`` link (Markdown passes cleaned HTML through)."""
    return nh3.clean(markdown2html(source))


class SanitizeMarkup(Preprocessor):
    """An autograde step (after Execute): no Markdown cell the course did not write, and no output, holds live
    markup. The course's own Markdown cells (byte for byte as in ``source/<assignment>/<notebook>.ipynb``) are
    left as they are; every other one becomes its cleaned HTML (``clean_markdown``)."""

    enabled = Bool(True, help="nbconvert skips preprocessors that are not enabled").tag(config=True)

    def preprocess(self, nb, resources):
        course_cells = _course_markdown(resources.get("nbgrader", {}))
        nb.metadata.pop("widgets", None)  # widget state goes into the page as a script element's text
        for cell in nb.cells:
            if cell.cell_type == "markdown" and cell.source not in course_cells:
                cell.source = clean_markdown(cell.source)
                cell.pop("attachments", None)
            elif cell.cell_type == "raw":  # the HTML exporter pastes a raw cell into the page as it is
                cell.source = nh3.clean(cell.source)
                cell.pop("attachments", None)
            elif cell.cell_type == "code":
                for output in cell.get("outputs", []):
                    if output.get("output_type") in ("display_data", "execute_result"):
                        output["data"], output["metadata"] = display_bundle(output.get("data"), output.get("metadata"))
        return nb, resources


def _course_markdown(info: dict) -> set[str]:
    """The Markdown cells of the course's own notebook for this submission (run from the course root)."""
    import nbformat

    path = Path("source") / str(info.get("assignment", "")) / f"{info.get('notebook', '')}.ipynb"
    try:
        return {c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "markdown"}
    except (OSError, ValueError, KeyError):
        return set()
