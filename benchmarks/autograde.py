"""Grade a simulated class serially (plain `nbgrader autograde`), in parallel (`python -m autograder
autograde --jobs N`) and, for the cost of safety, serially in one ordinary kernel (`CNN_COURSE_NO_SANDBOX=1`, what
plain nbgrader does without the course) in one run; print wall and CPU seconds per submission and their ratios.

    python benchmarks/autograde.py --json                    # 40 submissions of 01_convolution, 2 jobs
    python benchmarks/autograde.py --json --submissions 1    # a smoke run (what the tests use)

The class cycles through five kinds of student (solved, blank, a wrong function, a cheater, a syntax
error; the round-trip test in tests/ gives each one's exact score). The three runs grade the same
submissions in fresh course folders; the scores are checked equal before the times are printed.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from autograder import tool_env
from autograder.cli.simulate import SOLVED, make_course, submission, submit

ROOT = Path(__file__).resolve().parent.parent
NAME = "01_convolution"
_ALL = {"corr2d": SOLVED, "convolve2d": SOLVED, "conv2d": SOLVED, "conv2d_unfold": SOLVED}
# Each kind of student: {grade_id of a solution cell: SOLVED or the cell's new source}; cells not named stay stubs.
KINDS = {
    "solved": _ALL,
    "blank": {},
    "wrong_convolve2d": {**_ALL, "convolve2d": "def convolve2d(X, K):\n    return corr2d(X, K, 'valid')\n"},
    "cheater": {
        **_ALL,
        "conv2d": (
            "from torch.nn.functional import conv2d as _torch_conv\n\n"
            "def conv2d(X, W, b=None):\n    return _torch_conv(X, W, b)\n"
        ),
    },
    "syntax_error": {**_ALL, "corr2d": "def corr2d(X, K, mode='valid')\n    return X\n"},
}


def _adopt_orphans() -> None:
    """Make this process the reaper of its orphaned descendants (Linux's PR_SET_CHILD_SUBREAPER): a grading
    kernel's zygote outlives its nbgrader process, and its CPU (and its kernels' and sandboxes') would be lost."""
    import ctypes

    ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)


def _reap_orphans(seconds: float = 60) -> None:
    """Wait for the descendants adopted during a run, so that their CPU counts in RUSAGE_CHILDREN."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            time.sleep(0.05)


def _run(args: list[str], cwd: Path, env: dict | None = None) -> tuple[float, float]:
    """Run `python args` in `cwd`; (wall seconds, CPU seconds of it and of every process it started)."""
    before, start = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
    result = subprocess.run(
        [sys.executable, *args], cwd=cwd, capture_output=True, text=True, env={**tool_env(), **(env or {})}
    )
    wall = time.perf_counter() - start
    _reap_orphans()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def course_with_class(dest: Path, submissions: int) -> Path:
    course = make_course(dest, ROOT, [NAME])
    _run(["-m", "nbgrader", "generate_assignment", NAME], course)
    released = nbformat.read(course / "notebooks" / NAME / f"{NAME}.ipynb", as_version=4)
    source = nbformat.read(course / "source" / NAME / f"{NAME}.ipynb", as_version=4)
    kinds = list(KINDS)
    for i in range(submissions):
        kind = kinds[i % len(kinds)]
        submit(course, NAME, f"s{i:03d}_{kind}", submission(released, source, KINDS[kind]))
    return course


def scores(course: Path) -> dict[str, float]:
    _run(["-m", "nbgrader", "export", "--to", "grades.csv"], course)
    with open(course / "grades.csv") as f:
        return {row["student_id"]: float(row["score"]) for row in csv.DictReader(f)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--submissions", type=int, default=40)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args(argv)
    _adopt_orphans()
    with tempfile.TemporaryDirectory() as tmp:
        courses = {
            kind: course_with_class(Path(tmp) / kind, args.submissions) for kind in ("unsafe", "serial", "parallel")
        }
        # plain nbgrader in one ordinary in-process kernel (trusted code only: what nbgrader does without the course)
        unsafe_s, unsafe_cpu = _run(
            ["-m", "nbgrader", "autograde", NAME], courses["unsafe"], {"CNN_COURSE_NO_SANDBOX": "1"}
        )
        serial_s, serial_cpu = _run(["-m", "nbgrader", "autograde", NAME], courses["serial"])
        parallel_s, parallel_cpu = _run(
            ["-m", "autograder", "autograde", NAME, "--jobs", str(args.jobs), "--no-progress"], courses["parallel"]
        )
        if not scores(courses["serial"]) == scores(courses["parallel"]) == scores(courses["unsafe"]):
            raise SystemExit("the three runs gave different scores")
    n = args.submissions
    figures = {
        "serial_s": round(serial_s, 1),
        "parallel_s": round(parallel_s, 1),
        "unsafe_s": round(unsafe_s, 1),
        "jobs": args.jobs,
        "submissions": n,
        "speedup": round(serial_s / parallel_s, 2),
        # per submission, serial: the split sandboxed grader against one ordinary kernel
        "safe_wall_s_per_submission": round(serial_s / n, 2),
        "unsafe_wall_s_per_submission": round(unsafe_s / n, 2),
        "safe_cpu_s_per_submission": round(serial_cpu / n, 2),
        "unsafe_cpu_s_per_submission": round(unsafe_cpu / n, 2),
        "parallel_cpu_s_per_submission": round(parallel_cpu / n, 2),
        "safe_over_unsafe_wall": round(serial_s / unsafe_s, 2),
        "safe_over_unsafe_cpu": round(serial_cpu / unsafe_cpu, 2),
        "load": [round(v, 2) for v in os.getloadavg()],
    }
    print(
        json.dumps(figures)
        if args.json
        else f"{n} submissions: serial {serial_s:.1f} s, {args.jobs} jobs {parallel_s:.1f} s "
        f"({serial_s / parallel_s:.2f}x); unsandboxed serial {unsafe_s:.1f} s: safe/unsafe "
        f"{figures['safe_over_unsafe_wall']}x wall, {figures['safe_over_unsafe_cpu']}x CPU"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
