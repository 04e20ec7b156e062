"""Fast unit tests of the pieces that make split grading hold by construction (issue 24): which names a test cell
may take from the student, what student output becomes before any page shows it, the notebook time limit, the
sandbox's command line, and the call-scoped torch.optim ban. The end-to-end attacks are in tests/test_attacks.py."""

from __future__ import annotations

import base64
import os
import subprocess
import sys

import pytest
import torch

from autograder.hooks import markup
from autograder.trusted.grader_kernel import CourseCells, notebook_limit, student_names


def test_a_test_cell_takes_only_the_exercises_names_from_the_student():
    tests = {
        "X = torch.ones(3, 3)\nK = torch.ones(2, 2)\nresult = corr2d(X, K)\nassert float(result.sum()) == 36.0",
        "cu.checks.check_answer('q1', q1_macs, 10, why='')\nfor i in range(3):\n    abs(i)",
        "def helper(a):\n    return a\nhelper(conv2d)",
    }
    setup = {"import torch\nimport course_utils as cu"}
    solutions = {
        "def corr2d(X, K):\n    raise NotImplementedError()",
        "def _pair(v, name):\n    raise NotImplementedError()",
    }
    names = student_names(tests, setup, solutions)
    assert names == {"corr2d", "q1_macs", "conv2d", "_pair"}
    # builtins, the setup's names and the test's own variables never come from the student
    assert not names & {"float", "abs", "range", "torch", "cu", "X", "K", "result", "helper", "i", "a"}


def test_course_cells_know_the_student_names_from_the_gradebook_rows():
    cells = CourseCells({"r = corr2d(X, K)"}, {"import torch"}, {"def corr2d(X, K):\n    pass"})
    # X and K are read, never bound by the tests or the setup: they too come from the student's notebook
    assert cells.student_names == {"corr2d", "X", "K"}


def test_call_scoped_groups_are_never_notebook_wide():
    cells = CourseCells({"call_guarded(f, x, forbid=('conv', 'optim'))"}, set())
    assert cells.banned_groups() == ["conv"]


PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 16).decode()


@pytest.mark.parametrize(
    "data",
    [
        {"text/html": "<script>window.PWNED=1</script><b>x</b>"},
        {"text/html": '<img src="x" onerror="window.PWNED=1">'},
        {"text/html": '<a href="javascript:window.PWNED=1">x</a>'},
        {"text/html": "<iframe srcdoc='<script>parent.PWNED=1</script>'></iframe>"},
        {"text/html": "<svg><script>window.PWNED=1</script></svg>"},
        {"text/html": "<details open ontoggle='window.PWNED=1'>x</details>"},
        {"application/javascript": "window.PWNED=1"},
        {"image/svg+xml": "<svg><script>window.PWNED=1</script></svg>"},
        {"text/markdown": "<script>window.PWNED=1</script>"},
        {"text/latex": "\\href{javascript:1}{x}"},
        {"image/png": base64.b64encode(b"<script>window.PWNED=1</script>").decode()},  # not a PNG
    ],
)
def test_a_students_display_keeps_nothing_live(data):
    bundle, metadata = markup.display_bundle({**data, "text/plain": "shown"}, {"isolated": False, "x": 1})
    assert set(bundle) <= {"text/plain", "text/html", "image/png", "image/jpeg", "image/gif"}
    text = str(bundle).lower()
    for word in ("<script", "onerror", "javascript:", "<iframe", "ontoggle", "<svg"):
        assert word not in text, (word, bundle)
    assert metadata == {} and bundle["text/plain"] == "shown"


def test_plots_stay_images_and_html_keeps_its_formatting():
    bundle, metadata = markup.display_bundle(
        {"image/png": PNG, "text/html": "<table><tr><td><b>1</b></td></tr></table>"},
        {"image/png": {"width": 300, "height": "evil"}},
    )
    assert bundle["image/png"] == PNG and metadata == {"image/png": {"width": 300}}
    assert "<b>1</b>" in bundle["text/html"] and "<table>" in bundle["text/html"]
    assert markup.display_bundle({}, None)[0] == {"text/plain": "[output of type nothing: not shown by the grader]"}


