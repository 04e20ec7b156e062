"""Grading kernels forked from a warm process: ``nbgrader autograde`` pays PyTorch's import once, not per notebook.

nbgrader starts a new grading kernel (``autograder.trusted.grader_kernel``) for every notebook it grades. Most of
that kernel's start is importing PyTorch, IPython and the course's checks: about 1.5 s of CPU, as much as
the sandbox it then starts, for every student. Here the kernel spec's provisioner (``cnn-course-zygote``,
registered in pyproject.toml) starts one *zygote* per nbgrader process: a process that imports all that,
runs nothing else, and forks a fresh kernel for each notebook.

* **Trusted code only.** The zygote never runs a student's line: it runs the grading kernel's own
  imports, then forks. Each fork becomes the grading kernel of one notebook (its own session and
  process group, the working folder and environment nbgrader asked for), which starts that student's
  sandbox as before (``autograder.sandbox.launch``: the sandbox is a fresh process per student, never forked).
* **Fresh state per notebook.** A fork starts from the zygote's state: nothing graded before, and PyTorch's
  default generator as in a newly started Python (Python's and numpy's global generators are the same in
  every fork; the checks use neither). The zygote refuses to fork once it has more than one thread (a
  fork of a threaded process, such as one where OpenMP started its pool, can deadlock).
* **Fallback.** When the zygote cannot start (or is not ready within START_TIMEOUT) or stops answering,
  or the command is not the grading kernel's, the kernel starts as an ordinary process, as jupyter_client
  would start it, with a warning in the log; after a failure, for the rest of the run.

The zygote exits when its nbgrader process does (it reads requests on a pipe and stops at end of file);
each kernel exits when the zygote does (ipykernel's parent poller).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from typing import Any

from jupyter_client.provisioning import LocalProvisioner

MODULE = "autograder.trusted.grader_kernel"
START_TIMEOUT = 120.0
#: What the zygote imports before its first fork: everything the grading kernel loads on start.
WARM = (
    "torch",
    "ipykernel.kernelapp",
    "ipykernel.ipkernel",
    "IPython.core.interactiveshell",
    "jupyter_client",
    "course_utils.checks",
    "course_utils.training",
    "autograder.wire",
    "autograder.trusted.grader_kernel",
)


class ForkedKernel:
    """The part of ``subprocess.Popen`` jupyter_client uses, for a kernel the zygote forked (its child, not ours:
    the zygote reaps it and tells us its exit status)."""

    stdin = stdout = stderr = None

    def __init__(self, zygote: Zygote, pid: int):
        self.zygote, self.pid, self.returncode = zygote, pid, None

    def poll(self) -> int | None:
        if self.returncode is None:
            self.returncode = self.zygote.exit_status(self.pid)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        import time

        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(MODULE, timeout)
            time.sleep(0.02)
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, signum)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


class Zygote:
    """The nbgrader process's side: starts the zygote and talks to it (one request at a time)."""

    def __init__(self):
        self.lock = threading.Lock()
        # numpy's OpenBLAS starts a pool of threads on import, unless told to use one: the grading kernel's
        # arrays are small, and a process with one thread is safe to fork
        env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
        self.process = subprocess.Popen(
            [sys.executable, "-P", "-m", __name__],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            start_new_session=True,
            text=True,
            bufsize=1,
            env=env,
        )
        import select

        if not select.select([self.process.stdout], [], [], START_TIMEOUT)[0]:  # its imports hang: do without
            self.process.kill()
            raise RuntimeError(f"the zygote was not ready after {START_TIMEOUT:.0f} s")
        ready = self._read()
        if not ready.get("ready"):
            self.close()
            raise RuntimeError(ready.get("error", "the zygote did not start"))

    def _read(self) -> dict:
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the zygote exited (status {self.process.poll()})")
        return json.loads(line)

    def request(self, message: dict) -> dict:
        with self.lock:
            self.process.stdin.write(json.dumps(message) + "\n")
            self.process.stdin.flush()
            answer = self._read()
        if "error" in answer:
            raise RuntimeError(answer["error"])
        return answer

    def spawn(self, argv: list[str], env: dict[str, str], cwd: str) -> ForkedKernel:
        return ForkedKernel(self, self.request({"spawn": argv, "env": env, "cwd": cwd})["pid"])

    def exit_status(self, pid: int) -> int | None:
        try:
            return self.request({"poll": pid})["status"]
        except (RuntimeError, OSError, ValueError):
            return -1  # the zygote is gone, and with it (ipykernel's parent poller) the kernel

    def close(self) -> None:
        try:
            self.process.stdin.close()
            self.process.wait(timeout=5)
        except Exception:
            self.process.kill()


_zygote: Zygote | None = None
_failed: str | None = None
_lock = threading.Lock()


