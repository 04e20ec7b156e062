"""Hostile students against the split grader: nothing a submission does earns points or damages the course.

Each attack (tests/cases/attacks/*.py) is its own student in one class of 01_convolution (and 05_backprop
for autograd's engine), graded by plain `nbgrader autograde` and by `python -m autograder autograde
--jobs 2`. Every exact score below is the points of the tests the attack must pass, read from the
source notebook; afterwards the gradebook, source/ and a canary file in the course root are intact.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import pytest

from autograder import tool_env
from autograder.simulate import SOLVED, submission, submit
from conftest import ROOT, make_course, nbgrader

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is not installed (make system-deps)"),
]

ATTACKS = Path(__file__).parent / "cases" / "attacks"
ALL_01 = {"corr2d": SOLVED, "convolve2d": SOLVED, "conv2d": SOLVED}
CANARY = "the course's own file\n"
JOBS2_SAMPLE = (
    "solved",
    "blank",
    "transformer",
    "tensor_subclass",
    "symlink_submitted",
    "print_flood",
    "deleted_tests_patched",
)


def attack(name: str) -> str:
    return (ATTACKS / f"{name}.py").read_text()


def points(assignment: str, prefixes: tuple[str, ...] = ("",)) -> float:
    """The points of the test cells whose grade_id starts with one of `prefixes`."""
    nb = nbformat.read(ROOT / "source" / assignment / f"{assignment}.ipynb", as_version=4)
    return sum(
        c.metadata["nbgrader"].get("points", 0)
        for c in nb.cells
        if c.metadata.get("nbgrader", {}).get("grade")
        and not c.metadata["nbgrader"].get("solution")
        and c.metadata["nbgrader"]["grade_id"].startswith(prefixes)
    )


def _students_01(course: Path, port: int) -> dict[str, tuple[dict, list[tuple[int, str]], float]]:
    """student -> (solution-cell edits, extra cells (position, code), exact score)."""
    full = points("01_convolution")
    conv2d = points("01_convolution", ("test_conv2d",))
    corr2d_values = points("01_convolution", ("test_corr2d",)) - points(
        "01_convolution", ("test_corr2d_hidden_errors",)
    )
    course_line = f"COURSE = {str(course)!r}\n"
    return {
        "solved": (ALL_01, [], full),
        "blank": ({}, [], 0),
        "transformer": ({"corr2d": attack("transformer")}, [], 0),
        **{
            name: ({**ALL_01, "conv2d": attack(name)}, [], full - conv2d)
            for name in (
                "patch_checks",
                "fake_module",
                "tensor_subclass",
                "patch_any",
                "settrace",
                "thread",
                "disabled_modes",
                "subprocess_conv",
            )
        },
        # corr2d's value tests fail; its error checks come first and pass; convolve2d's tests give it PyTorch's corr2d
        "numpy_getattr": ({**ALL_01, "corr2d": attack("numpy_getattr")}, [], full - corr2d_values),
        "symlink_notebook": (ALL_01, [(2, course_line + attack("symlink_notebook"))], full),
        "read_hidden": (ALL_01, [(2, course_line + attack("read_hidden"))], full),
        "memory_together": (ALL_01, [(2, attack("memory_together"))], full),
        "tmp_fill": (ALL_01, [(2, attack("tmp_fill"))], full),
        "environment": (ALL_01, [(2, attack("environment"))], full),
        "print_flood": (ALL_01, [(2, attack("print_flood"))], full),
        "busy_process": (ALL_01, [(2, attack("busy_process")), (-1, attack("busy_check"))], full),
        "symlink_submitted": (ALL_01, [], 0),  # and a link in its folder: see below
        # its test cells deleted (nbgrader puts them back, with a comment line on top) and the checks patched
        "deleted_tests_patched": ({**ALL_01, "conv2d": attack("patch_checks")}, [], full - conv2d),
        "snoop": (ALL_01, [(2, course_line + attack("snoop"))], full),
        "hog": (ALL_01, [(2, attack("hog"))], full),
        "fork_bomb": (ALL_01, [(2, attack("fork_bomb"))], full),
        "network": (ALL_01, [(2, f"PORT = {port}\n" + attack("network"))], full),
        # files named autograder.py, torch.py ... beside the notebook (shadow_modules/); conv2d uses F.conv2d
        "shadow_modules": (
            {**ALL_01, "conv2d": attack("shadow_conv2d")},
            [(2, attack("shadow_own_module"))],
            full - conv2d,
        ),
    }


def _gradebook_rows(db: Path) -> dict:
    with sqlite3.connect(db) as connection:
        return {
            table: connection.execute(f"SELECT * FROM {table}").fetchall()
            for (table,) in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
            if table in ("assignment", "notebook", "grade_cells", "solution_cells", "source_cell", "student")
        }


def _write_class(course: Path, assignment: str, students: dict) -> None:
    released = nbformat.read(ROOT / "notebooks" / assignment / f"{assignment}.ipynb", as_version=4)
    source = nbformat.read(ROOT / "source" / assignment / f"{assignment}.ipynb", as_version=4)
    for student, (edits, extra, _) in students.items():
        nb = submission(released, source, edits)
        if student.startswith("deleted_tests"):
            nb.cells = [c for c in nb.cells if not c.metadata.get("nbgrader", {}).get("grade")]
        for position, code in extra:
            nb.cells.insert(position if position >= 0 else len(nb.cells), nbformat.v4.new_code_cell(code))
        submit(course, assignment, student, nb)
    if "shadow_modules" in students:
        for module in (ATTACKS / "shadow_modules").glob("*.py"):
            shutil.copy(module, course / "submitted" / "shadow_modules" / assignment / module.name)
    if "symlink_submitted" in students:
        (course / "submitted" / "symlink_submitted" / assignment / "notes").symlink_to(course / "source")


class PeakMemory:
    """Samples the peak resident memory (VmHWM) of the grading processes outside the sandbox while they run."""

    def __init__(self):
        self.peak_kib: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            for entry in os.listdir("/proc"):
                if not entry.isdigit():
                    continue
                try:
                    argv = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
                    kind = (
                        "grader_kernel"
                        if b"autograder.grader_kernel" in argv
                        else "nbgrader"
                        if any(a.endswith(b"nbgrader") for a in argv[:3])
                        else None
                    )
                    if kind is None:
                        continue
                    status = Path(f"/proc/{entry}/status").read_text()
                    hwm = int(status.split("VmHWM:")[1].split()[0])
                    self.peak_kib[kind] = max(self.peak_kib.get(kind, 0), hwm)
                except (OSError, IndexError, ValueError):
                    continue
            time.sleep(0.2)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def _grade(course: Path, assignment: str, parallel: bool) -> subprocess.CompletedProcess:
    env = tool_env()
    env["CNN_SECRET_CANARY"] = "the grader's secret"
    command = (
        [sys.executable, "-m", "autograder", "autograde", assignment, "--jobs", "2"]
        if parallel
        else [sys.executable, "-m", "nbgrader", "autograde", assignment]
    )
    return subprocess.run(command, cwd=course, capture_output=True, text=True, timeout=1500, env=env)


def _scores(course: Path) -> dict[str, float]:
    result = nbgrader("export", "--to", str(course / "grades.csv"), cwd=course)
    assert result.returncode == 0, result.stderr[-3000:]
    with open(course / "grades.csv") as f:
        return {row["student_id"]: float(row["score"]) for row in csv.DictReader(f)}


def _outputs(course: Path, assignment: str, student: str) -> str:
    path = course / "autograded" / student / assignment / f"{assignment}.ipynb"
    if not path.parent.parent.exists() and not (course / "submitted" / student).exists():
        pytest.skip(f"{student} is not in this class (the --jobs 2 class is a sample)")
    nb = nbformat.read(path, as_version=4)
    return "".join(
        o.get("text", "") + o.get("evalue", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
    )


@pytest.fixture(scope="module")
def server():
    """A TCP server on the host's loopback that records whether anyone connected."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.5)
    state = {"connections": 0, "stop": False}

    def serve():
        while not state["stop"]:
            try:
                connection, _ = listener.accept()
                state["connections"] += 1
                connection.close()
            except OSError:
                pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1], state
    state["stop"] = True
    thread.join()
    listener.close()


