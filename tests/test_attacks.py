"""Hostile students against the split grader: nothing a submission does earns points or damages the course.

Each attack (tests/cases/attacks/*.py) is its own student in one class of 01_convolution (and 06_lenet, and
05_backprop for autograd's engine). The whole class is graded by plain `nbgrader autograde`; samples of it by
the Formgrader's Autograde button (its REST handler, on a real Jupyter server) and by `python -m autograder
autograde --jobs 2`, the same grader on other routes. Every exact score below is the points of the tests the
attack must pass, read from the source notebook; afterwards the gradebook, source/ and a canary file in the
course root are intact.
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
import urllib.request
from pathlib import Path

import nbformat
import pytest

from autograder import tool_env
from autograder.cli.simulate import SOLVED, submission, submit
from conftest import ROOT, make_course, nbgrader
from servers import CHROMIUM, chromium, jupyter_server

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is not installed (make system-deps)"),
]

ATTACKS = Path(__file__).parent / "cases" / "attacks"
ALL_01 = {
    **{name: SOLVED for name in ("corr2d", "convolve2d", "conv2d", "conv2d_unfold")},
    **{f"answer_{q}": SOLVED for q in ("params", "macs", "stack", "diffs", "im2col")},
}
CANARY = "the course's own file\n"
#: The parallel tool runs the same grader in more nbgrader processes: a sample for what it adds (chunks and their
#: repair, the link check before grading, the output and disk caps, forged results through its own processes).
JOBS2_SAMPLE = ("solved", "blank", "symlink_submitted", "print_flood", "forged_result", "disk_fill")
SAMPLES = {
    "jobs2": JOBS2_SAMPLE,
    # the Formgrader grades inside the Jupyter server, as the instructor: the students that go for the grader's
    # process, its files and its page
    "formgrader": (
        *JOBS2_SAMPLE,
        "transformer",
        "tensor_subclass",
        "deleted_tests_patched",
        "script_output",
        "patch_checks",
        "read_hidden",
        "snoop",
        "environment",
        "script_call",
    ),
}
#: Markup in a student's own cells: each sets window.PWNED in any page that runs it.
MARKDOWN_SCRIPT = (
    'A note <script>window.PWNED = 1</script> with <img src=x onerror="window.PWNED = 1"> and '
    '[a link](javascript:window.PWNED=1) <iframe srcdoc="<script>parent.PWNED=1</script>"></iframe>'
)
RAW_SCRIPT = "<script>window.PWNED = 1; document.title = 'PWNED'</script>"


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
    conv2d_dtype = points("01_convolution", ("test_conv2d_hidden_dtype",))
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
            for name in ("patch_checks", "fake_module", "thread", "disabled_modes", "subprocess_conv")
        },
        # zeros of the right shape and dtype (whatever they claim to equal): conv2d's dtype test, which checks
        # the dtype alone, is all they really solve
        **{
            name: ({**ALL_01, "conv2d": attack(name)}, [], full - conv2d + conv2d_dtype)
            for name in ("tensor_subclass", "patch_any", "settrace")
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
        # a blank notebook whose functions publish results, errors and display updates: nothing they send counts
        "forged_result": ({name: attack("forged_result") for name in ALL_01}, [], 0),
        "forged_thread": (ALL_01, [(2, attack("forged_thread"))], full),
        # live markup in a student cell, in a Markdown cell and a raw cell, and from inside a graded call
        "script_output": (
            ALL_01,
            [
                (2, attack("script_output")),
                (3, nbformat.v4.new_markdown_cell(MARKDOWN_SCRIPT)),
                (4, nbformat.v4.new_raw_cell(RAW_SCRIPT)),
            ],
            full,
        ),
        "script_call": ({**ALL_01, "conv2d": attack("script_call")}, [], full - conv2d),
        "disk_fill": (ALL_01, [(2, attack("disk_fill"))], full),
        "disk_keep": (ALL_01, [(2, attack("disk_keep"))], full),
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
        for position, cell in extra:
            cell = nbformat.v4.new_code_cell(cell) if isinstance(cell, str) else cell
            nb.cells.insert(position if position >= 0 else len(nb.cells), cell)
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
                        if b"autograder.trusted.grader_kernel" in argv
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


def _grade(course: Path, assignment: str, route: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """Grade the class by `route` (ROUTES); the grading run's temporary files go to course/../tmp, which tests find
    empty after."""
    env = {**tool_env(), **(env or {})}
    env["CNN_SECRET_CANARY"] = "the grader's secret"
    env["TMPDIR"] = str(course.parent / "tmp")
    (course.parent / "tmp").mkdir(exist_ok=True)
    if route == "formgrader":
        return _grade_formgrader(course, assignment, env)
    command = (
        [sys.executable, "-m", "autograder", "autograde", assignment, "--jobs", "2"]
        if route == "jobs2"
        else [sys.executable, "-m", "nbgrader", "autograde", assignment]
    )
    return subprocess.run(command, cwd=course, capture_output=True, text=True, timeout=1500, env=env)


def _grade_formgrader(course: Path, assignment: str, env: dict) -> subprocess.CompletedProcess:
    """Each submission graded through the Formgrader's Autograde button: its REST handler, on a real Jupyter server
    (as the instructor, in the course folder). Returns the answers and the server's log as a CompletedProcess; its
    returncode is the number of answers that were not a success."""
    students = sorted(p.name for p in (course / "submitted").iterdir())
    root = course.parent / "server"
    root.mkdir(exist_ok=True)
    answers, failed = [], 0
    with jupyter_server(course, root, "server", env={k: env[k] for k in ("CNN_SECRET_CANARY", "TMPDIR")}) as server:
        stop, waits = threading.Event(), []

        def ping():  # how long the server takes to answer while it grades
            while not stop.is_set():
                start = time.monotonic()
                try:
                    urllib.request.urlopen(f"{server['base']}/api/status?token={server['token']}", timeout=600).read()
                except OSError:
                    pass
                waits.append((start, time.monotonic()))
                stop.wait(0.5)

        pinger = threading.Thread(target=ping, daemon=True)
        pinger.start()
        gradings = []
        for student in students:
            started = time.monotonic()
            request = urllib.request.Request(
                f"{server['base']}/formgrader/api/submission/{assignment}/{student}/autograde",
                data=b"{}",
                method="POST",
                headers={"Authorization": f"token {server['token']}"},
            )
            with urllib.request.urlopen(request, timeout=600) as response:
                answer = json.loads(response.read())
            failed += not answer.get("success")
            answers.append(f"{student}: {json.dumps(answer)[:3000]}")
            gradings.append((student, started, time.monotonic()))
        stop.set()
        pinger.join()
        worst = max(end - start for start, end in waits)
        answers.append(f"server answered within {worst:.1f} s at worst ({len(waits)} requests)")
        log = Path(server["log"]).read_text()
    # the server kept answering while it graded (autograder/hooks/formgrader.py): a request made during a grading
    # was answered before that grading ended (on a blocked event loop, none is)
    for student, started, ended in gradings:
        if ended - started > 3:
            assert any(started < s and e < ended for s, e in waits), f"no answer while grading {student}: {log[-3000:]}"
    for student in students:  # the score line of each, in the server's log (autograder.hooks.submissions.report_score)
        assert f"[cnn-course] {student} {assignment}: " in log, log[-3000:]
    return subprocess.CompletedProcess(["formgrader"], failed, "\n".join(answers), log[-20000:])


def _scores(course: Path) -> dict[str, float]:
    result = nbgrader("export", "--to", str(course / "grades.csv"), cwd=course)
    assert result.returncode == 0, result.stderr[-3000:]
    with open(course / "grades.csv") as f:
        return {row["student_id"]: float(row["score"]) for row in csv.DictReader(f)}


def _outputs(course: Path, assignment: str, student: str) -> str:
    path = course / "autograded" / student / assignment / f"{assignment}.ipynb"
    if not path.parent.parent.exists() and not (course / "submitted" / student).exists():
        pytest.skip(f"{student} is not in this class (this route grades a sample of the class)")
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
# the routes a class is graded by: plain nbgrader (the whole class), the course's parallel tool and the Formgrader's
# Autograde button (a sample of it, which shows they grade alike)
ROUTES = ("nbgrader", "jobs2", "formgrader")


@pytest.fixture(
    scope="module",
    params=[pytest.param(route, marks=pytest.mark.xdist_group(f"attacks-{route}")) for route in ROUTES],
)
def graded_01(request, tmp_path_factory, server):
    course = make_course(tmp_path_factory.mktemp(f"attacks-{request.param}") / "course", ["01_convolution"])
    assert nbgrader("generate_assignment", "01_convolution", "--force", cwd=course).returncode == 0
    (course / "canary.txt").write_text(CANARY)
    os.chmod(course / "canary.txt", 0o600)
    students = _students_01(course, server[0])
    if request.param != "nbgrader":  # the same grader on another route: a sample of the class shows it grades alike
        students = {name: students[name] for name in SAMPLES[request.param]}
    _write_class(course, "01_convolution", students)
    before = _gradebook_rows(course / "gradebook.db")
    digest = hashlib.sha256((course / "source" / "01_convolution" / "01_convolution.ipynb").read_bytes()).hexdigest()
    with PeakMemory() as memory:
        result = _grade(course, "01_convolution", request.param)
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
    from autograder.hooks.feedback import hidden_lines

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


def test_autograds_engine_is_off_limits_to_a_submission(tmp_path):
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
    result = _grade(course, name, "nbgrader")
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


# ---------------------------------------------------------------------------------------------
# the second round: guarantees, each attacked by its own students above and below


def _graded(course: Path, assignment: str, student: str) -> nbformat.NotebookNode:
    path = course / "autograded" / student / assignment / f"{assignment}.ipynb"
    if not path.exists() and not (course / "submitted" / student).exists():
        pytest.skip(f"{student} is not in this class (this route grades a sample of the class)")
    return nbformat.read(path, as_version=4)


def _is_test(cell) -> bool:
    meta = cell.metadata.get("nbgrader", {})
    return bool(meta.get("grade")) and not meta.get("solution")


LIVE = ("<script", "onerror", "javascript:", "<iframe", "ontoggle", "<svg", "srcdoc")


def test_no_test_cell_holds_anything_nbgrader_reads_as_a_result(graded_01):
    """nbgrader scores a test cell by its first execute_result (a number is partial credit), an error, or stderr:
    only the grader's own error may be there, never a result, nor anything the sandbox sent but plain stdout."""
    for student in ("forged_result", "forged_thread", "script_call", "solved"):
        nb = _graded(graded_01["course"], "01_convolution", student)
        for cell in filter(_is_test, nb.cells):
            kinds = [(o.output_type, o.get("name")) for o in cell.outputs]
            assert ("execute_result", None) not in kinds and ("stream", "stderr") not in kinds, (student, kinds)
            assert all(o.output_type in ("stream", "error") for o in cell.outputs), (student, kinds)
    forged = _graded(graded_01["course"], "01_convolution", "forged_result")
    errors = [c for c in filter(_is_test, forged.cells) if any(o.output_type == "error" for o in c.outputs)]
    assert len(errors) == len(list(filter(_is_test, forged.cells))), "a blank notebook's test cell did not fail"


