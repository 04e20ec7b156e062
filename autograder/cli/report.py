"""``python -m autograder report <assignment> [--out FILE]``: one assignment's class report, a self-contained page.

Run it from the course root after ``nbgrader autograde`` (or give ``--course DIR``). For every graded test cell:
the share of the submissions that got full points and the most common failure messages (``ename: evalue`` of the
cell's error in ``autograded/<student>/<assignment>/*.ipynb``, normalised); and a histogram of the total scores
(after nbgrader's late penalty: the score the LMS exports carry, autograder/cli/lms.py). Scores come from nbgrader's
``Gradebook``. No student's name is on the page.

The page is one HTML file with its CSS inline and the histogram as inline SVG: no script, no network, no kernel.
Every text that comes from a submission is HTML-escaped, and the page's Content-Security-Policy forbids scripts
and any load from elsewhere, so a student's ``<script>`` in an error message is shown, never run.
"""

from __future__ import annotations

import argparse
import html
import math
import re
import statistics
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook

from autograder.cli import lms

#: Failure messages listed per test, most common first.
TOP_FAILURES = 3
HISTOGRAM_BINS = 10
MESSAGE_CHARS = 1000  # whole for the course's messages; a student's own exception may be any size
NO_ERROR = "(no error shown: points lost without an exception)"
NO_NOTEBOOK = "(no graded notebook)"
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_ADDRESS = re.compile(r"\b0x[0-9a-fA-F]{6,}\b")


@dataclass
class TestStats:
    """One graded test cell over the class: `full` of `graded` submissions got all its points."""

    column: str  # "<assignment>: <grade id>", as in the per-test export
    grade_id: str
    max_score: float
    full: int = 0
    graded: int = 0
    failures: Counter = field(default_factory=Counter)  # normalised message -> submissions

    @property
    def share(self) -> float:
        return self.full / self.graded if self.graded else 0.0


@dataclass
class ClassReport:
    assignment: str
    max_score: float
    enrolled: int
    totals: list[float]  # one per submission, after nbgrader's late penalty
    late: int
    tests: list[TestStats]


def normalise(message: str) -> str:
    """A failure message as one short line: no terminal colours, whitespace collapsed, memory addresses as
    ``0x…`` (so that the same failure in two processes counts once), at most MESSAGE_CHARS."""
    text = _ADDRESS.sub("0x…", " ".join(_ANSI.sub("", message).split()))
    return text if len(text) <= MESSAGE_CHARS else text[: MESSAGE_CHARS - 1] + "…"


def failure_message(cell: nbformat.NotebookNode) -> str | None:
    """The failure of a code cell's last error output: ``ename: evalue``, or the traceback's last line."""
    errors = [out for out in cell.get("outputs", []) if out.get("output_type") == "error"]
    if not errors:
        return None
    error = errors[-1]
    ename, evalue = error.get("ename", ""), error.get("evalue", "")
    if ename:
        return normalise(f"{ename}: {evalue}" if evalue else ename)
    lines = [line for line in _ANSI.sub("", "\n".join(error.get("traceback", []))).splitlines() if line.strip()]
    return normalise(lines[-1]) if lines else None


def notebook_failures(path: Path) -> dict[str, str | None]:
    """grade id -> failure message of each graded cell of one autograded notebook."""
    nb = nbformat.read(path, as_version=4)
    return {
        cell.metadata["nbgrader"]["grade_id"]: failure_message(cell)
        for cell in nb.cells
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("grade")
    }


def build(gradebook: Gradebook, course: Path, assignment: str) -> ClassReport:
    """The class report of `assignment`: scores from the gradebook, messages from the autograded notebooks."""
    columns = lms.test_columns(gradebook, assignment)
    tests = {column: TestStats(column, grade_id, max_score) for column, (_, grade_id, max_score) in columns.items()}
    totals, late, students = [], 0, gradebook.students
    for student in students:
        result = lms.result(gradebook, assignment, student.id)
        if result.score is None:
            continue
        totals.append(result.score)
        late += result.seconds_late > 0
        failures: dict[str, dict[str, str | None]] = {}
        for column, (notebook, grade_id, max_score) in columns.items():
            stats = tests[column]
            stats.graded += 1
            if result.tests[column] >= max_score:
                stats.full += 1
                continue
            if notebook not in failures:
                path = course / "autograded" / student.id / assignment / f"{notebook}.ipynb"
                failures[notebook] = notebook_failures(path) if path.exists() else {}
            known = failures[notebook]
            stats.failures[known.get(grade_id) or (NO_ERROR if known else NO_NOTEBOOK)] += 1
    return ClassReport(
        assignment=assignment,
        max_score=gradebook.find_assignment(assignment).max_score,
        enrolled=len(students),
        totals=totals,
        late=late,
        tests=list(tests.values()),
    )


def histogram(totals: list[float], max_score: float, bins: int = HISTOGRAM_BINS) -> list[tuple[float, float, int]]:
    """(low, high, count) of `bins` equal bins over [0, max_score]: low <= score < high, the last bin closed."""
    width = max_score / bins if max_score > 0 else 1.0
    counts = [0] * bins
    for score in totals:
        counts[min(bins - 1, max(0, math.floor(score / width)))] += 1
    return [(i * width, (i + 1) * width, count) for i, count in enumerate(counts)]


def _num(value: float) -> str:
    return f"{value:g}"


