"""Every assignment's notebooks: clean in git, valid for nbgrader, runnable, and answer-free when released."""

from __future__ import annotations

import ast
import json
import re

import nbformat
import pytest

from conftest import (
    ROOT,
    assignments,
    error_outputs,
    execute_notebook,
    source_notebook,
    stderr_outputs,
    student_notebook,
)

ASSIGNMENTS = assignments()
MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")


def _notebooks() -> list:
    return [source_notebook(a) for a in ASSIGNMENTS] + [student_notebook(a) for a in ASSIGNMENTS]


def _split_lines(path) -> tuple[list[list[str]], set[str]]:
    """A source notebook's substantive lines: runs between nbgrader's solution / hidden-test markers,
    and the set of lines anywhere else (public: students see those anyway)."""
    nb = nbformat.read(path, as_version=4)
    runs: list[list[str]] = []
    public: set[str] = set()
    for cell in nb.cells:
        inside = False
        for line in cell.source.splitlines():
            text = line.strip()
            if re.search(r"### BEGIN (SOLUTION|HIDDEN TESTS)", line):
                inside = True
                runs.append([])
            elif re.search(r"### END (SOLUTION|HIDDEN TESTS)", line):
                inside = False
            elif inside and len(text) > 12 and not text.startswith("#"):
                runs[-1].append(text)
            elif not inside:
                public.add(text)
    return runs, public


def _protected_lines(path) -> set[str]:
    """Lines that only the solutions and hidden tests contain."""
    runs, public = _split_lines(path)
    return {line for run in runs for line in run} - public


def _protected_pairs(path) -> set[tuple[str, str]]:
    """Consecutive pairs of protected lines: a copied piece of solution shows up as one of these."""
    runs, public = _split_lines(path)
    return {(a, b) for run in runs for a, b in zip(run, run[1:]) if not (a in public and b in public)}


def test_every_assignment_has_a_source_and_a_released_notebook():
    assert ASSIGNMENTS[0] == "01_convolution"
    for name in ASSIGNMENTS:
        assert source_notebook(name).exists()
        assert student_notebook(name).exists(), f"run `make release`: notebooks/{name} is missing"


@pytest.mark.parametrize("path", _notebooks(), ids=lambda p: str(p.relative_to(ROOT)))
def test_notebook_is_clean_and_has_valid_nbgrader_metadata(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "cnn-course"
    grade_ids = []
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"cell {cell.id} has outputs in git"
        meta = cell.metadata.get("nbgrader")
        assert meta, f"cell {cell.id} has no nbgrader metadata"
        assert meta["schema_version"] == 3
        grade_ids.append(meta["grade_id"])
        if meta["grade"]:
            assert meta["points"] > 0 and meta["locked"] and cell.cell_type == "code"
            first = cell.source.lstrip().splitlines()[0]
            assert first.startswith('"""'), f"test cell {meta['grade_id']} must open with a one-line docstring"
        if meta["solution"]:
            assert not meta["locked"]
    assert len(grade_ids) == len(set(grade_ids)), "grade_ids must be unique"
    raw = json.loads(path.read_text())
    assert "widgets" not in raw["metadata"], "saved widget state is an output: strip it"


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_released_copy_has_no_solution_or_hidden_test(name):
    text = student_notebook(name).read_text()
    for marker in MARKERS:
        assert marker not in text
    student_lines = {
        line.strip()
        for cell in nbformat.read(student_notebook(name), as_version=4).cells
        for line in cell.source.splitlines()
    }
    protected = _protected_lines(source_notebook(name))
    assert protected, "no solution found in the source notebook: the check below would prove nothing"
    leaked = protected & student_lines
    assert not leaked, f"lines of the solution or hidden tests appear in notebooks/{name}: {sorted(leaked)[:5]}"


def test_course_utils_holds_no_answers():
    protected = set().union(*(_protected_pairs(source_notebook(a)) for a in ASSIGNMENTS))
    assert protected, "no solution found in source/: the check below would prove nothing"
    for path in (ROOT / "course_utils").rglob("*.py"):
        text = path.read_text()
        for marker in MARKERS:
            assert marker not in text, f"{path} contains an nbgrader marker"
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        leaked = protected & set(zip(lines, lines[1:]))
        assert not leaked, f"{path} repeats lines of a solution or hidden test: {sorted(leaked)[:3]}"


@pytest.mark.slow
def test_notebooks_equal_a_fresh_release(tmp_path):
    from autograder.cli.release import generate

    generate(tmp_path / "release", ASSIGNMENTS)
    for name in ASSIGNMENTS:
        fresh = json.loads((tmp_path / "release" / name / f"{name}.ipynb").read_text())
        committed = json.loads(student_notebook(name).read_text())
        assert committed == fresh, f"notebooks/{name} differs from a fresh release: run `make release`"
    released = sorted(p.relative_to(tmp_path / "release") for p in (tmp_path / "release").rglob("*") if p.is_file())
    committed_files = sorted(
        p.relative_to(ROOT / "notebooks")
        for p in (ROOT / "notebooks").rglob("*")
        if p.is_file() and ".ipynb_checkpoints" not in p.parts
    )
    assert released == committed_files


def _skip_without_fashion_mnist(name: str) -> None:
    """A notebook that trains on Fashion-MNIST runs only where the dataset is on this machine: tests never
    download (the notebook itself would, and offline it stops with DatasetUnavailableError)."""
    from course_utils.data import find_fashion_mnist

    if "fashion_mnist" in source_notebook(name).read_text().lower() and find_fashion_mnist() is None:
        pytest.skip(
            f"{name} needs Fashion-MNIST, which is not on this machine (Debian's dataset-fashion-mnist, "
            "which `make system-deps` installs as root, $COURSE_DATA or the course's cache); "
            "the tests never download it"
        )


@pytest.mark.slow
@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_source_notebook_runs_with_every_test_passing(name):
    _skip_without_fashion_mnist(name)
    nb = execute_notebook(source_notebook(name))
    assert error_outputs(nb) == []
    assert stderr_outputs(nb) == [], "stderr output (a warning?) makes nbgrader fail the cell"


@pytest.mark.slow
@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_student_notebook_stops_only_at_not_implemented(name):
    _skip_without_fashion_mnist(name)
    nb = execute_notebook(student_notebook(name))
    errors = error_outputs(nb)
    assert errors, "the student copy must leave something to implement"
    # a cell stopped by NotImplementedError defines none of its names: later cells may miss exactly those
    unfinished = {
        name
        for cell in nb.cells
        if cell.cell_type == "code"
        and any(o.output_type == "error" and o.ename == "NotImplementedError" for o in cell.get("outputs", []))
        for name in _assigned_names(cell.source)
    }
    other = [
        e
        for e in errors
        if e[1] != "NotImplementedError"
        and not (
            e[1] == "NameError"
            and re.fullmatch(r"name '(\w+)' is not defined", e[2])
            and re.fullmatch(r"name '(\w+)' is not defined", e[2]).group(1) in unfinished
        )
    ]
    assert other == [], f"the student copy fails with something other than NotImplementedError: {other}"
    # JupyterLab's Run All stops at the first error in a cell not tagged raises-exception: a fresh copy
    # must run to the end, so every cell that fails there (it needs the student's code) carries the tag
    stopping = [
        (i, cell.source.splitlines()[0])
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code"
        and any(o.output_type == "error" for o in cell.get("outputs", []))
        and "raises-exception" not in cell.metadata.get("tags", [])
    ]
    assert stopping == [], f"Run All would stop at these cells (tag them raises-exception in source/): {stopping}"
    # what `nbgrader validate --invert` asks of a student copy (and the Validate button runs the same nbgrader:
    # tests/test_browser.py): every test cell fails on the stubs, but for those made only of hidden tests, which
    # the release reduces to their docstring (and, in an exercise's last, the line naming their points)
    tests = [
        cell
        for cell in nb.cells
        if cell.metadata.get("nbgrader", {}).get("grade") and not cell.metadata["nbgrader"].get("solution")
    ]
    visible = [
        cell
        for cell in tests
        if not all(
            line.strip().startswith(('"""', "#", "cu.checks.hidden_tests_to_come(")) or not line.strip()
            for line in cell.source.splitlines()
        )
    ]
    assert visible, "the student copy has no visible test"
    passing = [
        cell.metadata["nbgrader"]["grade_id"]
        for cell in visible
        if not any(o.output_type == "error" for o in cell.get("outputs", []))
    ]
    assert passing == [], f"these test cells pass on the unsolved student copy: {passing}"


def _assigned_names(source: str) -> set[str]:
    """Names a cell binds at its top level (assignments, for targets, defs, imports)."""
    names: set[str] = set()
    for node in ast.parse(source).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        else:
            targets = (
                node.targets
                if isinstance(node, ast.Assign)
                else [node.target]
                if isinstance(node, (ast.AnnAssign, ast.AugAssign, ast.For))
                else []
            )
            names.update(n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name))
    return names


