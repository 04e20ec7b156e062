"""Shared fixtures: the repository root, nbgrader runs in a throwaway course, notebook execution."""

from __future__ import annotations

import functools
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
KERNEL = "cnn-course"
# 06_lenet's long cells train on a subset for one epoch; kernels and JupyterLab started by tests inherit it.
os.environ.setdefault("COURSE_QUICK", "1")


def assignments() -> list[str]:
    from autograder import assignments as _assignments

    return _assignments()


def source_notebook(assignment: str) -> Path:
    return ROOT / "source" / assignment / f"{assignment}.ipynb"


def student_notebook(assignment: str) -> Path:
    return ROOT / "notebooks" / assignment / f"{assignment}.ipynb"


def nbgrader(
    *args: str, cwd: Path, timeout: float = 900, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """Run `python -m nbgrader ARGS` in `cwd` with this environment's Python (and `env` added); output captured."""
    from autograder import tool_env

    return subprocess.run(
        [sys.executable, "-m", "nbgrader", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**tool_env(), **(env or {})},
    )


def benchmark_json(script: str, *args: str, only_line: bool = True, timeout: float = 900) -> dict:
    """Run ``benchmarks/<script> --json *args`` with this Python; its figures, from the JSON line it prints
    (the only line of its stdout when `only_line`, else the last)."""
    import json

    result = subprocess.run(
        [sys.executable, f"benchmarks/{script}", "--json", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    lines = result.stdout.strip().splitlines()
    assert lines and (len(lines) == 1 or not only_line), result.stdout
    return json.loads(lines[-1])


def make_course(dest: Path, names: list[str]) -> Path:
    """A fresh course directory: the repository's nbgrader_config.py and source/ for `names`."""
    from autograder.cli.simulate import make_course as _make_course

    return _make_course(dest, ROOT, names)


def execute_notebook(path: Path, timeout: int = 300) -> nbformat.NotebookNode:
    """Execute a copy of the notebook at `path` (errors recorded in outputs, not raised)."""
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb, kernel_name=KERNEL, timeout=timeout, allow_errors=True, resources={"metadata": {"path": str(path.parent)}}
    )
    client.execute()
    return nb


def error_outputs(nb: nbformat.NotebookNode) -> list[tuple[str, str, str]]:
    """(cell id, ename, evalue) of every error output in an executed notebook."""
    return [
        (cell.get("id", "?"), out["ename"], out["evalue"])
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if out.output_type == "error"
    ]


def pytest_configure(config: pytest.Config) -> None:
    """Under pytest-xdist (`-n N`), each worker gets its share of the CPUs, and so does every kernel, grader and
    server it starts (OMP_NUM_THREADS, which they inherit; course_utils.training.set_threads honours it).
    N workers with a PyTorch thread per CPU each contend: OpenMP's waiting threads spin, and a notebook that
    trains took three times its CPU time beside another one."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if workers > 1:
        import torch

        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
        share = max(1, cpus // workers)
        os.environ["OMP_NUM_THREADS"] = str(share)
        torch.set_num_threads(share)


@functools.cache
def kernel_installed() -> bool:
    from jupyter_client.kernelspec import KernelSpecManager

    return KERNEL in KernelSpecManager().find_kernel_specs()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """`slow` and `browser` tests run notebooks, nbgrader or JupyterLab: without the course kernel they
    skip (before their fixtures start anything). The unit tests (`make test-fast`) do not need it."""
    if (item.get_closest_marker("slow") or item.get_closest_marker("browser")) and not kernel_installed():
        pytest.skip(f"the {KERNEL!r} Jupyter kernel is not installed: run `make env` first")


def stderr_outputs(nb: nbformat.NotebookNode) -> list[tuple[str, str]]:
    """(cell id, text) of every stderr stream: nbgrader fails a graded cell that writes to stderr."""
    return [
        (cell.get("id", "?"), out["text"][:300])
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if out.output_type == "stream" and out.get("name") == "stderr"
    ]