def test_in_a_test_cell_every_message_is_plain_text():
    assert markup.as_text("execute_result", {"data": {"text/plain": "22"}}) == "22\n"
    assert markup.as_text("error", {"ename": "E", "evalue": "v", "traceback": ["x"]}) == "E: v\n"
    assert markup.as_text("display_data", {"data": {"text/html": "<b>x</b>"}}).startswith("[output of type text/html")


def test_a_students_markdown_is_cleaned_and_keeps_its_text():
    cleaned = markup.clean_markdown("# Title\n\nSome *text* <script>window.PWNED=1</script> [x](javascript:alert(1))")
    assert "<script" not in cleaned and "javascript:" not in cleaned
    assert "Title" in cleaned and "<em>text</em>" in cleaned


def test_the_notebook_time_limit_reads_a_number_or_a_table(monkeypatch):
    monkeypatch.delenv("CNN_COURSE_NOTEBOOK_SECONDS", raising=False)
    assert notebook_limit("01_convolution") == 600.0
    monkeypatch.setenv("CNN_COURSE_NOTEBOOK_SECONDS", "40")
    assert notebook_limit("01_convolution") == 40.0
    monkeypatch.setenv("CNN_COURSE_NOTEBOOK_SECONDS", '{"01_convolution": 120, "default": 300}')
    assert notebook_limit("01_convolution") == 120.0 and notebook_limit("06_lenet") == 300.0
    monkeypatch.setenv("CNN_COURSE_NOTEBOOK_SECONDS", "0")
    assert notebook_limit("01_convolution") is None


def test_nbgrader_config_sets_a_limit_for_every_assignment():
    config = {}
    exec(
        compile(open("nbgrader_config.py").read(), "nbgrader_config.py", "exec"), {"get_config": lambda: _Any()}, config
    )
    assert set(config["ASSIGNMENTS"]) <= set(config["NOTEBOOK_SECONDS"]) and "default" in config["NOTEBOOK_SECONDS"]


class _Any:
    def __getattr__(self, name):
        value = _Any()
        object.__setattr__(self, name, value)
        return value

    def __contains__(self, key):
        return False


def test_stale_grading_runs_are_removed_and_live_ones_kept(tmp_path):
    from autograder.sandbox.launch import RUN_PREFIX, remove_stale_runs

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (tmp_path / f"{RUN_PREFIX}dead").mkdir()
    (tmp_path / f"{RUN_PREFIX}dead" / "pid").write_text(str(dead.pid))
    (tmp_path / f"{RUN_PREFIX}live").mkdir()
    (tmp_path / f"{RUN_PREFIX}live" / "pid").write_text(str(os.getpid()))
    assert remove_stale_runs(str(tmp_path)) == [f"{RUN_PREFIX}dead"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{RUN_PREFIX}live"]


def test_the_sandbox_writes_nowhere_outside_itself():
    """Every writable place of the sandbox is one of its own capped RAM folders; /dev itself is read-only; the
    connection file comes from a pipe; the scoped optim sandbox gets the stand-in package over torch/optim."""
    import shutil

    from autograder.sandbox.launch import STUBS, bwrap_command

    if shutil.which("bwrap") is None:
        pytest.skip("bubblewrap is not installed")
    command = bwrap_command(7, None, None, (), ("optim",))
    pairs = list(zip(command, command[1:]))
    assert "--bind" not in command  # nothing of the host's is bound writable
    assert ("--remount-ro", "/dev") in pairs and ("--ro-bind-data", "7") in pairs
    tmpfs = [b for a, b in pairs if a == "--tmpfs"]
    sizes = [b for a, b in pairs if a == "--size"]
    assert tmpfs == ["/", "/dev/shm", "/tmp", "/submission"] and len(sizes) == 3
    optim = torch.optim.__path__[0]
    assert ("--ro-bind", str(STUBS / "optim")) in pairs and command[command.index(str(STUBS / "optim")) + 1] == optim


def test_the_optim_stand_in_refuses_every_optimizer():
    from autograder.sandbox.stubs import optim as stub

    for name in ("SGD", "Adam", "AdamW", "RMSprop", "Adagrad"):
        with pytest.raises(stub.ForbiddenOperationError, match="off limits in this exercise"):
            getattr(stub, name)([torch.zeros(1)], lr=0.1)
    with pytest.raises(AttributeError, match="off limits"):
        stub._functional  # noqa: B018


def test_the_students_own_kernel_catches_torch_optim_in_a_forbidding_call():
    from course_utils.checks import ForbiddenOperationError, call_guarded

    def step(w, g):
        opt = torch.optim.SGD([w], lr=0.1)
        w.grad = g
        opt.step()
        return w

    w = torch.zeros(2, requires_grad=True)
    with pytest.raises(ForbiddenOperationError, match="torch.optim"):
        call_guarded(step, w, torch.ones(2), forbid=("optim",), in_place=True)
    assert call_guarded(step, w, torch.ones(2), forbid=(), in_place=True) is w  # allowed elsewhere
    torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)  # and restored afterwards


