"""Mutation testing of the graded tests: plausible mistakes, each put into one solution, graded in-process.

A mutant is one mistake in one exercise function of a source notebook: ``Mutant(name, function, old, new)``
replaces the text `old` (which must occur exactly once in the solution cell defining `function`) by
`new`. The mutants live as data in ``tests/mutants/<assignment>.py`` (a list ``MUTANTS``).

Grading here follows nbgrader's rule without nbgrader: one process per assignment runs the setup cell
once, then for each mutant the solution cells (one of them mutated) in a fresh copy of that namespace and
every graded test cell; a test cell that raises loses its points. A test cell whose code cannot reach the
mutated function (by name, through the notebook's functions, or a name in a string) cannot change its
verdict, so it is not run again. A mutant is *killed* when a test of its own exercise (a test cell whose
code names the function) loses points; it is *cross-charged* when any other test cell loses points, or a test of
its own exercise named for dtype does while the mistake is not a dtype one.
"""

from __future__ import annotations

import json
import linecache
import os
import runpy
import sys
import time
import types
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
MUTANTS_DIR = ROOT / "tests" / "mutants"


@dataclass(frozen=True)
class Mutant:
    """One mistake: in the solution cell that defines `function`, the text `old` becomes `new`."""

    name: str
    function: str
    old: str
    new: str
    why: str = ""


@dataclass
class Outcome:
    """What grading a mutant gave: the points lost per test cell, and whether it is killed / cross-charged."""

    mutant: str
    function: str
    lost: dict[str, float] = field(default_factory=dict)  # test grade_id -> points lost
    messages: dict[str, str] = field(default_factory=dict)  # test grade_id -> first line of the failure
    own: list[str] = field(default_factory=list)  # the test cells of the mutated function
    seconds: float = 0.0

    @property
    def killed(self) -> bool:
        return any(t in self.lost for t in self.own)

    @property
    def cross_charged(self) -> list[str]:
        """The tests that charge this mistake though it is not theirs: another exercise's, or, in its own
        exercise, a test named for dtype when the mistake is not about dtype (``about_dtype``)."""
        return [t for t in self.lost if t not in self.own or (about_dtype(t) and not about_dtype(self.mutant))]


#: The words that name a dtype test (in its grade id) or a dtype mistake (in its mutant's name).
DTYPE_WORDS = ("dtype", "float32", "float64")


def about_dtype(name: str) -> bool:
    """Whether a test's grade id or a mutant's name says it is about dtype: such a test may charge only such a
    mistake (a learner told "dtype" looks for a dtype bug)."""
    return any(word in name for word in DTYPE_WORDS)


#: The words that name a mistake in input validation (in its mutant's name): a check left out or wrong, a bad
#: value accepted, a message that names nothing, an index out of range, an unknown option not refused.
ERROR_WORDS = ("check", "accept", "message", "range", "unknown")

#: The kinds of mistake, in the order `kind_of` tries them.
KINDS = ("dtype", "errors", "bias", "padding", "values")


def kind_of(mutant_name: str) -> str:
    """The kind of mistake a mutant's name says, the first that fits in `KINDS`' order: "dtype"
    (``about_dtype``), "errors" (input validation, `ERROR_WORDS`), "bias", "padding" (its value or sides:
    "pad"), else "values". So ``conv2d_no_bias_check`` is an error-handling mistake, ``pad_float32`` a dtype one."""
    if about_dtype(mutant_name):
        return "dtype"
    if any(word in mutant_name for word in ERROR_WORDS):
        return "errors"
    if "bias" in mutant_name:
        return "bias"
    if "pad" in mutant_name:
        return "padding"
    return "values"