def _live_markup(nb: nbformat.NotebookNode, course_markdown: set[str]) -> list[str]:
    found = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type in ("markdown", "raw") and cell.source not in course_markdown:
            found += [f"cell {index} ({cell.cell_type}): {word}" for word in LIVE if word in cell.source.lower()]
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            extra = set(data) - {"text/plain", "text/html", "image/png", "image/jpeg", "image/gif"}
            if extra:
                found.append(f"cell {index}: output types {sorted(extra)}")
            html = str(data.get("text/html", "")).lower()
            found += [f"cell {index}: html {word}" for word in LIVE if word in html]
            if "isolated" in json.dumps(output.get("metadata", {})):
                found.append(f"cell {index}: isolated")
    return found


def test_no_student_markup_is_left_live_in_a_graded_notebook(graded_01):
    course = graded_01["course"]
    source = nbformat.read(course / "source" / "01_convolution" / "01_convolution.ipynb", as_version=4)
    course_markdown = {c.source for c in source.cells if c.cell_type == "markdown"}
    if "script_output" not in graded_01["students"]:
        pytest.skip("script_output is not in this class (this route grades a sample of the class)")
    submitted = nbformat.read(
        course / "submitted" / "script_output" / "01_convolution" / "01_convolution.ipynb", as_version=4
    )
    assert _live_markup(submitted, course_markdown), "the attack holds no live markup: this test could not fail"
    for student in ("script_output", "script_call"):
        nb = _graded(course, "01_convolution", student)
        assert not _live_markup(nb, course_markdown), (student, _live_markup(nb, course_markdown))
    nb = _graded(course, "01_convolution", "script_output")
    shown = next(c for c in nb.cells if c.cell_type == "code" and "SCRIPT shown" in c.source)
    assert "<b>bold</b>" in json.dumps(shown.outputs)  # cleaned HTML still shows
    assert any(c.cell_type == "markdown" and "A note" in c.source for c in nb.cells)  # and the text stays