def test_the_optim_ban_covers_torchs_fused_kernels_in_the_sandbox():
    from autograder.sandbox.bans import banned_ops

    names = {op.split("::")[1].split(".")[0] for op in banned_ops("optim")}
    assert {"_fused_adam_", "_fused_sgd_", "_fused_adamw_", "_fused_adagrad_"} <= names
    assert not any(n.startswith("_foreach") for n in names)  # tensor arithmetic stays allowed


def test_over_time_is_no_error_a_check_can_expect():
    from autograder.trusted.grader_kernel import OverTime
    from course_utils.checks import assert_raises

    assert not issubclass(OverTime, Exception)

    def slow():
        raise OverTime("grading stopped")

    with pytest.raises(OverTime):  # it passes through the check that expects the student's RuntimeError
        assert_raises(RuntimeError, slow)


def _plan():
    from autograder.hooks.execute import CoursePlan

    return CoursePlan(
        {
            "test_corr2d": ("test", "assert corr2d(X, K).sum() == 36"),
            "setup": ("setup", "import torch"),
            "demo": ("course", "cu.widgets.show()"),
        },
        ["def corr2d(X, K):\n    raise NotImplementedError()"],
    )


def _cell(source: str, grade_id: str | None = None, **nbgrader):
    import nbformat

    cell = nbformat.v4.new_code_cell(source)
    if grade_id is not None:
        cell.metadata["nbgrader"] = {"grade_id": grade_id, **nbgrader}
    return cell


@pytest.mark.parametrize(
    "cell, role, code",
    [
        # a course cell is known by its grade id in the gradebook, and runs the gradebook's text
        (_cell("assert corr2d(X, K).sum() == 36", "test_corr2d", grade=True, locked=True), "test", "assert corr2d"),
        (_cell("import os; os.system('cp -r source /tmp')", "test_corr2d", grade=True), "test", "assert corr2d"),
        (_cell("import os  # the student's", "setup", locked=True), "setup", "import torch"),
        # whatever a student's cell says of itself, it stays the student's: a grade id the gradebook does not
        # know, a cell marked as a graded test, a cell with no metadata
        (_cell("x = 1", "my_test", grade=True, solution=False, locked=True, points=99), "student", "x = 1"),
        (_cell("x = 2"), "student", "x = 2"),
        # the student's own code under a demonstration's grade id is simply not run
        (_cell("import os; os.remove('gradebook.db')", "demo", locked=True), "course", "cu.widgets"),
    ],
)
def test_a_cells_role_comes_from_the_gradebook_never_from_the_submission(cell, role, code):
    got_role, got_code = _plan().role(cell)
    assert got_role == role and got_code.startswith(code), (got_role, got_code)


def test_the_plan_the_grading_kernel_reads_holds_the_course_cells_only():
    import json

    plan = json.loads(json.dumps(_plan().to_json()))
    cells = CourseCells(set(plan["tests"]), set(plan["setup"]), set(plan["solutions"]))
    assert cells.tests == {"assert corr2d(X, K).sum() == 36"} and cells.setup == {"import torch"}
    assert cells.student_names == {"corr2d", "X", "K"}