# each class is graded once, on one worker (--dist loadgroup), the two classes on different workers
@pytest.fixture(
    scope="module",
    params=[
        pytest.param(grader, marks=pytest.mark.xdist_group(f"attacks-{grader}")) for grader in ("nbgrader", "jobs2")
    ],
)
def graded_01(request, tmp_path_factory, server):
    course = make_course(tmp_path_factory.mktemp(f"attacks-{request.param}") / "course", ["01_convolution"])
    assert nbgrader("generate_assignment", "01_convolution", "--force", cwd=course).returncode == 0
    (course / "canary.txt").write_text(CANARY)
    os.chmod(course / "canary.txt", 0o600)
    students = _students_01(course, server[0])
    if request.param == "jobs2":  # the tool runs the same nbgrader: a sample of the class shows it grades alike
        students = {name: students[name] for name in JOBS2_SAMPLE}
    _write_class(course, "01_convolution", students)
    before = _gradebook_rows(course / "gradebook.db")
    digest = hashlib.sha256((course / "source" / "01_convolution" / "01_convolution.ipynb").read_bytes()).hexdigest()
    with PeakMemory() as memory:
        result = _grade(course, "01_convolution", request.param == "jobs2")
    return {
        "course": course,
        "students": students,
        "result": result,
        "before": before,
        "digest": digest,
        "memory": memory.peak_kib,
        "scores": _scores(course),
    }