def test_the_run_leaves_nothing_in_the_temporary_folder(graded_01):
    """Every file a sandbox can write lives inside it (RAM-backed, capped) and goes with it; the grader's own
    folder of the run is removed when nbgrader ends: TMPDIR holds nothing afterwards, even after disk_keep
    killed its sandbox mid-cell."""
    left = sorted(p.name for p in (graded_01["course"].parent / "tmp").iterdir())
    assert left == [], left[:20]


def test_every_place_a_sandbox_can_write_is_capped(graded_01):
    out = _outputs(graded_01["course"], "01_convolution", "disk_fill")
    assert "DISK done" in out, out[:3000]
    reached = {line.split()[1]: line for line in out.splitlines() if line.startswith("DISK /") or "DISK fill" in line}
    for target, cap in [
        ("/tmp/matplotlib/fill", 512),
        ("/tmp/ipc/fill", 512),
        ("/tmp/fill", 512),
        ("/dev/shm/fill", 64),
        ("fill", 512),
    ]:
        line = reached.get(target, "")
        assert "full after" in line and int(line.split("full after")[1].split()[0]) <= cap, (target, line)
    for target in ("/fill", "/rpc/fill", "/dev/fill"):  # read-only
        assert "full after 0 MiB" in reached.get(target, ""), (target, reached.get(target))