def visible_gaps(reports: list[dict]) -> list[str]:
    """Issue 29's rule for Validate, which runs the test cells without their hidden tests: in each exercise,
    every kind of mistake among its mutants has at least one that the visible tests of that exercise catch.
    One line per exercise and kind that breaks it, naming the mutants that pass every visible test."""
    gaps = []
    for report in reports:
        kinds: dict[tuple[str, str], list[dict]] = {}
        for o in report["outcomes"]:
            kinds.setdefault((o["function"], kind_of(o["mutant"])), []).append(o)
        for (function, kind), outcomes in kinds.items():
            if not any(o["visible_killed"] for o in outcomes):
                names = ", ".join(o["mutant"] for o in outcomes)
                where = f"{report['assignment']}: {function}"
                gaps.append(f"{where}: no visible test catches its {kind} mistakes ({names})")
    return gaps


def load_mutants(assignment: str) -> list[Mutant]:
    path = MUTANTS_DIR / f"{assignment}.py"
    if not path.exists():
        return []
    return list(runpy.run_path(str(path))["MUTANTS"])


def _cells(assignment: str):
    import nbformat

    nb = nbformat.read(ROOT / "source" / assignment / f"{assignment}.ipynb", as_version=4)
    setup, solutions, tests = None, [], []
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code":
            continue
        if meta.get("grade_id") == "setup":
            setup = cell.source
        elif meta.get("solution"):
            solutions.append((meta["grade_id"], cell.source))
        elif meta.get("grade"):
            tests.append((meta["grade_id"], float(meta.get("points", 0)), cell.source))
    return setup, solutions, tests


def _visible(source: str) -> str:
    """A test cell as nbgrader releases it: the lines between its hidden-test markers removed."""
    kept, hidden = [], False
    for line in source.splitlines():
        if "### BEGIN HIDDEN TESTS" in line:
            hidden = True
        elif "### END HIDDEN TESTS" in line:
            hidden = False
        elif not hidden:
            kept.append(line)
    return "\n".join(kept) + "\n"


def _strings(consts) -> set[str]:
    out = set()
    for c in consts:
        if isinstance(c, str) and c.isidentifier():
            out.add(c)
        elif isinstance(c, (tuple, frozenset)):
            out |= _strings(c)
    return out


def _names(code: types.CodeType) -> set[str]:
    names = set(code.co_names) | _strings(code.co_consts)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _names(const) | set(const.co_varnames)
    return names


def _reach(code: types.CodeType, ns: dict, defined: set[str]) -> set[str]:
    """The notebook functions a test cell's code can reach, directly or through other notebook functions."""
    seen: set[str] = set()
    todo = [n for n in _names(code) if n in defined]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        fn = ns.get(name)
        if isinstance(fn, types.FunctionType):
            todo += [n for n in _names(fn.__code__) if n in defined and n not in seen]
    return seen


def _compile(source: str, label: str) -> types.CodeType:
    filename = f"<{label}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    return compile(source, filename, "exec")


def _run_tests(ns: dict, tests, only: set[str] | None = None, seconds: dict | None = None) -> dict[str, str]:
    """Run the graded test cells (all, or those in `only`) in `ns`; grade_id -> failure line of each that raised.

    `seconds`, if given, receives each cell's running time."""
    import contextlib
    import io

    failed = {}
    for grade_id, _, code in tests:
        if only is not None and grade_id not in only:
            continue
        started = time.monotonic()
        if seconds is not None:
            seconds[grade_id] = 0.0
        try:
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                exec(code, ns)
        except Exception as exc:
            first_line = (str(exc).strip().splitlines() or [""])[0]
            failed[grade_id] = f"{type(exc).__name__}: {first_line}"[:300]
        finally:
            if seconds is not None:
                seconds[grade_id] = time.monotonic() - started
    return failed