def test_every_attack_earns_exactly_the_points_of_what_it_really_solved(graded_01):
    expected = {student: score for student, (_, _, score) in graded_01["students"].items()}
    assert graded_01["scores"] == expected, graded_01["result"].stdout[-3000:] + graded_01["result"].stderr[-3000:]


def test_the_course_survives_every_submission(graded_01):
    course = graded_01["course"]
    after = _gradebook_rows(course / "gradebook.db")
    for table in ("assignment", "notebook", "grade_cells", "solution_cells", "source_cell"):
        assert after[table] == graded_01["before"][table], f"the gradebook's {table} table changed"
    digest = hashlib.sha256((course / "source" / "01_convolution" / "01_convolution.ipynb").read_bytes()).hexdigest()
    assert digest == graded_01["digest"]
    assert (course / "canary.txt").read_text() == CANARY
    assert oct(os.stat(course / "canary.txt").st_mode & 0o777) == oct(0o600)
    assert not (course / "new_file.txt").exists()
    for student in graded_01["students"]:
        graded = course / "autograded" / student / "01_convolution" / "01_convolution.ipynb"
        assert graded.is_file() and not graded.is_symlink(), student


def test_the_sandbox_sees_no_course_file_and_no_grader_secret(graded_01):
    course = graded_01["course"]
    links = _outputs(course, "01_convolution", "symlink_notebook")
    assert "LINKS" in links and "'linked'" not in links and "'written'" not in links, links[:3000]


def test_the_sandbox_cannot_find_the_hidden_tests_nor_the_graders_environment(graded_01):
    course = graded_01["course"]
    hidden = _outputs(course, "01_convolution", "read_hidden")
    assert "HIDDEN found 0" in hidden, hidden[:3000]
    env = _outputs(course, "01_convolution", "environment")
    names = json.loads(env.split("ENV ", 1)[1].splitlines()[0].replace("'", '"'))
    assert "CNN_SECRET_CANARY" not in names and "CNN_COURSE_DB_URL" not in names and "JUPYTER_PATH" not in names
    assert set(names) <= {
        "HOME",
        "PATH",
        "LANG",
        "MPLCONFIGDIR",
        "MPLBACKEND",
        "PYTHONNOUSERSITE",
        "PWD",
        "COURSE_QUICK",
        "COURSE_DATA",
        "OMP_NUM_THREADS",
        "MKL_NUM_THREADS",
        "OPENBLAS_NUM_THREADS",
        "LC_ALL",
        "OPENBLAS_CORETYPE",
        "OPENBLAS_L2_SIZE",
        "CUDA_VISIBLE_DEVICES",
        "SHLVL",
        "_",
        "JPY_PARENT_PID",
        "CLICOLOR",
        "PAGER",
        "GIT_PAGER",
        "TERM",
        "PYDEVD_USE_FRAME_EVAL",
        "CLICOLOR_FORCE",
        "FORCE_COLOR",
        "JPY_SESSION_NAME",
    }, names


def test_feedback_never_shows_hidden_test_code(graded_01):
    course = graded_01["course"]
    _outputs(course, "01_convolution", "read_hidden")
    result = nbgrader("generate_feedback", "01_convolution", "--student", "read_hidden", cwd=course)
    assert result.returncode == 0, result.stderr[-3000:]
    html = next((course / "feedback" / "read_hidden" / "01_convolution").glob("*.html")).read_text()
    source = nbformat.read(course / "source" / "01_convolution" / "01_convolution.ipynb", as_version=4)
    from autograder.feedback import hidden_lines

    leaked = [line for line in hidden_lines(source) if line in html]
    assert not leaked, leaked[:3]