def test_no_student_script_runs_in_the_feedback_or_the_formgrader(graded_01, tmp_path):
    """The feedback page and the Formgrader's view of each graded notebook, opened in Chromium: no script of the
    student's runs. The same payloads rendered without the course's cleaning do run (the check can fail)."""
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is missing")
    from nbconvert import HTMLExporter

    course = graded_01["course"]
    if "script_output" not in graded_01["students"]:
        pytest.skip("script_output is not in this class (this route grades a sample of the class)")
    students = [s for s in ("script_output", "script_call") if (course / "autograded" / s).exists()]
    for student in students:
        result = nbgrader("generate_feedback", "01_convolution", "--student", student, "--force", cwd=course)
        assert result.returncode == 0, result.stderr[-3000:]
    raw = tmp_path / "raw.html"  # the submission as plain nbconvert renders it, unsanitized
    raw.write_text(
        HTMLExporter().from_filename(
            str(course / "submitted" / "script_output" / "01_convolution" / "01_convolution.ipynb")
        )[0]
    )
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "cnn-course") as gradebook:
        ids = {s: gradebook.find_submission_notebook("01_convolution", "01_convolution", s).id for s in students}
    root = tmp_path / "server"
    root.mkdir()
    with chromium() as browser, jupyter_server(course, root, "lab") as server:
        page = browser.new_page()

        def ran(url: str) -> bool:
            page.goto(url)
            page.wait_for_load_state("load")
            page.wait_for_timeout(1500)
            return bool(page.evaluate("() => Boolean(window.PWNED) || document.title === 'PWNED'"))

        assert ran(raw.as_uri()), "the attack's markup does not run even unsanitized: this test could not fail"
        for student in students:
            feedback = next((course / "feedback" / student / "01_convolution").glob("*.html"))
            assert not ran(feedback.as_uri()), f"{student}'s script ran in the feedback page"
            view = f"{server['base']}/formgrader/submissions/{ids[student]}/?token={server['token']}"
            assert not ran(view), f"{student}'s script ran in the Formgrader's view of the graded notebook"
            assert "corr2d" in page.content(), page.content()[:500]  # the graded notebook was shown
        # the Formgrader's Autograde button (its REST handler) grades split and sandboxed too: the same score again
        before = _scores(course)
        request = urllib.request.Request(
            f"{server['base']}/formgrader/api/submission/01_convolution/script_output/autograde",
            data=b"{}",
            method="POST",
            headers={"Authorization": f"token {server['token']}"},
        )
        with urllib.request.urlopen(request, timeout=300) as response:
            answer = json.loads(response.read())
        assert answer["success"] is True, answer
        view = f"{server['base']}/formgrader/submissions/{ids['script_output']}/?token={server['token']}"
        assert not ran(view), "script_output's script ran in the Formgrader's view after the Formgrader graded it"
    assert _scores(course) == before