def _histogram_svg(report: ClassReport) -> str:
    bars = histogram(report.totals, report.max_score)
    tallest = max((count for *_, count in bars), default=0) or 1
    bar_w, plot_h, left, top = 48, 160, 36, 16
    width, height = left + bar_w * len(bars) + 16, top + plot_h + 40
    parts = [
        f'<svg class="histogram" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="histogram of total scores">',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 4}" y2="{top + plot_h}" class="axis"/>',
    ]
    for i, (low, high, count) in enumerate(bars):
        h = plot_h * count / tallest
        x = left + i * bar_w
        closing = "]" if i == len(bars) - 1 else ")"
        label = f"[{_num(low)}, {_num(high)}{closing}: {count}"
        parts.append(
            f'<rect class="bar" x="{x + 3}" y="{top + plot_h - h:.1f}" width="{bar_w - 6}" height="{h:.1f}" '
            f'data-low="{_num(low)}" data-high="{_num(high)}" data-count="{count}"><title>{label}</title></rect>'
        )
        if count:
            parts.append(f'<text x="{x + bar_w / 2}" y="{top + plot_h - h - 3:.1f}" class="count">{count}</text>')
        parts.append(f'<text x="{x}" y="{top + plot_h + 14}" class="tick">{_num(low)}</text>')
    end = left + bar_w * len(bars)
    parts.append(f'<text x="{end}" y="{top + plot_h + 14}" class="tick">{_num(report.max_score)}</text>')
    parts.append(f'<text x="{left + (width - left) / 2}" y="{height - 4}" class="tick">total score</text>')
    parts.append(f'<text x="4" y="{top + 8}" class="tick start">{tallest}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 68em; padding: 0 1em; color: #1b1b1b; }
h1 { font-size: 1.5em; margin-bottom: .2em; } h2 { font-size: 1.15em; margin-top: 1.6em; }
.summary { color: #444; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: .45em .6em; border-bottom: 1px solid #ddd; }
th { background: #f3f4f6; font-weight: 600; }
td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
code { font: 13px/1.3 ui-monospace, monospace; }
.share { display: flex; align-items: center; gap: .5em; min-width: 14em; }
.track { flex: 1; height: .9em; background: #e5e7eb; border-radius: 3px; overflow: hidden; }
.fill { height: 100%; background: #2f855a; }
.fill.low { background: #c05621; }
ul.failures { margin: 0; padding-left: 1.1em; } ul.failures li { margin: .1em 0; }
.msg { font: 13px/1.3 ui-monospace, monospace; white-space: pre-wrap; overflow-wrap: anywhere; }
.times { color: #555; white-space: nowrap; }
.none { color: #777; }
svg .bar { fill: #3b6ea8; } svg .axis { stroke: #555; }
svg text { font: 11px system-ui, sans-serif; fill: #333; text-anchor: middle; }
svg text.start { text-anchor: start; }
"""

# No script may run and nothing may load from elsewhere, whatever a student's output holds.
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def render(report: ClassReport) -> str:
    """The report as one self-contained HTML page; every text from a submission escaped."""
    e = html.escape
    submitted = len(report.totals)
    summary = f"{submitted} submissions of {report.enrolled} students in the gradebook"
    if report.totals:
        summary += (
            f"; mean {statistics.mean(report.totals):.2f}, median {_num(statistics.median(report.totals))}"
            f" of {_num(report.max_score)} points; {report.late} late"
        )
    rows = []
    for t in report.tests:
        pct = 100 * t.share
        failures = t.failures.most_common(TOP_FAILURES)
        items = "".join(
            f'<li><span class="msg">{e(message)}</span> <span class="times">× {count}</span></li>'
            for message, count in failures
        )
        more = len(t.failures) - len(failures)
        if more > 0:
            items += f'<li class="none">and {more} other message{"s" if more > 1 else ""}</li>'
        rows.append(
            f'<tr class="test" data-test="{e(t.grade_id)}" data-full="{t.full}" data-graded="{t.graded}">'
            f"<td><code>{e(t.grade_id)}</code></td>"
            f'<td class="num">{_num(t.max_score)}</td>'
            f'<td><div class="share"><div class="track"><div class="fill{" low" if t.share < 0.5 else ""}" '
            f'style="width:{pct:.1f}%"></div></div>'
            f'<span class="num">{pct:.0f}% ({t.full}/{t.graded})</span></div></td>'
            f"<td>{f'<ul class=failures>{items}</ul>' if items else '<span class=none>none</span>'}</td></tr>"
        )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(report.assignment)}: class report</title>
<style>{STYLE}</style>
</head>
<body>
<h1>{e(report.assignment)}: class report</h1>
<p class="summary">{e(summary)}.</p>
<h2>Total scores</h2>
<p class="summary">Each submission's score after nbgrader's late penalty, as the LMS exports carry it.</p>
{_histogram_svg(report)}
<h2>Tests</h2>
<p class="summary">Each test cell's own points, before any late penalty.</p>
<table>
<thead><tr><th>Test cell</th><th>Points</th><th>Full points</th><th>Most common failures</th></tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody>
</table>
</body>
</html>
"""


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder report", description=__doc__.splitlines()[0])
    parser.add_argument("assignment")
    parser.add_argument("--out", type=Path, help="the HTML file (default: reports/<assignment>.html)")
    parser.add_argument("--course", type=Path, default=Path.cwd(), help="the course root (default: here)")
    args = parser.parse_args(argv)
    from nbgrader.api import MissingEntry

    with lms.course_gradebook(args.course) as gradebook:
        try:
            report = build(gradebook, args.course, args.assignment)
        except MissingEntry:
            known = sorted(a.name for a in gradebook.assignments)
            print(f"report: no assignment {args.assignment!r} in the gradebook (known: {known})", file=sys.stderr)
            return 2
    out = args.out or args.course / "reports" / f"{args.assignment}.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(report), encoding="utf-8")
    print(f"report: {out} ({len(report.totals)} submissions, {len(report.tests)} test cells)")
    return 0