def _shared() -> Zygote | None:
    """This process's zygote, started on first use; None (with the reason in `_failed`) if it cannot start."""
    global _zygote, _failed
    with _lock:
        if _zygote is None and _failed is None:
            try:
                _zygote = Zygote()
            except Exception as exc:
                _failed = f"{type(exc).__name__}: {exc}"
        return _zygote


def _retire(zygote: Zygote, reason: str) -> None:
    global _zygote, _failed
    with _lock:
        if _zygote is zygote:
            _zygote, _failed = None, f"the zygote stopped answering: {reason}"
    zygote.close()


class ZygoteProvisioner(LocalProvisioner):
    """jupyter_client's local provisioner, except that the grading kernel is forked from this process's zygote."""

    async def launch_kernel(self, cmd: list[str], **kwargs: Any):
        usual = (
            len(cmd) >= 4
            and cmd[1:4] == ["-P", "-m", MODULE]
            and os.path.realpath(cmd[0]) == os.path.realpath(sys.executable)
            and not any(kwargs.get(stream) is not None for stream in ("stdin", "stdout", "stderr"))
        )
        zygote = _shared() if usual else None
        env = dict(kwargs.get("env") or os.environ)
        cwd = str(kwargs.get("cwd") or os.getcwd())
        try:
            if zygote is None:
                raise RuntimeError(_failed or "not the grading kernel's usual command")
            self.process = zygote.spawn(cmd[4:], env, cwd)
        except (RuntimeError, OSError, ValueError) as exc:
            if zygote is not None:  # it died or broke: the rest of this run starts kernels the plain way
                _retire(zygote, f"{type(exc).__name__}: {exc}")
            self.log.warning("cnn-course: starting the grading kernel as a new process (%s)", _failed or exc)
            return await super().launch_kernel(cmd, **kwargs)
        self.pid = self.pgid = self.process.pid  # the kernel leads its own session, as jupyter_client's would
        self.cwd = cwd
        return self.connection_info


# ---------------------------------------------------------------------------------------------------
# the zygote itself (python -P -m autograder.trusted.zygote)


def _threads() -> int:
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return threading.active_count()


def _child(argv: list[str], env: dict[str, str], cwd: str, ready_w: int) -> None:
    """In the fork: become the grading kernel for nbgrader's `argv` (never returns)."""
    try:
        os.setsid()
        os.close(ready_w)  # the zygote answers nbgrader once the kernel leads its own process group
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
        os.dup2(2, 1)  # the zygote's stdout is its pipe to nbgrader; the kernel's output goes to nbgrader's log
        os.chdir(cwd)
        os.environ.clear()
        os.environ.update(env)
        threads = env.get("OMP_NUM_THREADS", "")
        if threads.isdigit() and int(threads) > 0:  # read by PyTorch at import, in the zygote: apply it here
            import torch

            torch.set_num_threads(int(threads))
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        # ipykernel exits when its parent (this zygote) does; nbgrader's pid in JPY_PARENT_PID is not our parent
        sys.argv = [MODULE, *argv, f"--IPKernelApp.parent_handle={os.getppid()}"]
        from autograder.trusted import grader_kernel

        grader_kernel.main()
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        os._exit(1)


def serve() -> None:
    """Import what the grading kernel needs, then fork one for each request read from stdin."""
    import importlib

    os.environ.setdefault("MPLBACKEND", "Agg")
    out = sys.stdout
    try:
        for name in WARM:
            importlib.import_module(name)
    except Exception as exc:
        out.write(json.dumps({"error": f"importing {name}: {type(exc).__name__}: {exc}"}) + "\n")
        return
    if _threads() != 1:
        out.write(json.dumps({"error": f"{_threads()} threads after the imports: not safe to fork"}) + "\n")
        return
    out.write(json.dumps({"ready": True}) + "\n")
    out.flush()
    exited: dict[int, int] = {}
    children: set[int] = set()

    def reap() -> None:
        while children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            children.discard(pid)
            exited[pid] = os.waitstatus_to_exitcode(status)

    for line in sys.stdin:
        reap()
        try:
            request = json.loads(line)
            if "poll" in request:
                pid = int(request["poll"])
                answer = {"status": exited.get(pid, None if pid in children else -1)}
            elif _threads() != 1:
                answer = {"error": "the zygote has started a thread: not safe to fork"}
            else:
                ready_r, ready_w = os.pipe()
                out.flush()
                pid = os.fork()
                if pid == 0:
                    os.close(ready_r)
                    _child(request["spawn"], request["env"], request["cwd"], ready_w)
                os.close(ready_w)
                os.read(ready_r, 1)  # end of file once the child called setsid (or died)
                os.close(ready_r)
                children.add(pid)
                answer = {"pid": pid}
        except Exception as exc:
            answer = {"error": f"{type(exc).__name__}: {exc}"}
        out.write(json.dumps(answer) + "\n")
        out.flush()


if __name__ == "__main__":
    serve()
    os._exit(0)  # nbgrader has exited: no teardown of PyTorch's modules (nbgrader's caller waits on our stderr)