def test_resources_are_limited_per_submission(graded_01):
    course = graded_01["course"]
    flood = course / "autograded" / "print_flood" / "01_convolution" / "01_convolution.ipynb"
    assert flood.stat().st_size < 4 * 2**20, "the 500 MB printout reached the graded notebook"
    # the grader's own processes stay small (the printing happens, and is paid for, in the sandbox)
    assert graded_01["memory"].get("grader_kernel", 0) < 700 * 1024, graded_01["memory"]
    assert graded_01["memory"].get("nbgrader", 0) < 700 * 1024, graded_01["memory"]
    memory = _outputs(course, "01_convolution", "memory_together")
    if "MEMORY together" in memory:  # the kernel itself may be the process the limit stopped
        codes = json.loads(memory.split("exit codes", 1)[1].splitlines()[0])
        assert codes != [0, 0, 0], "three processes of 2.5 GiB each all succeeded"
    tmp = _outputs(course, "01_convolution", "tmp_fill")
    assert tmp.count("full after") == 2, tmp[:2000]
    for line in tmp.splitlines():
        if "full after" in line:
            assert int(line.split("full after")[1].split()[0]) <= 512, line
    busy = _outputs(course, "01_convolution", "busy_process")
    assert "BUSY started" in busy and "BUSY gone" in busy and "BUSY still running" not in busy, busy[:2000]


def test_a_link_in_the_submission_folder_scores_zero_with_the_reason(graded_01):
    course = graded_01["course"]
    output = graded_01["result"].stderr + graded_01["result"].stdout
    assert "symlink_submitted: the submission of 01_convolution holds symbolic links (notes)" in output, output[-3000:]
    kept = list((course / "rejected" / "symlink_submitted").glob("01_convolution-*"))
    assert kept and (kept[0] / "notes").is_symlink()


def test_autograds_engine_is_off_limits_on_every_route(tmp_path):
    name = "05_backprop"
    course = make_course(tmp_path / "course", [name])
    assert nbgrader("generate_assignment", name, "--force", cwd=course).returncode == 0
    solved = {g: SOLVED for g in ("conv2d_backward", "max_pool2d_backward", "avg_pool2d_backward", "learn_kernel")}
    backward_values = points(name, ("test_conv_backward",)) - points(name, ("test_conv_backward_hidden_errors",))
    exercises = points(name) - points(name, ("test_answers_form", "test_q_"))  # the questions left unanswered
    students = {
        "solved": (solved, [], exercises),
        "engine": ({**solved, "conv2d_backward": attack("engine")}, [], exercises - backward_values),
    }
    _write_class(course, name, students)
    result = _grade(course, name, parallel=False)
    assert _scores(course) == {s: score for s, (_, _, score) in students.items()}, result.stderr[-3000:]
    assert "autograd" in _outputs(course, name, "engine")


def test_snoop_cannot_read_the_course_or_write_outside_its_folder(graded_01):
    out = _outputs(graded_01["course"], "01_convolution", "snoop")
    assert "SNOOP" in out, out[:2000]
    for target in ["source", "gradebook.db", "submitted", "nbgrader_config.py"]:
        assert f"'{target}': 'FileNotFoundError'" in out, out[:2000]
    assert "'/usr/pwned.txt': 'OSError'" in out, out[:2000]  # read-only: EROFS
    assert not Path("/usr/pwned.txt").exists()
    assert not (graded_01["course"] / "pwned.txt").exists()


def test_memory_hog_gets_a_memory_error(graded_01):
    assert "HOG MemoryError" in _outputs(graded_01["course"], "01_convolution", "hog")


def test_fork_bomb_is_refused(graded_01):
    out = _outputs(graded_01["course"], "01_convolution", "fork_bomb")
    assert "FORK refused after" in out, out[:2000]
    assert int(out.split("FORK refused after", 1)[1].split()[0]) < 300


def test_network_calls_fail_even_to_the_hosts_loopback(graded_01, server):
    out = _outputs(graded_01["course"], "01_convolution", "network")
    _, state = server
    assert "NETWORK refused ('1.1.1.1', 80)" in out and "NETWORK refused ('127.0.0.1'" in out, out[:2000]
    assert "NETWORK connected" not in out and state["connections"] == 0


def test_modules_in_the_submission_folder_never_replace_the_graders(graded_01):
    """autograder.py, torch.py, IPython.py ... beside the notebook: the grading kernel (which runs in that
    folder) and the sandbox import the course's own modules; the student's own module still imports."""
    course = graded_01["course"]
    out = _outputs(course, "01_convolution", "shadow_modules")
    assert "OWN 42" in out and "SHADOW" not in out, out[:2000]
    assert "off limits" in out, out[:2000]  # the bans held: F.conv2d was refused
    ran = sorted(p.name for p in course.rglob("RAN-*"))
    assert ran == [], f"a student's module ran outside the sandbox: {ran}"
