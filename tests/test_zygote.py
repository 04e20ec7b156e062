"""autograder.trusted.zygote: grading kernels are forked from one warm process, or started plainly when it can't."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # starts kernels


@pytest.fixture
def grader_kernels(monkeypatch, tmp_path):
    """Kernel managers for the grading kernel spec, as SplitExecute finds it (autograder/jupyter/kernels).
    No plan: the kernel starts, and answers any cell with why it cannot grade."""
    from jupyter_client import KernelManager

    from autograder.sandbox.launch import GRADER_KERNEL, JUPYTER_DIR

    path = [str(JUPYTER_DIR), os.environ.get("JUPYTER_PATH")]
    monkeypatch.setenv("JUPYTER_PATH", os.pathsep.join(filter(None, path)))
    monkeypatch.setenv("CNN_COURSE_PLAN", str(tmp_path / "no-plan.json"))
    managers = []

    def start(**env):
        km = KernelManager(kernel_name=GRADER_KERNEL)
        km.start_kernel(cwd=str(tmp_path), env={**os.environ, **env})
        managers.append(km)
        kc = km.client()
        kc.start_channels()
        kc.wait_for_ready(timeout=120)
        info = kc.kernel_info(reply=True)["content"]
        reply = kc.execute_interactive("x = 1", timeout=60)["content"]
        kc.stop_channels()
        return km, {**info, "refusal": reply.get("evalue", "")}

    yield start
    for km in managers:
        if km.has_kernel:
            km.shutdown_kernel(now=True)


def _stat(pid: int) -> list[str]:
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rfind(")") + 2 :].split()


def test_each_grading_kernel_is_a_fresh_fork_of_one_warm_zygote(grader_kernels, tmp_path):
    from autograder.trusted import zygote

    # the environment each fork gets is the one nbgrader gives it, not the zygote's: here, where each finds its tests
    (tmp_path / "empty.json").write_text('{"tests": [], "setup": [], "solutions": []}')
    first, info = grader_kernels(CNN_COURSE_PLAN=str(tmp_path / "missing.json"))
    second, info2 = grader_kernels(CNN_COURSE_PLAN=str(tmp_path / "empty.json"))
    assert info["implementation"] == info2["implementation"] == "cnn-course-grader"
    assert "could not read the course's test cells: FileNotFoundError" in info["refusal"], info["refusal"]
    assert "the plan has no test cells" in info2["refusal"], info2["refusal"]
    assert isinstance(first.provisioner, zygote.ZygoteProvisioner)
    forks = [km.provisioner.process for km in (first, second)]
    assert all(isinstance(p, zygote.ForkedKernel) for p in forks), forks
    parent = zygote._shared().process.pid
    for km in (first, second):
        pid = km.provisioner.process.pid
        state = _stat(pid)
        assert int(state[1]) == parent, "not a child of the zygote"
        assert int(state[2]) == int(state[3]) == pid, "not the leader of its own session and process group"
        assert Path(f"/proc/{pid}/cwd").resolve() == tmp_path.resolve()
    first.shutdown_kernel()  # asks the kernel to stop: it exits by itself
    assert first.provisioner is None or first.provisioner.process is None
    assert forks[0].poll() == 0
    second.shutdown_kernel(now=True)  # kills its process group
    assert forks[1].poll() == -9


def test_without_its_zygote_the_grading_kernel_starts_as_a_plain_process(grader_kernels, monkeypatch, caplog):
    from autograder.trusted import zygote

    monkeypatch.setattr(zygote, "_zygote", None)
    monkeypatch.setattr(zygote, "_failed", "RuntimeError: no zygote in this test")
    km, info = grader_kernels()
    assert info["implementation"] == "cnn-course-grader"
    assert isinstance(km.provisioner.process, subprocess.Popen)
    assert "starting the grading kernel as a new process (RuntimeError: no zygote in this test)" in caplog.text


def test_when_its_zygote_dies_grading_goes_on_with_plain_kernels(grader_kernels, monkeypatch, caplog):
    from autograder.trusted import zygote

    dying = zygote.Zygote()
    monkeypatch.setattr(zygote, "_zygote", dying)
    monkeypatch.setattr(zygote, "_failed", None)
    dying.process.kill()
    dying.process.wait()
    for _ in range(2):
        km, info = grader_kernels()
        assert info["implementation"] == "cnn-course-grader"
        assert isinstance(km.provisioner.process, subprocess.Popen)
    assert zygote._zygote is None and "the zygote stopped answering" in zygote._failed
    assert caplog.text.count("starting the grading kernel as a new process (the zygote stopped answering") == 2


def test_the_zygote_refuses_to_fork_a_process_with_threads():
    """OpenBLAS told to use two threads starts one on import: a fork of that process could deadlock."""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "2"}
    result = subprocess.run(
        [sys.executable, "-P", "-m", "autograder.trusted.zygote"],
        input="",
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert "threads after the imports: not safe to fork" in result.stdout, result.stdout + result.stderr[-2000:]