ALL_06 = {g: SOLVED for g in ("build_lenet", "evaluate_accuracy", "batch_norm2d", "optimizer_steps", "answers")}
SAMPLE_06 = ("solved", "shadow_float", "pretrained", "optim_class")


def _students_06() -> dict:
    name = "06_lenet"
    full = points(name)
    training = points(name, ("test_train_epoch", "test_short_training"))
    steps = points(name, ("test_momentum_step", "test_adam_step", "test_optimizer_steps")) - points(
        name, ("test_optimizer_steps_hidden_errors",)
    )
    return {
        "solved": (ALL_06, [], full),
        # train_epoch does nothing; `float` lies about accuracies; other builtins and names lie too
        "shadow_float": ({**ALL_06, "evaluate_accuracy": _evaluate_and("shadow_float")}, [], full - training),
        "shadow_builtins": ({**ALL_06, "evaluate_accuracy": _evaluate_and("shadow_builtins")}, [], full - training),
        # a stored network for the graded short run, weights nudged and a falling loss made up for the rest
        "pretrained": ({**ALL_06, "evaluate_accuracy": _evaluate_and("pretrained")}, [], full - training),
        # torch.optim inside the optimizer steps (train_epoch, solved, must still use the optimizer it is given)
        "optim_class": ({**ALL_06, "optimizer_steps": attack("optim_class")}, [], full - steps),
        "optim_functional": ({**ALL_06, "optimizer_steps": attack("optim_functional")}, [], full - steps),
    }


def _evaluate_and(attack_name: str) -> str:
    """06's evaluate_accuracy cell, solved, with the attack's train_epoch after it (one cell holds both)."""
    source = nbformat.read(ROOT / "source" / "06_lenet" / "06_lenet.ipynb", as_version=4)
    from course_utils.cells import solved_source

    cell = next(c for c in source.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "evaluate_accuracy")
    evaluate = solved_source(cell.source).split("\n\ndef train_epoch")[0]
    return evaluate + "\n\n" + attack(attack_name)


@pytest.fixture(
    scope="module",
    # 06's class on plain nbgrader and the Formgrader (the parallel tool's route is 01's: the same grader)
    params=[
        pytest.param(route, marks=pytest.mark.xdist_group(f"attacks06-{route}")) for route in ROUTES if route != "jobs2"
    ],
)
def graded_06(request, tmp_path_factory):
    name = "06_lenet"
    course = make_course(tmp_path_factory.mktemp(f"attacks06-{request.param}") / "course", [name])
    assert nbgrader("generate_assignment", name, "--force", cwd=course).returncode == 0
    students = _students_06()
    if request.param != "nbgrader":
        students = {s: students[s] for s in SAMPLE_06}
    _write_class(course, name, students)
    digest = hashlib.sha256((course / "source" / name / f"{name}.ipynb").read_bytes()).hexdigest()
    result = _grade(course, name, request.param)
    return {"course": course, "students": students, "result": result, "digest": digest, "scores": _scores(course)}


