"""Feedback without hidden test code: a preprocessor for `nbgrader generate_feedback`.

nbgrader's autograded notebooks hold the hidden tests (restored from the gradebook), and its feedback
HTML shows every cell's source and every traceback, so students would read the hidden tests. This
preprocessor runs before the HTML export (registered in nbgrader_config.py, so the plain command is
fixed too). In every graded cell it replaces each ``### BEGIN HIDDEN TESTS`` … ``### END HIDDEN
TESTS`` region by one comment line naming the test (the cell's docstring) and cuts error outputs
down to ``ExceptionName: message``, since a traceback quotes the failing lines. Test names,
points and messages stay; test code does not.
"""

from __future__ import annotations

import ast
import base64
import re
from pathlib import Path

from nbconvert.preprocessors import Preprocessor
from traitlets import Bool

BEGIN, END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
_REGION = re.compile(rf"^[ \t]*{re.escape(BEGIN)}.*?^[ \t]*{re.escape(END)}[^\n]*$", re.S | re.M)


def docstring_title(source: str) -> str | None:
    """The test's name: its docstring's first line (None without one)."""
    try:
        doc = ast.get_docstring(ast.parse(source))
    except SyntaxError:
        doc = None
    return doc.strip().splitlines()[0] if doc and doc.strip() else None


def describe(source: str) -> str:
    """The test's one-line description: its name, or a generic one."""
    return docstring_title(source) or "hidden tests"


def hide(source: str) -> str:
    """`source` with every hidden region replaced by one comment line."""
    note = f"# hidden tests ({describe(source)}): their code is not shown"
    return _REGION.sub(note, source)


def hidden_lines(nb) -> set[str]:
    """Every line of every hidden-test region of `nb` (stripped; short ones, like a lone `)`, left out)."""
    lines = set()
    for cell in nb.cells:
        if cell.cell_type == "code":
            for region in _REGION.findall(cell.source):
                lines.update(line.strip() for line in region.splitlines()[1:-1] if len(line.strip()) >= 12)
    return lines


def scrub(text: str, lines: set[str]) -> str:
    """`text` without any line that quotes a hidden test line."""
    if not lines or not isinstance(text, str):
        return text
    kept = [
        line if not any(hidden in line for hidden in lines) else "(a line of a hidden test, not shown)"
        for line in text.split("\n")
    ]
    return "\n".join(kept)


class HideHiddenTests(Preprocessor):
    """Hide hidden test code and tracebacks in graded cells (for generate_feedback); and any output line of
    any cell that quotes hidden test code."""

    enabled = Bool(True, help="nbconvert skips preprocessors that are not enabled").tag(config=True)

    def preprocess(self, nb, resources):
        self._hidden = hidden_lines(nb)
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, index):
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("grade") and not meta.get("solution"):
            # the feedback page's index (autograder/templates/cnn_feedback) names the test instead of "Test cell"
            cell.metadata["cnn_course"] = {"test_name": docstring_title(cell.source) or meta.get("grade_id", "test")}
            had_hidden = BEGIN in cell.source
            cell.source = hide(cell.source)
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    output["traceback"] = [f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"]
                elif had_hidden and output.get("output_type") == "stream" and output.get("name") == "stderr":
                    output["text"] = "(output of hidden tests not shown)\n"
        hidden = getattr(self, "_hidden", set())
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if "text" in output:
                output["text"] = scrub(output["text"], hidden)
            for mime, value in output.get("data", {}).items():
                if mime.startswith("text/") and isinstance(value, str):
                    output["data"][mime] = scrub(value, hidden)
            if "evalue" in output:
                output["evalue"] = scrub(output["evalue"], hidden)
                output["traceback"] = [scrub(t, hidden) for t in output.get("traceback", [])]
        return cell, resources


TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif"}
# a Markdown image, ![alt](target "title"), and an HTML image's src attribute
_MD_IMAGE = re.compile(r"(!\[[^\]]*\]\()\s*<?([^)\s>]+)>?((?:\s+\"[^\"]*\")?\s*\))")
_SRC = re.compile(r"""(<img\b[^>]*?\bsrc\s*=\s*)(["'])(.*?)\2""", re.I)


def data_uri(target: str, folder: Path) -> str | None:
    """`target` (a relative image path in a notebook of `folder`) as a data: URI, when it names a regular image
    file inside `folder` (no link, no way out of it); else None."""
    if not target or re.match(r"^[a-z][a-z0-9+.-]*:|^/|^#", target, re.I) or "\\" in target:
        return None
    path = folder / target.split("?")[0].split("#")[0]
    mime = IMAGE_TYPES.get(path.suffix.lower())
    try:
        inside = path.resolve().is_relative_to(folder.resolve())
        plain = not any(p.is_symlink() for p in [path, *path.parents] if p != folder and folder in p.parents)
    except OSError:
        return None
    if not (mime and inside and plain and path.is_file()):
        return None
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode()}"


def embed_images(source: str, folder: Path) -> str:
    """`source` (Markdown) with each relative image replaced by a data: URI of the file in `folder`; one that is
    not there (or not an image of `folder`) becomes a note, so no image of the page points to a file."""

    def markdown(m: re.Match) -> str:
        uri = data_uri(m.group(2), folder)
        if uri:
            return f"{m.group(1)}{uri}{m.group(3)}"
        return m.group(0) if _external(m.group(2)) else f"*(image not included: {m.group(2)})*"

    def html(m: re.Match) -> str:
        uri = data_uri(m.group(3), folder)
        if uri:
            return f"{m.group(1)}{m.group(2)}{uri}{m.group(2)}"
        return m.group(0) if _external(m.group(3)) else f"{m.group(1)}{m.group(2)}{m.group(2)}"

    return _SRC.sub(html, _MD_IMAGE.sub(markdown, source))


def _external(target: str) -> bool:
    return bool(re.match(r"^(data|https?):", target, re.I))


class EmbedImages(Preprocessor):
    """For generate_feedback: every relative image of a Markdown cell (the course's figures, such as
    ``figures/shift.png``) becomes a data: URI, read from the released assignment folder (``notebooks/<topic>/``,
    the course's own copy, never the student's files), since ``release_feedback``/``fetch_feedback`` carry the
    HTML page alone."""

    enabled = Bool(True, help="nbconvert skips preprocessors that are not enabled").tag(config=True)

    def preprocess(self, nb, resources):
        from autograder.hooks.submissions import coursedir_of

        coursedir = coursedir_of(self)
        assignment = resources.get("nbgrader", {}).get("assignment")
        if coursedir is None or not assignment:
            raise RuntimeError("EmbedImages runs inside nbgrader generate_feedback (no course directory here)")
        folder = Path(coursedir.format_path(coursedir.release_directory, ".", assignment))
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                cell.source = embed_images(cell.source, folder)
        return nb, resources