#: torch's normalisation ops, by every route a student might take (06's batch_norm2d must not reach one)
NORM_CALLS = (
    "F.batch_norm(X, torch.zeros(3), torch.ones(3), training=True)",
    "F.batch_norm(X, torch.zeros(3), torch.ones(3), torch.ones(3), torch.zeros(3), training=False)",
    "torch.batch_norm(X, None, None, torch.zeros(3), torch.ones(3), True, 0.1, 1e-5, False)",
    "nn.BatchNorm2d(3)(X)",
    "nn.BatchNorm2d(3).eval()(X)",
    "nn.BatchNorm1d(3)(X[:, :, 0, 0])",
    "torch.ops.aten.native_batch_norm(X, None, None, None, None, True, 0.1, 1e-5)",
    "torch.ops.aten._native_batch_norm_legit(X, None, None, torch.zeros(3), torch.ones(3), True, 0.1, 1e-5)",
    "torch.ops.aten._native_batch_norm_legit.no_stats(X, None, None, True, 0.1, 1e-5)",
    "torch.ops.aten._native_batch_norm_legit_no_training(X, None, None, torch.zeros(3), torch.ones(3), 0.1, 1e-5)",
    "F.instance_norm(X)",
    "nn.InstanceNorm2d(3)(X)",
    "F.layer_norm(X, (8, 8))",
    "torch.ops.aten.native_layer_norm(X, [8], None, None, 1e-5)",
    "F.group_norm(X, 3)",
    "nn.GroupNorm(1, 3)(X)",
    "F.rms_norm(X, (8,))",
)
#: what batch_norm2d is written with: both guards let it through
NORM_ALLOWED = (
    "(X - X.mean(dim=(0, 2, 3), keepdim=True)) / (X.var(dim=(0, 2, 3), unbiased=False, keepdim=True) + 1e-5).sqrt()",
    "X.var(dim=(0, 2, 3), correction=1)",
    "torch.linalg.vector_norm(X, dim=1)",
    "X.norm(dim=1)",
)
_NORM_PRELUDE = (
    "import torch\nfrom torch import nn\nimport torch.nn.functional as F\n"
    "X = torch.randn(2, 3, 8, 8, generator=torch.Generator().manual_seed(0))\n"
)


@pytest.mark.parametrize("call", NORM_CALLS)
def test_each_norm_op_is_caught_by_the_students_guard(call):
    from course_utils.checks import ForbiddenOperationError, forbid

    namespace: dict = {}
    exec(_NORM_PRELUDE, namespace)
    with pytest.raises(ForbiddenOperationError, match="normalisation"):
        with forbid("norm"):
            eval(call, namespace)
    eval(call, namespace)  # and works again afterwards


def test_each_norm_op_is_refused_in_a_sandbox_with_the_norm_ban_and_arithmetic_is_not():
    """The sandbox's ban (autograder.sandbox.bans, for good in its process) refuses every route to a norm op, with
    the advice of course_utils.checks; the mean/var arithmetic of batch_norm2d still runs. One fresh process."""
    script = (
        _NORM_PRELUDE
        + "from autograder.sandbox import bans\n"
        + f"calls, allowed = {NORM_CALLS!r}, {NORM_ALLOWED!r}\n"
        + "expected = {c: eval(c) for c in allowed}\n"
        + "assert bans.install(['norm'])['groups'] == ['norm']\n"
        + "for c in calls:\n"
        + "    try:\n"
        + "        eval(c)\n"
        + "    except bans.ForbiddenOperationError as exc:\n"
        + "        assert 'normalisation' in str(exc) and 'mean and variance' in str(exc), str(exc)\n"
        + "    else:\n"
        + "        raise SystemExit('not refused: ' + c)\n"
        + "for c in allowed:\n"
        + "    assert torch.equal(eval(c), expected[c]), c\n"
        + "print('refused', len(calls))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() == f"refused {len(NORM_CALLS)}"


@pytest.mark.parametrize("call", NORM_ALLOWED)
def test_the_arithmetic_of_batch_norm_passes_the_students_guard(call):
    from course_utils.checks import forbid

    namespace: dict = {}
    exec(_NORM_PRELUDE, namespace)
    expected = eval(call, namespace)
    with forbid("norm"):
        assert torch.equal(eval(call, namespace), expected)