def test_06_attacks_earn_exactly_what_they_solved(graded_06):
    """A shadowed builtin changes no test; a stored network passes no training test; torch.optim inside the
    optimizer steps costs their tests, while train_epoch still uses torch.optim's optimizer it is given."""
    expected = {student: score for student, (_, _, score) in graded_06["students"].items()}
    output = graded_06["result"].stdout[-3000:] + graded_06["result"].stderr[-3000:]
    assert graded_06["scores"] == expected, output
    digest = hashlib.sha256((graded_06["course"] / "source" / "06_lenet" / "06_lenet.ipynb").read_bytes()).hexdigest()
    assert digest == graded_06["digest"]
    assert sorted(p.name for p in (graded_06["course"].parent / "tmp").iterdir()) == []


def test_torch_optim_is_refused_with_the_reason(graded_06):
    out = _outputs(graded_06["course"], "06_lenet", "optim_class")
    assert "torch.optim, which is off limits in this exercise" in out, out[-3000:]


SLOW_LIMIT = 20  # seconds per notebook for this class (CNN_COURSE_NOTEBOOK_SECONDS overrides nbgrader_config.py)
SLOW = f"SLOW_SECONDS = 12\n{attack('slow_cells')}"


@pytest.fixture(
    scope="module",
    # the time limit is the grading kernel's, per notebook, on every route: plain nbgrader shows it
    params=[pytest.param(g, marks=pytest.mark.xdist_group(f"attacks-slow-{g}")) for g in ("nbgrader",)],
)
def graded_slow(request, tmp_path_factory):
    """Four cells that each sleep under the cell timeout; a conv2d that sleeps in every call; a student after them."""
    course = make_course(tmp_path_factory.mktemp(f"attacks-slow-{request.param}") / "course", ["01_convolution"])
    assert nbgrader("generate_assignment", "01_convolution", "--force", cwd=course).returncode == 0
    # the tests graded before time runs out
    before_conv2d = points("01_convolution", ("test_corr2d", "test_convolve2d"))
    slow_conv2d = (
        "import time as _time\n\n\ndef conv2d(X, W, b=None):\n    _time.sleep(12)\n"
        "    return _F.conv2d(X, W, b)\n\n\nimport torch.nn.functional as _F\n"
    )
    students = {
        "slow_cells": (ALL_01, [(2, SLOW), (3, SLOW), (4, SLOW), (5, SLOW)], 0),
        # conv2d's first call ends near the limit: its tests and every later one score zero
        "slow_calls": ({**ALL_01, "conv2d": slow_conv2d}, [], before_conv2d),
        "solved": (ALL_01, [], points("01_convolution")),
    }
    _write_class(course, "01_convolution", students)
    start = time.monotonic()
    limit = {"CNN_COURSE_NOTEBOOK_SECONDS": str(SLOW_LIMIT)}
    result = _grade(course, "01_convolution", request.param, limit)
    return {
        "course": course,
        "students": students,
        "result": result,
        "seconds": time.monotonic() - start,
        "scores": _scores(course),
        "jobs": 2 if request.param == "jobs2" else 1,
    }


def test_a_notebooks_grading_time_is_limited_as_a_whole(graded_slow):
    """Past its grading time the rest of a notebook scores zero, with the reason; the class goes on; the run takes
    about the limit per slow student, not 25 s for each of their cells and calls."""
    expected = {student: score for student, (_, _, score) in graded_slow["students"].items()}
    result = graded_slow["result"]
    assert graded_slow["scores"] == expected, result.stdout[-3000:] + result.stderr[-3000:]
    for student in ("slow_cells", "slow_calls"):
        out = _outputs(graded_slow["course"], "01_convolution", student)
        assert f"this notebook used all of its {SLOW_LIMIT} s of grading time" in out, out[-2000:]
    # two slow students at most SLOW_LIMIT each (plus starting kernels and one honest notebook), not 4 x 12 + 9 x 12
    assert graded_slow["seconds"] < 2 * SLOW_LIMIT / graded_slow["jobs"] + 90, graded_slow["seconds"]
    assert sorted(p.name for p in (graded_slow["course"].parent / "tmp").iterdir()) == []
