"""``python -m autograder check <topic> [--work DIR]`` (``make check TOPIC=...``): grade your own copy.

For self-study. Grades ``work/<topic>/`` (the copy ``make lab`` made) with the hidden tests, through the same
path as ``python -m autograder autograde`` (nbgrader, the grading kernel, the sandbox), in a throwaway course
folder with its own gradebook: nothing in the repository changes. Prints each test's points and the total;
the solutions are in ``source/<topic>/``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import nbformat

from autograder import ROOT, assignments, tool_env

STUDENT = "me"


def _test_names(notebook: Path) -> dict[str, str]:
    """grade id -> the test's name (its docstring's first line, as feedback shows it) from the source notebook."""
    names = {}
    for cell in nbformat.read(notebook, as_version=4).cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and cell.cell_type == "code":
            first = cell.source.strip().splitlines()[0].strip() if cell.source.strip() else ""
            names[meta["grade_id"]] = first.strip("\"'").strip() if first.startswith(('"', "'")) else meta["grade_id"]
    return names


#: A failure message longer than this many lines (a student's own exception can be any size) shows its start.
MESSAGE_LINES = 30


def _messages(autograded: Path) -> dict[str, str]:
    """grade id -> the whole error a test cell ended with (``Name: message``), in the autograded notebook."""
    if not autograded.is_file():
        return {}
    found = {}
    for cell in nbformat.read(autograded, as_version=4).cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        for out in cell.get("outputs", []) if grade_id else []:
            if out.get("output_type") == "error":
                value = (out.get("evalue") or "").strip()
                found[grade_id] = f"{out.get('ename')}: {value}" if value else str(out.get("ename"))
    return found


def wrap_message(message: str, indent: int = 6, width: int | None = None) -> list[str]:
    """`message` as lines of at most `width` columns (the terminal's), each indented by `indent`: wrapped between
    words, never inside one (a number or a shape stays whole), its own line breaks kept; past MESSAGE_LINES, the
    count of lines left out."""
    width = width or shutil.get_terminal_size((100, 24)).columns
    lines = []
    for paragraph in message.splitlines() or [""]:
        lines += textwrap.wrap(
            paragraph,
            width=max(40, width - indent),
            subsequent_indent="  ",
            break_long_words=False,
            break_on_hyphens=False,
        ) or [""]
    if len(lines) > MESSAGE_LINES:
        left = len(lines) - MESSAGE_LINES + 1
        lines = [*lines[: MESSAGE_LINES - 1], f"... and {left} more lines (run the notebook's test cell to see them)"]
    return [" " * indent + line for line in lines]


def check(topic: str, work: Path, out=sys.stdout) -> tuple[float, float, list[tuple[str, float, float, str]]]:
    """Grade `work/<topic>/<topic>.ipynb`; print and return (score, max, [(test, points, max, message)])."""
    from autograder.cli import autograde as ag
    from autograder.cli.simulate import make_course

    if ag.sandbox_missing():
        raise SystemExit(f"make check: {ag.sandbox_missing()}")
    mine = work / topic / f"{topic}.ipynb"
    if not mine.is_file():
        raise SystemExit(f"no {mine}: `make lab` copies the notebooks into work/ (or pass --work)")
    with tempfile.TemporaryDirectory(prefix="cnn-course-check-") as tmp:
        course = make_course(Path(tmp) / "course", ROOT, [topic])
        generated = subprocess.run(
            [sys.executable, "-m", "nbgrader", "generate_assignment", topic, "--force"],
            cwd=course,
            capture_output=True,
            text=True,
            env=tool_env(),
        )
        if generated.returncode != 0:
            raise SystemExit(
                "nbgrader generate_assignment failed:\n" + generated.stdout[-3000:] + generated.stderr[-3000:]
            )
        folder = course / "submitted" / STUDENT / topic
        folder.mkdir(parents=True)
        shutil.copyfile(mine, folder / mine.name)
        with contextlib.redirect_stdout(io.StringIO()):
            (outcome,) = ag.autograde(course, topic, jobs=1, progress=False)
        if not outcome.graded:
            detail = "\n".join(["; ".join(outcome.notes), *ag.nbgrader_traceback(outcome.log)])
            raise SystemExit(f"{topic}: not graded\n{detail}")
        names = _test_names(course / "source" / topic / f"{topic}.ipynb")
        messages = _messages(course / "autograded" / STUDENT / topic / mine.name)
        rows = []
        with ag._gradebook(course) as gradebook:
            submission = gradebook.find_submission_notebook(mine.stem, topic, STUDENT)
            grades = {grade.name: grade for grade in submission.grades}
            for cell in gradebook.find_notebook(mine.stem, topic).grade_cells:
                grade = grades[cell.name]
                score = grade.score or 0.0
                rows.append(
                    (cell.name, score, grade.max_score, "" if score >= grade.max_score else messages.get(cell.name, ""))
                )
            total, maximum = submission.score, submission.max_score
    order = list(names)
    rows.sort(key=lambda row: order.index(row[0]) if row[0] in order else len(order))
    print(f"{topic}: {mine}", file=out)
    width = max(len(name) for name, *_ in rows)
    for name, score, most, message in rows:
        print(f"  {name:<{width}}  {score:g}/{most:g}", file=out)
        for line in wrap_message(message) if message else []:
            print(line, file=out)
    print(f"total {total:g}/{maximum:g}   (the solutions: source/{topic}/{topic}.ipynb)", file=out)
    if outcome.notes:
        print("notes: " + "; ".join(outcome.notes), file=out)
    return total, maximum, rows


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder check", description=__doc__.splitlines()[0])
    parser.add_argument("topic", choices=assignments())
    parser.add_argument("--work", type=Path, default=ROOT / "work", help="the folder holding <topic>/ (default work/)")
    args = parser.parse_args(argv)
    check(args.topic, args.work.resolve())
    return 0