def grade_assignment(assignment: str, mutant_names: list[str] | None = None) -> dict:
    """Grade the solution and every mutant of `assignment` in this process; a JSON-able report."""
    os.environ.setdefault("COURSE_QUICK", "1")
    os.environ.setdefault("MPLBACKEND", "Agg")
    import torch

    torch.set_num_threads(1)
    setup, solutions, tests = _cells(assignment)
    mutants = [m for m in load_mutants(assignment) if mutant_names is None or m.name in mutant_names]
    base: dict = {"__name__": "__main__"}
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()):
        exec(_compile(setup or "", f"{assignment}:setup"), base)
    torch.set_num_threads(1)
    compiled_tests = [(g, p, _compile(src, f"{assignment}:{g}")) for g, p, src in tests]
    # the same cells as released (hidden tests removed): what Validate and a learner's own run check
    visible_tests = [(g, p, _compile(_visible(src), f"{assignment}:{g}:visible")) for g, p, src in tests]
    points = {g: p for g, p, _ in tests}

    def solved_namespace(replace: tuple[str, str] | None = None) -> dict:
        ns = dict(base)
        for grade_id, source in solutions:
            if replace is not None and grade_id == replace[0]:
                source = replace[1]
            exec(_compile(source, f"{assignment}:{grade_id}"), ns)
        return ns

    started = time.monotonic()
    ns = solved_namespace()
    defined = {n for n, v in ns.items() if isinstance(v, types.FunctionType) and n not in base}
    reach = {g: _reach(code, ns, defined) for g, _, code in compiled_tests}
    direct = {g: {n for n in _names(code) if n in defined} for g, _, code in compiled_tests}
    test_seconds: dict[str, float] = {}
    baseline = _run_tests(ns, compiled_tests, seconds=test_seconds)
    report = {
        "assignment": assignment,
        "baseline_failures": baseline,
        "baseline_seconds": time.monotonic() - started,
        "test_seconds": test_seconds,
        "points": points,
        "outcomes": [],
        "errors": [],
    }
    for mutant in mutants:
        started = time.monotonic()
        cells = [(g, s) for g, s in solutions if f"def {mutant.function}(" in s]
        if len(cells) != 1:
            report["errors"].append(f"{mutant.name}: {mutant.function} is defined in {len(cells)} solution cells")
            continue
        grade_id, source = cells[0]
        if source.count(mutant.old) != 1:
            report["errors"].append(f"{mutant.name}: its text occurs {source.count(mutant.old)} times in {grade_id}")
            continue
        try:
            ns = solved_namespace((grade_id, source.replace(mutant.old, mutant.new)))
        except Exception as exc:
            report["errors"].append(f"{mutant.name}: the mutated cell does not run: {exc}")
            continue
        affected = {g for g in reach if mutant.function in reach[g]}
        failed = _run_tests(ns, compiled_tests, affected)
        visible_failed = _run_tests(ns, visible_tests, affected)
        outcome = Outcome(
            mutant.name,
            mutant.function,
            {g: points[g] for g in failed},
            failed,
            sorted(g for g in direct if mutant.function in direct[g]),
            time.monotonic() - started,
        )
        report["outcomes"].append(
            {
                **outcome.__dict__,
                "killed": outcome.killed,
                "cross_charged": outcome.cross_charged,
                "visible_killed": any(g in visible_failed for g in outcome.own),
            }
        )
    return report


def assignments_with_mutants() -> list[str]:
    return sorted(p.stem for p in MUTANTS_DIR.glob("[0-9]*.py"))


def grade_all(assignments: list[str] | None = None, workers: int = 2) -> list[dict]:
    """One worker process per assignment (at most `workers` at once); their reports, in order."""
    import multiprocessing

    assignments = assignments or assignments_with_mutants()
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        return list(pool.map(grade_assignment, assignments))


def summary(reports: list[dict]) -> dict:
    outcomes = [o for r in reports for o in r["outcomes"]]
    return {
        "mutants": sum(len(r["outcomes"]) + len(r["errors"]) for r in reports),
        "killed": sum(o["killed"] for o in outcomes),
        "cross_charged": sum(bool(o["cross_charged"]) for o in outcomes),
        "killed_by_visible": sum(o["visible_killed"] for o in outcomes),
    }


if __name__ == "__main__":  # python -m autograder.cli.mutation 01_convolution ...: the full report
    print(json.dumps(grade_all(sys.argv[1:] or None), indent=1))