NOTE = re.compile(r"^cu\.checks\.hidden_tests_to_come\((\w+|\((?:\w+, )+\w+\)), ([\d.]+), '(\w+)'\)$", re.M)


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_each_exercise_ends_by_naming_the_points_its_hidden_tests_still_hold(name):
    """Validate runs only the visible tests: the last test cell of every exercise with hidden tests says, visibly,
    how many points they hold (cu.checks.hidden_tests_to_come), and that number is the source notebook's own: the
    points of the exercise's test cells with hidden tests. The functions it names are the exercise's."""
    nb = nbformat.read(ROOT / "source" / name / f"{name}.ipynb", as_version=4)
    released = {c.id: c.source for c in nbformat.read(ROOT / "notebooks" / name / f"{name}.ipynb", as_version=4).cells}
    groups: list[tuple[set[str], list]] = []  # (functions the solution cells define, the test cells after them)
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("solution"):
            defined = set(re.findall(r"^def ([a-z]\w*)", cell.source, re.M))
            if groups and not groups[-1][1]:  # solution cells side by side make one exercise
                groups[-1][0].update(defined)
            else:
                groups.append((defined, []))
        elif meta.get("grade") and groups:
            groups[-1][1].append(cell)
    noted = 0
    for defined, tests in groups:
        hidden = sum(t.metadata["nbgrader"]["points"] for t in tests if "### BEGIN HIDDEN TESTS" in t.source)
        notes = [(t, m) for t in tests for m in NOTE.finditer(t.source)]
        if not defined or not hidden:  # a question's answer cell, or an exercise with visible tests only
            assert not notes, [t.metadata["nbgrader"]["grade_id"] for t, _ in notes]
            continue
        assert len(notes) == 1 and notes[0][0] is tests[-1], (sorted(defined), [t.id for t, _ in notes])
        cell, match = notes[0]
        functions = set(re.findall(r"\w+", match.group(1)))
        assert functions <= defined, (functions, defined)
        assert float(match.group(2)) == hidden, (sorted(functions), match.group(2), hidden)
        assert match.group(3) == name
        assert match.group(0) in released[cell.id]  # visible: the student's copy runs it too
        noted += 1
    assert noted >= 3
