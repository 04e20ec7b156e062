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
import re

from nbconvert.preprocessors import Preprocessor
from traitlets import Bool

BEGIN, END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
_REGION = re.compile(rf"^[ \t]*{re.escape(BEGIN)}.*?^[ \t]*{re.escape(END)}[^\n]*$", re.S | re.M)


def describe(source: str) -> str:
    """The test's one-line description: its docstring's first line, or a generic one."""
    try:
        module = ast.parse(source)
        doc = ast.get_docstring(module)
    except SyntaxError:
        doc = None
    return doc.strip().splitlines()[0] if doc else "hidden tests"


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
