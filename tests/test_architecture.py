"""ARCHITECTURE.md stays true to the code: every environment variable the course reads is in its table, every
module of autograder/ is in the folder the layout table gives it, and course_utils imports nothing of autograder."""

from __future__ import annotations

import ast
import re

from conftest import ROOT

ARCHITECTURE = (ROOT / "ARCHITECTURE.md").read_text()
READ = re.compile(
    r"""(?:environ(?:\.get|\.setdefault|\.pop)?\(\s*|environ\[\s*|getenv\(\s*)["']([A-Z][A-Z0-9_]+)["']"""
)
# read only by the test suite or third-party tools, not by the course
NOT_THE_COURSE = {"PATH", "HOME", "USER", "TMPDIR", "LANG", "PYTHONPATH", "JPY_PARENT_PID"}


def _variables() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    files = [*ROOT.glob("autograder/**/*.py"), *ROOT.glob("course_utils/**/*.py"), ROOT / "nbgrader_config.py"]
    files += [*ROOT.glob("deploy/jupyterhub/**/*.py")]
    for path in files:
        for name in READ.findall(path.read_text()):
            found.setdefault(name, set()).add(str(path.relative_to(ROOT)))
    return found


def test_every_environment_variable_the_course_reads_is_in_the_table():
    table = ARCHITECTURE.split("## Environment variables the course reads", 1)[1]
    variables = _variables()
    assert len(variables) > 15, variables  # the pattern finds them
    missing = {
        name: files for name, files in variables.items() if name not in NOT_THE_COURSE and f"`{name}`" not in table
    }
    assert not missing, f"ARCHITECTURE.md's table lacks {missing}"


def test_every_module_of_autograder_lives_where_the_layout_says():
    layout = ARCHITECTURE.split("## The layout of `autograder/`", 1)[1].split("\n## ", 1)[0]
    for path in ROOT.glob("autograder/**/*.py"):
        relative = path.relative_to(ROOT / "autograder")
        if path.name == "__init__.py" or relative.parts[0] == "sandbox" and relative.parts[1] == "stubs":
            continue
        folder = f"`{relative.parts[0]}/`" if len(relative.parts) > 1 else "top level"
        row = next((line for line in layout.splitlines() if line.startswith(f"| {folder} ")), None)
        assert row is not None, f"no row for {folder}"
        if path.parent.name != "autograder" and path.name not in ("__main__.py",):
            assert f"`{path.name}`" in row or f"`{path.stem}`" in row, f"{relative} is not named in the {folder} row"


def test_course_utils_imports_nothing_of_autograder():
    for path in ROOT.glob("course_utils/**/*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            assert not any(n == "autograder" or n.startswith("autograder.") for n in names), path
