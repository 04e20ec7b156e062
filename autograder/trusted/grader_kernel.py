"""The grading kernel: a student's code runs in a sandbox, the checks run here and nowhere else.

nbgrader's autograde talks to this kernel through ``autograder.hooks.execute.SplitExecute`` (kernel spec
``cnn-course-grader``, found only there), on every route. It never runs a line the student wrote. Each
request carries the cell's role (``autograder.protocol``), which SplitExecute took from the gradebook;
the plan it wrote for this notebook (``CNN_COURSE_PLAN``) holds the course's test, setup and solution cells:

* **a test cell** (graded, not a solution) runs in this process. The names the student defined are
  proxies: ``corr2d(X, K)`` sends X and K as plain data (``autograder.wire``) to the sandbox, where the
  student's function runs, and gets back the result as plain data, rebuilt here as a plain tensor (or
  a module, an optimizer ... of torch's own classes). An error comes back as its type name and
  message. The comparison with PyTorch and every assertion happen here, on data the student's code
  cannot reach or change.
* **the setup cell** (the locked cell named ``setup``: imports) runs in both.
* **any other locked cell of the course** (widgets, demonstrations) is skipped: it decides nothing.
* **everything else** is the student's and runs in the sandbox (``autograder.sandbox.launch``: bubblewrap,
  no network, no course files, memory, process and output limits), after the assignment's banned
  operations were switched off there for good (``autograder.sandbox.bans``). Its output is relayed, capped.

A sandbox that does not answer an interrupt within a few seconds is killed and started again, and the
student's cells that ran before are run again in it, so one runaway call costs only its own test.
"""

from __future__ import annotations

import ast
import atexit
import builtins
import json
import math
import os
import re
import shutil
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from queue import Empty, SimpleQueue
from typing import Any

import psutil
from ipykernel.ipkernel import IPythonKernel

from autograder import wire
from autograder.hooks import markup
from autograder.protocol import ROLE_KEY, ROLES
from autograder.sandbox.worker import MIME, LazyWidgets

SANDBOX_KERNEL = "cnn-course-sandbox"
#: Output relayed from the sandbox, per cell and per notebook; the rest is dropped with a note.
CELL_OUTPUT = 1 * 2**20
NOTEBOOK_OUTPUT = 8 * 2**20
#: How long a sandbox may take to stop after an interrupt before it is killed and started again.
INTERRUPT_GRACE = 5.0
START_TIMEOUT = 120.0
WORKER_BOOT = "import autograder.sandbox.worker as _w; __cnn_worker__ = _w.Worker(globals(), '/rpc'); del _w"
#: Ban groups that some exercises of a notebook need and others forbid (06's train_epoch passes an optimizer
#: of torch.optim; its momentum_step and adam_step must not use one): a call whose test bans one runs in a
#: sandbox of its own, where the group is off for good (the student's cells run there too, unseen).
CALL_SCOPED = ("optim",)
#: A notebook's grading time, as a whole, unless nbgrader_config.py sets CNN_COURSE_NOTEBOOK_SECONDS.
NOTEBOOK_SECONDS = 600.0
FORBID = re.compile(r"forbid\s*=\s*\(([^)]*)\)")


def _norm(code: str) -> str:
    """A cell's code as compared with the gradebook's: leading comment lines (nbgrader prefixes a test cell it
    restores with one) and trailing spaces do not count."""
    lines = [line.rstrip() for line in code.strip().splitlines()]
    while lines and (not lines[0] or lines[0].lstrip().startswith("#")):
        lines.pop(0)
    return "\n".join(lines)


class CourseCells:
    """The assignment's own code cells, from the gradebook: which are tests, which is setup, which others, and
    the names a test cell may take from the student's notebook."""

    def __init__(self, tests: set[str], setup: set[str], solutions: set[str] = frozenset()):
        self.tests, self.setup = tests, setup
        self.student_names = student_names(tests, setup, solutions)

    @classmethod
    def from_plan(cls, path: str) -> CourseCells:
        """Read them from the plan ``autograder.hooks.execute.SplitExecute`` wrote for this notebook."""
        plan = json.loads(Path(path).read_text())
        tests = {_norm(code) for code in plan["tests"]}
        if not tests:
            raise RuntimeError("the plan has no test cells")
        setup = {_norm(code) for code in plan["setup"]}
        return cls(tests, setup, {_norm(code) for code in plan["solutions"]})

    def banned_groups(self) -> list[str]:
        """The groups the tests ban that are off in the student's sandbox for the whole notebook (a call-scoped
        group, ``CALL_SCOPED``, is off only in the sandbox of the calls whose test names it)."""
        groups = set()
        for code in self.tests:
            for match in FORBID.finditer(code):
                groups.update(re.findall(r"[\"'](\w+)[\"']", match.group(1)))
        return sorted(groups - set(CALL_SCOPED))


def _run_dir() -> str | None:
    """The folder of this notebook's grading (``autograder.hooks.execute.SplitExecute``: removed after it), if any."""
    folder = os.environ.get("CNN_COURSE_RUN_DIR")
    return folder if folder and os.path.isdir(folder) else None


def notebook_limit(assignment: str) -> float | None:
    """The grading time of one notebook of `assignment`, as a whole (seconds; None: no limit): from
    CNN_COURSE_NOTEBOOK_SECONDS, a number or a JSON object {assignment: seconds, "default": seconds}, which
    nbgrader_config.py sets; NOTEBOOK_SECONDS without it."""
    raw = os.environ.get("CNN_COURSE_NOTEBOOK_SECONDS", "").strip()
    if not raw:
        return NOTEBOOK_SECONDS
    try:
        value = json.loads(raw)
        if isinstance(value, dict):
            value = value.get(assignment, value.get("default", NOTEBOOK_SECONDS))
        value = float(value)
    except (ValueError, TypeError):
        return NOTEBOOK_SECONDS
    return value if value > 0 else None


def _parse(code: str) -> ast.Module | None:
    try:
        return ast.parse(code)
    except SyntaxError:  # IPython syntax (a magic, a shell escape): no names from it
        return None


def _bound(tree: ast.AST) -> set[str]:
    """Every name `tree` binds anywhere: assignments, loop and with targets, imports, definitions, parameters."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            names.update(node.names)
    return names


def _top_level(tree: ast.Module) -> set[str]:
    """The names a cell defines for later cells: its top-level functions, classes and assignments."""
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
    return names


def student_names(tests: set[str], setup: set[str], solutions: set[str]) -> frozenset[str]:
    """The names a test cell takes from the student's notebook: those the test cells read but neither they nor the
    setup cell bind, and that are not builtins (the exercise's functions, an answer cell's variables), plus what the
    released solution cells define at top level. Any other name the student defines (``float``, ``assert_close``,
    ``torch`` ...) never reaches a test cell: there it is the builtin, or the test's own."""
    trees = [t for t in map(_parse, tests) if t is not None]
    bound = set().union(*(_bound(t) for t in trees), *(_bound(t) for t in map(_parse, setup) if t is not None))
    read = {
        node.id
        for tree in trees
        for node in ast.walk(tree)
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)
    }
    defined = set().union(*(_top_level(t) for t in map(_parse, solutions) if t is not None))
    names = (read - bound - set(dir(builtins))) | (defined - set(dir(builtins)))
    return frozenset(n for n in names if not n.startswith("_") or n in defined)


class StudentCodeError(Exception):
    """An error raised by the student's function whose type is not one of Python's own."""


_BUILTIN_ERRORS = {
    name: obj for name, obj in vars(builtins).items() if isinstance(obj, type) and issubclass(obj, Exception)
}


def _rebuild_error(error: Any) -> Exception:
    """A student's exception, from its type name and message, as a fresh exception of a builtin type."""
    if not isinstance(error, dict):
        return StudentCodeError("the student's function failed in a way the grader cannot read")
    name = str(error.get("type", "Error"))[:100]
    text = str(error.get("message", ""))[:4000]
    mro = [str(n) for n in error.get("mro", [])][:50] if isinstance(error.get("mro"), list) else []
    if name == "ForbiddenOperationError" or "ForbiddenOperationError" in mro:
        from course_utils.checks import ForbiddenOperationError

        return ForbiddenOperationError(text)
    for base in [name, *mro]:
        cls = _BUILTIN_ERRORS.get(base)
        if cls is not None and cls not in (KeyboardInterrupt, SystemExit, GeneratorExit):
            try:
                exc = cls(text)
            except Exception:  # an error type whose constructor wants more
                continue
            if base != name:
                exc = cls(f"{name}: {text}")
            return exc
    return StudentCodeError(f"{name}: {text}")


class StudentFunction:
    """What a test cell sees under the name of a student's function: a call into the sandbox."""

    __cnn_course_remote__ = True  # course_utils.checks.call_guarded: the sandbox enforces the bans

    def __init__(self, kernel: GraderKernel, name: str):
        self._kernel = kernel
        self.__name__ = self.__qualname__ = name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._kernel.call_student(self.__name__, args, kwargs)

    def call_with_helpers(self, helpers: dict, *args: Any, **kwargs: Any) -> Any:
        """The call, with the student's functions named in `helpers` replaced by the course's references
        (``course_utils.checks.call_guarded(..., helpers=...)``): each helper call is answered here."""
        return self._kernel.call_student(self.__name__, args, kwargs, helpers=helpers)

    def call_with(self, helpers: dict | None, forbid: tuple, args: tuple, kwargs: dict) -> Any:
        """The call as ``course_utils.checks.call_guarded`` makes it: with the course's references for `helpers`,
        and in a sandbox where each group of `forbid` is off for good (a group that only some exercises of the
        notebook ban, such as ``optim``, in a sandbox of its own)."""
        return self._kernel.call_student(self.__name__, args, kwargs, helpers=helpers, forbid=tuple(forbid))

    def __repr__(self) -> str:
        return f"<the student's {self.__name__}>"


class OverTime(BaseException):
    """The notebook used all of its grading time: the rest of it scores zero. Not an Exception: no check that
    expects the student's error (``assert_raises``) can take it for one."""


class Cancelled(Exception):
    """The grader stopped waiting for the sandbox (the cell was interrupted)."""


class SandboxDied(RuntimeError):
    """The sandbox's kernel is gone."""


class Sandbox:
    """One student's sandbox kernel (``cnn-course-sandbox``), driven as a Jupyter client."""

    def __init__(self, files: Path, scoped: tuple[str, ...] = ()):
        # in the grading run's own folder (removed when nbgrader ends, whatever happened here), mode 0700
        self.private = Path(tempfile.mkdtemp(prefix="cnn-course-grading-", dir=_run_dir()))
        self.scoped = scoped
        self.inbox = self.private / "inbox"
        self.inbox.mkdir(mode=0o755)
        self.files = self.private / "files"
        _copy_regular_files(files, self.files)
        self.km = None
        self.kc = None
        self.context = None
        self.requests = 0
        self._chain: list[int] | None = None
        self.helpers: dict = {}  # name -> reference, while a call with helpers runs (answer_helper)

    def start(self) -> None:
        import zmq
        from jupyter_client import KernelManager

        context = self.context = zmq.Context()
        # an answer larger than this is dropped by ZeroMQ before it is read: printing 500 MB costs nothing here
        context.setsockopt(zmq.MAXMSGSIZE, wire.MAX_MESSAGE + 2**20)
        # a placeholder socket path (ports are chosen against it; nothing binds there): the real one is known once
        # the sandbox runs (_reach_sockets)
        self.km = KernelManager(
            kernel_name=SANDBOX_KERNEL,
            transport="ipc",
            ip=f"/nonexistent/cnn-course-{uuid.uuid4().hex[:12]}/kernel",
            context=context,
            connection_file=str(self.private / "connection.json"),
        )
        env = {k: v for k, v in os.environ.items()}
        env.update({"CNN_SANDBOX_INBOX": str(self.inbox), "CNN_SANDBOX_FILES": str(self.files)})
        env["CNN_SANDBOX_SCOPED"] = ",".join(self.scoped)
        self.km.start_kernel(cwd=str(self.private), env=env)
        self._reach_sockets()
        self.kc = self.km.client(context=context)
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=START_TIMEOUT)

    def _reach_sockets(self) -> None:
        """The kernel binds its sockets in the sandbox's own /tmp (``autograder.sandbox.launch.IPC_DIR``): this client
        connects to them through the kernel's ``/proc/<pid>/root`` (a short path, whatever the host's temporary
        folder). The sandbox sees no folder of the host's, and its sockets vanish with it."""
        from autograder.sandbox.launch import IPC_DIR

        deadline = time.monotonic() + START_TIMEOUT
        while True:
            chain = self._find_chain()
            root = Path(f"/proc/{chain[-1]}/root") if chain else None
            if root is not None and (root / IPC_DIR.lstrip("/")).is_dir():
                break
            if time.monotonic() > deadline or not self.km.is_alive():
                raise RuntimeError("the sandbox's kernel did not start (bwrap failed, or it died at once)")
            time.sleep(0.01)
        self._chain = chain
        self.km.ip = f"{root}{IPC_DIR}/kernel"
        control = getattr(self.km, "_control_socket", None)  # jupyter_client connected it to the placeholder
        if control is not None:
            control.close(linger=0)
            self.km._control_socket = None
        self.km._connect_control_socket()

    def execute(
        self, code: str, on_message=None, deadline: float | None = None, cancel: threading.Event | None = None
    ) -> tuple[dict, list[dict]]:
        """Run `code`; pass its output messages to `on_message`; (reply content, private answers).

        Runs in the grader's sandbox thread (jupyter_client must not share the kernel's event loop).
        """
        msg_id = self.kc.execute(code, store_history=False, allow_stdin=False, stop_on_error=False)
        answers, idle, reply = [], False, None
        next_check = time.monotonic() + 0.5
        while not (idle and reply is not None):
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError("the sandbox did not answer in time")
            if cancel is not None and cancel.is_set():
                raise Cancelled()
            if time.monotonic() > next_check:
                next_check = time.monotonic() + 0.5
                if not self.km.is_alive():
                    self._drop(shutdown=False)
                    raise SandboxDied("the sandbox stopped (out of memory, or killed)")
            if not idle:
                try:
                    msg = self.kc.get_iopub_msg(timeout=0.05)
                except Exception:  # queue.Empty
                    msg = None
                if msg is not None and msg.get("parent_header", {}).get("msg_id") == msg_id:
                    kind, content = msg["msg_type"], msg["content"]
                    if kind == "status" and content.get("execution_state") == "idle":
                        idle = True
                    elif kind == "display_data" and MIME in content.get("data", {}):
                        if not self.answer_helper(content["data"][MIME]):
                            answers.append(content["data"][MIME])
                    elif on_message is not None and kind in (
                        "stream",
                        "display_data",
                        "execute_result",
                        "error",
                        "update_display_data",
                        "clear_output",
                    ):
                        on_message(kind, content)
            if reply is None:
                try:
                    msg = self.kc.get_shell_msg(timeout=0.0 if not idle else 0.05)
                except Exception:
                    msg = None
                if msg is not None and msg.get("parent_header", {}).get("msg_id") == msg_id:
                    reply = msg["content"]
                    if not idle:  # the status message may have been dropped (too large a neighbour)
                        grace = time.monotonic() + 1.0
                        while not idle and time.monotonic() < grace:
                            try:
                                m = self.kc.get_iopub_msg(timeout=0.05)
                            except Exception:
                                continue
                            if m.get("parent_header", {}).get("msg_id") != msg_id:
                                continue
                            if m["msg_type"] == "status" and m["content"].get("execution_state") == "idle":
                                idle = True
                            elif m["msg_type"] == "display_data" and MIME in m["content"].get("data", {}):
                                answers.append(m["content"]["data"][MIME])
                            elif on_message is not None and m["msg_type"] in ("stream", "display_data", "error"):
                                on_message(m["msg_type"], m["content"])
                        if not idle:  # a message over the size limit closed the connection: open a new one
                            self._reconnect_iopub()
                        idle = True
        return reply, answers

    def answer_helper(self, text: str) -> bool:
        """If `text` asks for a helper's answer, write PyTorch's answer (or its error) to the inbox; True if it did."""
        if '"helper"' not in text[:200] and '"helper"' not in text[-400:]:
            return False
        try:
            message = wire.loads(text)
        except (wire.WireError, ValueError):
            return False
        if "helper" not in message or "result" in message or "error" in message:
            return False
        ident = str(message.get("id", ""))
        if not re.fullmatch(r"r\d+-[A-Za-z_]\w{0,60}-\d{1,6}", ident):
            return True
        reference = self.helpers.get(message["helper"])
        try:
            if reference is None:
                raise RuntimeError(f"{message['helper']} has no reference answer here")
            decoder = wire.Decoder(message)
            args = [decoder.decode(a) for a in message["args"]]
            kwargs = {k: decoder.decode(v) for k, v in message["kwargs"].items()}
            _check_helper_size(args, kwargs)
            enc = wire.Encoder()
            reply = {"result": enc.encode(reference(*args, **kwargs))}
            reply.update(enc.tables())
        except Exception as exc:  # the reference's own error (a kernel that does not fit ...) goes back as data
            reply = {"error": {"type": type(exc).__name__, "message": str(exc)[:2000]}}
        path = self.inbox / f"{ident}.json.part"
        try:  # an id asked for twice (a forged request) is answered once
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
            with os.fdopen(fd, "w") as f:
                f.write(wire.dumps(reply))
            os.rename(path, self.inbox / f"{ident}.json")
        except OSError:
            pass
        return True

    def _reconnect_iopub(self) -> None:
        try:
            self.kc.iopub_channel.close()
        except Exception:
            pass
        self.kc._iopub_channel = None
        self.kc.iopub_channel.start()
        time.sleep(0.3)  # ZeroMQ subscribes asynchronously

    def interrupt(self) -> bool:
        """Interrupt the running cell; True if the sandbox became idle within the grace period."""
        try:
            self.km.interrupt_kernel()
        except Exception:
            return False
        deadline = time.monotonic() + INTERRUPT_GRACE
        while time.monotonic() < deadline:
            try:
                msg = self.kc.get_iopub_msg(timeout=0.1)
            except Exception:
                continue
            if msg["msg_type"] == "status" and msg["content"].get("execution_state") == "idle":
                while True:  # drain the shell reply of the interrupted request
                    try:
                        self.kc.get_shell_msg(timeout=0.2)
                    except Exception:
                        break
                return True
        return False

    def request(self, message: dict) -> str:
        self.requests += 1
        name = f"r{self.requests}"
        path = self.inbox / f"{name}.json"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        with os.fdopen(fd, "w") as f:
            f.write(wire.dumps(message))
        return name

    def kill_strays(self) -> None:
        """Kill every process in the sandbox but the kernel itself: none outlives its cell."""
        if self.km is None:
            return
        if self._chain is None:
            self._chain = self._find_chain()
            if self._chain is None:
                return
        *wrappers, kernel = self._chain
        init = wrappers[-1]
        # the usual case, cheaply: the namespace's init has only the kernel, and the kernel has no children
        try:
            extra = [int(p) for p in Path(f"/proc/{init}/task/{init}/children").read_text().split() if int(p) != kernel]
            for task in os.listdir(f"/proc/{kernel}/task"):
                extra += [int(p) for p in Path(f"/proc/{kernel}/task/{task}/children").read_text().split()]
        except (OSError, ValueError):
            return
        if not extra:
            return
        doomed = []
        for pid in extra:
            try:
                process = psutil.Process(pid)
                doomed += [process, *process.children(recursive=True)]
            except psutil.Error:
                continue
        for process in doomed:
            try:
                process.kill()
            except psutil.Error:
                pass

    def _find_chain(self) -> list[int] | None:
        """The launcher's pid, the bwrap processes below it and the kernel's pid (host pids)."""
        pid = getattr(getattr(self.km, "provisioner", None), "pid", None)
        chain = [pid] if pid else []
        while chain:
            try:
                kids = psutil.Process(chain[-1]).children()
                argv = kids[0].cmdline() if kids else []
            except psutil.Error:
                return None
            if not kids:
                return None
            chain.append(kids[0].pid)
            if not argv or not argv[0].endswith("bwrap"):
                return chain if len(chain) >= 3 else None
        return None

    def shutdown(self) -> None:
        self._drop(shutdown=True)

    def _drop(self, shutdown: bool) -> None:
        """Forget this kernel (stopping it first when `shutdown`): its channels and sockets closed at once, and
        its ZeroMQ context destroyed here. Left to the garbage collector, a context whose sockets still wait
        for a dead kernel blocks forever in whichever thread collects it (seen: the grader's main thread)."""
        try:
            if self.kc is not None:
                self.kc.stop_channels()
            if self.km is not None and shutdown:
                self.km.shutdown_kernel(now=True)
            control = getattr(self.km, "_control_socket", None)
            if control is not None:
                control.close(linger=0)
                self.km._control_socket = None
        except Exception:
            pass
        if self.context is not None:
            self.context.destroy(linger=0)
        self.km = self.kc = self.context = None
        self._chain = None

    def cleanup(self) -> None:
        self.shutdown()
        shutil.rmtree(self.private, ignore_errors=True)


#: A helper's arguments that the grader computes an answer for: small tensors, small numbers.
HELPER_MAX_ELEMENTS = 2**22
HELPER_MAX_INT = 4096
HELPER_MAX_WORK = 2**30


def _check_helper_size(args: list, kwargs: dict) -> None:
    """Refuse a helper call whose answer could be huge (a padding of a million): the grader's memory is not the
    student's to spend."""
    import torch

    def walk(value: Any) -> None:
        if isinstance(value, torch.Tensor) and value.numel() > HELPER_MAX_ELEMENTS:
            raise ValueError(f"a tensor of {value.numel()} elements is too large for the reference")
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > HELPER_MAX_INT:
            raise ValueError(f"{value} is too large for the reference")
        if isinstance(value, (list, tuple)):
            for v in value:
                walk(v)

    for value in [*args, *kwargs.values()]:
        walk(value)
    # and no call whose work could be huge though each tensor is small (corr2d of two tensors of 2**22 elements):
    # the work of a reference is at most about the product of its tensors' sizes
    sizes = [v.numel() for v in [*args, *kwargs.values()] if isinstance(v, torch.Tensor)]
    if math.prod(max(n, 1) for n in sizes) > HELPER_MAX_WORK:
        raise ValueError(f"tensors of {sizes} elements are too large for the reference")


def _copy_regular_files(src: Path, dest: Path, limit: int = 64 * 2**20) -> None:
    """The submission's own files (never a notebook, never a link), for the sandbox's working folder."""
    dest.mkdir(mode=0o755)
    total = 0
    for root, dirs, files in os.walk(src, followlinks=False):
        rel = Path(root).relative_to(src)
        dirs[:] = [d for d in dirs if not (Path(root) / d).is_symlink() and not d.startswith(".")]
        for name in files:
            path = Path(root) / name
            if path.is_symlink() or not path.is_file() or name.endswith(".ipynb") or name == "timestamp.txt":
                continue
            total += path.stat().st_size
            if total > limit:
                return
            (dest / rel).mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, dest / rel / name, follow_symlinks=False)


class GraderKernel(IPythonKernel):
    implementation = "cnn-course-grader"
    implementation_version = "1"
    banner = "cnn-course grading kernel (the student's code runs in a sandbox)"

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        # the working folder holds the student's files: never a place to import from here (the kernel spec runs
        # `python -P`; this also covers a kernel started without it)
        here = os.getcwd()
        sys.path[:] = [p for p in sys.path if p not in ("", ".") and os.path.abspath(p) != here]
        sys.meta_path.insert(0, LazyWidgets())  # the setup cell imports widgets the checks never use
        self.workdir = Path.cwd()
        self.assignment = os.environ.get("CNN_COURSE_ASSIGNMENT") or self.workdir.name
        self.cells: CourseCells | None = None
        self.load_error: str | None = None
        try:
            self.cells = CourseCells.from_plan(os.environ["CNN_COURSE_PLAN"])
        except Exception as exc:  # grading without knowing the tests would run them in the sandbox: refuse
            self.load_error = f"the grading kernel could not read the course's test cells: {type(exc).__name__}: {exc}"
        self.sandbox: Sandbox | None = None
        self.scoped: dict[frozenset, Sandbox] = {}  # call-scoped ban groups -> their sandbox
        self.banned: dict | None = None
        self._in_test = False
        self.limit = notebook_limit(self.assignment)
        self.started: float | None = None
        self.protected: set[str] = set()
        self.history: list[str | None] = []  # the sandbox cells that ran, to replay after a restart
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="sandbox")  # jupyter_client stays off the kernel's loop
        self._prestart = None
        self._cell_output_left, self._truncated = CELL_OUTPUT, False
        self.output_left = NOTEBOOK_OUTPUT
        atexit.register(self._cleanup)
        self.shell.user_ns["__name__"] = "__main__"
        # every kernel nbgrader starts trains 06 in quick mode (nbgrader_config.py's Execute.extra_arguments set
        # it here too, but only after this): so does the sandbox, unless the environment says otherwise
        os.environ.setdefault("COURSE_QUICK", "1")
        if self.cells is not None:  # start the sandbox while nbgrader gets ready
            self.sandbox = Sandbox(self.workdir)
            self._prestart = self.pool.submit(self._start_sandbox)
            import course_utils.checks
            import course_utils.training  # noqa: F401

    def _start_sandbox(self) -> None:
        """In the sandbox thread: start the kernel, load the worker and warm the course's imports."""
        self.sandbox.start()
        self.sandbox.execute(WORKER_BOOT + "\nimport torch, course_utils, course_utils.training")

    # ---------------------------------------------------------------------------------------
    # the sandbox

    def _in_thread(self, fn, *args: Any, relay: bool = False, **kwargs: Any) -> Any:
        """Run `fn` in the sandbox thread; relay its output here; an interrupt stops the wait."""

        queue: SimpleQueue = SimpleQueue()
        cancel = threading.Event()
        if relay:
            kwargs["on_message"] = lambda kind, content: queue.put((kind, content))
        if getattr(fn, "__name__", "") == "execute" and isinstance(getattr(fn, "__self__", None), Sandbox):
            kwargs["cancel"] = cancel
            deadline = self._deadline()
            if deadline is not None:
                kwargs["deadline"] = min(kwargs.get("deadline") or deadline, deadline)
        future = self.pool.submit(fn, *args, **kwargs)
        return self._wait(future, queue, cancel)

    def _wait(self, future, queue: SimpleQueue | None = None, cancel: threading.Event | None = None) -> Any:
        import concurrent.futures

        def drain() -> None:
            if queue is None:
                return
            while True:
                try:
                    kind, content = queue.get_nowait()
                except Empty:
                    return
                self._relay(kind, content)

        try:
            while True:
                done, _ = concurrent.futures.wait([future], timeout=0.02)
                drain()
                if done:
                    return future.result()
        except KeyboardInterrupt:
            if cancel is not None:
                cancel.set()
            concurrent.futures.wait([future], timeout=10)
            raise

    def _ensure_sandbox(self) -> Sandbox:
        if self._prestart is not None:
            prestart, self._prestart = self._prestart, None
            self._wait(prestart)
        if self.sandbox is None:
            self.sandbox = Sandbox(self.workdir)
        if self.sandbox.km is None:
            self._in_thread(self.sandbox.start)
            self.banned = None
            self._in_thread(self.sandbox.execute, WORKER_BOOT)
        return self.sandbox

    def _ensure_bans(self) -> None:
        if self.banned is None:
            self.banned = self._install_bans(self.sandbox, self.cells.banned_groups() if self.cells else [])

    def _install_bans(self, box: Sandbox, groups: list[str]) -> dict:
        """Switch `groups` off for good in `box`, before any of the student's code runs there."""
        reply, answers = self._in_thread(
            box.execute,
            (
                f"import autograder.sandbox.bans as _b; __import__('IPython').display.publish_display_data("
                f"{{{MIME!r}: __import__('json').dumps(_b.install({groups!r}))}}); del _b"
            ),
        )
        if reply.get("status") != "ok" or not answers:
            raise RuntimeError(f"could not switch off the banned operations in the sandbox: {reply.get('evalue')}")
        return wire.loads(answers[-1])

    def _scoped_sandbox(self, groups: frozenset) -> Sandbox:
        """The sandbox for calls whose test bans the call-scoped `groups`: started with those groups off as well
        as the notebook's, and with the student's cells run again in it (their output not shown)."""
        box = self.scoped.get(groups)
        if box is not None and box.km is not None:
            return box
        box = self.scoped[groups] = Sandbox(self.workdir, scoped=tuple(sorted(groups)))
        self._in_thread(box.start)
        self._in_thread(box.execute, WORKER_BOOT)
        self._install_bans(box, (self.cells.banned_groups() if self.cells else []) + sorted(groups))
        for code in self.history:
            if code is not None and code != "<bans>":
                try:
                    self._in_thread(box.execute, code, deadline=time.monotonic() + 30)
                except TimeoutError:
                    self._in_thread(box.interrupt)
        self._in_thread(box.kill_strays)
        return box

    def _recover(self) -> None:
        """After an interrupt: a sandbox that does not stop within the grace period is started again."""
        if not self._in_thread(self.sandbox.interrupt):
            self._restart()

    def _restart(self) -> None:
        """A new sandbox, in which the student's earlier cells run again (their output not shown)."""
        self._in_thread(self.sandbox.shutdown)
        self._ensure_sandbox()
        for code in self.history:
            if code == "<bans>":
                self._ensure_bans()
            elif code is not None:
                try:
                    self._in_thread(self.sandbox.execute, code, deadline=time.monotonic() + 30)
                except (TimeoutError, SandboxDied):
                    if self.sandbox.km is None:
                        self._ensure_sandbox()
                    else:
                        self._in_thread(self.sandbox.interrupt)
        self._in_thread(self.sandbox.kill_strays)

    def _relay(self, kind: str, content: dict) -> None:
        """Show what the student's code printed or displayed, within the output budget, as nothing that decides a
        score or runs in a page: inside a test cell all of it is plain text on stdout (no result, no error, no
        stderr: nbgrader reads those); elsewhere text, errors as text fields, and displays cleaned
        (``autograder.hooks.markup``), never as a result, never with a display id to update later."""
        if kind == "update_display_data" or (kind == "clear_output" and self._in_test):
            return
        if kind == "clear_output":
            self.session.send(
                self.iopub_socket,
                kind,
                {"wait": bool(content.get("wait"))},
                self.get_parent("shell"),
                ident=self._topic(kind),
            )
            return
        if self._in_test or kind == "stream":
            text = markup.as_text(kind, content)
            to_stderr = kind == "stream" and content.get("name") == "stderr" and not self._in_test
            stream = sys.stderr if to_stderr else sys.stdout
            left = min(self._cell_output_left, self.output_left)
            shown = text[: max(left, 0)]
            self._cell_output_left -= len(shown)
            self.output_left -= len(shown)
            stream.write(shown)
            if len(shown) < len(text):
                self._note_truncated()
            return
        if kind == "error":
            message = {
                "ename": str(content.get("ename", "Error"))[:200],
                "evalue": str(content.get("evalue", ""))[:4000],
                "traceback": [str(line)[:4000] for line in list(content.get("traceback") or [])[:200]],
            }
        else:  # display_data, execute_result
            data, metadata = markup.display_bundle(content.get("data"), content.get("metadata"))
            message, kind = {"data": data, "metadata": metadata}, "display_data"
        size = len(json.dumps(message))
        if size > min(self._cell_output_left, self.output_left):
            self._note_truncated()
            return
        self._cell_output_left -= size
        self.output_left -= size
        sys.stdout.flush()
        sys.stderr.flush()
        self.session.send(self.iopub_socket, kind, message, self.get_parent("shell"), ident=self._topic(kind))

    def _note_truncated(self) -> None:
        if not self._truncated:
            self._truncated = True
            sys.stdout.write("\n[the grader dropped the rest of this cell's output: over the output limit]\n")

    def _execute_student(self, code: str, box: Sandbox | None = None) -> tuple[dict, list]:
        """Run the student's `code` in the sandbox (or the call-scoped `box`) with its output relayed; recover from
        an interrupt; past the notebook's grading time, stop the sandbox for good (OverTime)."""
        box = box or self.sandbox
        if not self._in_test:
            self._cell_output_left, self._truncated = CELL_OUTPUT, False
        try:
            return self._in_thread(box.execute, code, relay=True)
        except TimeoutError:
            if self._over_time():
                self._in_thread(box.shutdown)
                raise OverTime(self._time_message()) from None
            raise
        except KeyboardInterrupt:
            if box is self.sandbox:
                self._recover()
            elif not self._in_thread(box.interrupt):
                self._in_thread(box.shutdown)  # started again on its next call
            raise
        except SandboxDied:
            if box is self.sandbox:
                self._restart()
            raise
        finally:
            if box.km is not None:
                self._in_thread(box.kill_strays)

    # ---------------------------------------------------------------------------------------
    # the notebook's grading time

    def _deadline(self) -> float | None:
        return None if self.limit is None or self.started is None else self.started + self.limit

    def _over_time(self) -> bool:
        deadline = self._deadline()
        return deadline is not None and time.monotonic() >= deadline

    def _time_message(self) -> str:
        return (
            f"grading stopped: this notebook used all of its {self.limit:g} s of grading time "
            "(CNN_COURSE_NOTEBOOK_SECONDS, set in nbgrader_config.py); this test and every later one score zero"
        )

    # ---------------------------------------------------------------------------------------
    # calls from test cells

    def call_student(
        self, name: str, args: tuple, kwargs: dict, helpers: dict | None = None, forbid: tuple = ()
    ) -> Any:
        import torch

        from course_utils.training import TensorLoader

        if self._over_time():
            raise OverTime(self._time_message())
        sandbox = self._ensure_sandbox()
        scoped = frozenset(forbid) & frozenset(CALL_SCOPED)
        if scoped:
            sandbox = self._scoped_sandbox(scoped)
        message = wire.encode_call(args, kwargs)
        message["name"] = name
        message["rng"] = wire.encode_tensor(torch.get_rng_state())
        message["helpers"] = sorted(helpers or {})
        request = sandbox.request(message)
        sandbox.helpers = dict(helpers or {})
        try:
            reply, answers = self._execute_student(f"__cnn_worker__.call({request!r})", sandbox)
        except SandboxDied:
            raise RuntimeError(f"{name} was stopped: over the memory limit, or it killed its own kernel") from None
        finally:
            sandbox.helpers = {}
            for path in [sandbox.inbox / f"{request}.json", *sandbox.inbox.glob(f"{request}-*.json")]:
                try:
                    path.unlink()
                except OSError:
                    pass
        if not answers:
            detail = f"{reply.get('ename')}: {reply.get('evalue')}" if reply.get("status") == "error" else "no answer"
            raise RuntimeError(f"the grader could not call {name} in the sandbox ({detail})")
        answer = wire.loads(answers[-1])
        if answer.get("rng") is not None:
            try:
                torch.set_rng_state(wire.Decoder().tensor(answer["rng"]))
            except (wire.WireError, RuntimeError):
                pass
        if "error" in answer:
            raise _rebuild_error(answer["error"])
        try:
            result = wire.Decoder(answer, loader_class=TensorLoader).decode(answer["result"])
            after = answer.get("after", {})
            decoder = wire.Decoder(answer.get("after_tables"), loader_class=TensorLoader)
            after_args = [None if a is None else decoder.decode(a) for a in after.get("args", [])]
            after_kwargs = [
                None if after.get("kwargs", {}).get(k) is None else decoder.decode(after["kwargs"][k]) for k in kwargs
            ]
        except (wire.WireError, KeyError, TypeError, ValueError, RuntimeError) as exc:
            raise TypeError(f"{name} returned something the grader cannot check: {exc}") from None
        wire.apply_after(list(args) + list(kwargs.values()), after_args + after_kwargs)
        return result

    def _sync_names(self) -> None:
        """Before a test cell: the names it may take from the student's notebook (``CourseCells.student_names``),
        as they are in the sandbox now: a function as a proxy, any other value as plain data. No other name the
        student defines, a builtin's included, reaches the test cell."""
        self._ensure_sandbox()
        wanted = sorted(n for n in self.cells.student_names if n.isidentifier() and n not in self.protected)
        reply, answers = self._in_thread(self.sandbox.execute, f"__cnn_worker__.names({wanted!r})")
        functions, values = set(), {}
        if answers:
            try:
                message = wire.loads(answers[-1])
                functions = {n for n in message.get("names", []) if isinstance(n, str)}
                for name, encoded in dict(message.get("values", {})).items():
                    try:
                        values[name] = wire.Decoder().decode(encoded)
                    except (wire.WireError, KeyError, TypeError, ValueError, RuntimeError):
                        continue
            except (wire.WireError, ValueError, TypeError, AttributeError):
                functions, values = set(), {}
        ns = self.shell.user_ns
        for name in wanted:
            if name in functions:
                ns[name] = StudentFunction(self, name)
            elif name in values:
                ns[name] = values[name]
            else:
                ns.pop(name, None)  # not (or no longer) defined: the test cell's NameError says so

    # ---------------------------------------------------------------------------------------
    # the kernel protocol

    def _reply(self, status: str = "ok", **extra: Any) -> dict:
        content = {
            "status": status,
            "execution_count": self.shell.execution_count,
            "user_expressions": {},
            "payload": [],
        }
        content.update(extra)
        return content

    def _error(self, ename: str, evalue: str) -> dict:
        content = {"ename": ename, "evalue": evalue, "traceback": [f"{ename}: {evalue}"]}
        sys.stdout.flush()
        self.session.send(self.iopub_socket, "error", content, self.get_parent("shell"), ident=self._topic("error"))
        return self._reply("error", **content)

    async def do_execute(
        self,
        code,
        silent,
        store_history=True,
        user_expressions=None,
        allow_stdin=False,
        *,
        cell_meta=None,
        cell_id=None,
    ):
        if self.load_error is not None:
            return self._error("GradingError", self.load_error)
        kind = (cell_meta or {}).get(ROLE_KEY)
        if kind not in ROLES:
            return self._error(
                "GradingError", "this kernel runs only cells sent by autograder.hooks.execute.SplitExecute"
            )
        if os.environ.get("CNN_GRADER_DEBUG"):
            started = time.monotonic()
            try:
                return await self._do_execute(kind, code, silent, store_history, user_expressions, cell_meta, cell_id)
            finally:
                with open(os.environ["CNN_GRADER_DEBUG"], "a") as log:
                    log.write(f"cnn-course-grader: {kind} cell {code[:40]!r} {time.monotonic() - started:.2f}s\n")
        return await self._do_execute(kind, code, silent, store_history, user_expressions, cell_meta, cell_id)

    async def _do_execute(self, kind, code, silent, store_history, user_expressions, cell_meta, cell_id):
        if self.started is None:
            self.started = time.monotonic()
        if kind == "course":
            return self._reply()
        if self._over_time() and kind != "setup":
            if kind == "student" and store_history:
                self.shell.execution_count += 1
            return self._error("GradingTimeLimit", self._time_message())
        if kind == "test":
            return await self._run_test(code, silent, store_history, user_expressions, cell_meta, cell_id)
        if store_history:
            self.shell.execution_count += 1
        return await self._run_student(kind, code)

    async def _run_test(self, code, silent, store_history, user_expressions, cell_meta, cell_id):
        """A test cell, here, on plain data. What decides its score is only what this process does: the
        student's output in it is plain text on stdout, its own stderr (a warning) goes to stdout too, and the
        value of its last line is not shown (nbgrader would read a number there as partial credit)."""
        try:
            if not self.protected:  # a notebook without its setup cell: the checks still need their imports
                for setup in sorted(self.cells.setup):
                    await super().do_execute(setup, True, False, None, False)
                self.protected = {n for n in self.shell.user_ns if not n.startswith("_")}
            self._ensure_sandbox()
            self._sync_names()
        except OverTime as exc:
            return self._error("GradingTimeLimit", str(exc))
        except Exception as exc:
            return self._error("GradingError", f"the sandbox is not available: {exc}")
        self._in_test, self._cell_output_left, self._truncated = True, CELL_OUTPUT, False
        stderr, interactivity = sys.stderr, self.shell.ast_node_interactivity
        sys.stderr, self.shell.ast_node_interactivity = sys.stdout, "none"
        try:
            return await super().do_execute(
                code, silent, store_history, user_expressions, False, cell_meta=cell_meta, cell_id=cell_id
            )
        finally:
            self._in_test = False
            sys.stderr, self.shell.ast_node_interactivity = stderr, interactivity

    async def _run_student(self, kind: str, code: str) -> dict:
        """The setup cell (here and in the sandbox) or one of the student's cells (in the sandbox only)."""
        try:
            if kind == "setup":
                self._ensure_sandbox()
                self._cell_output_left, self._truncated = CELL_OUTPUT, False
                queue: SimpleQueue = SimpleQueue()
                future = self.pool.submit(self.sandbox.execute, code, lambda k, c: queue.put((k, c)))
                reply = await super().do_execute(code, True, False, None, False)
                self.protected = {n for n in self.shell.user_ns if not n.startswith("_")}
                sandbox_reply, _ = self._wait(future, queue)
                self.history.append(code)
                if reply.get("status") != "ok":
                    return self._error("GradingError", f"the setup cell failed in the grader: {reply.get('evalue')}")
            else:
                self._ensure_sandbox()
                if self.banned is None:
                    self._ensure_bans()
                    self.history.append("<bans>")
                self.history.append(None)
                sandbox_reply, _ = self._execute_student(code)
                self.history[-1] = code
        except KeyboardInterrupt:
            return self._error("KeyboardInterrupt", "the cell was interrupted (it ran past the time limit)")
        except OverTime as exc:
            return self._error("GradingTimeLimit", str(exc))
        except SandboxDied:
            return self._error(
                "SandboxDied",
                "the student's code was stopped: over the memory limit, or it "
                "killed its own kernel. The cells before it were run again.",
            )
        except Exception as exc:
            return self._error("GradingError", f"the sandbox failed: {type(exc).__name__}: {exc}")
        if sandbox_reply.get("status") == "error":
            return self._reply(
                "error",
                ename=sandbox_reply.get("ename", "Error"),
                evalue=sandbox_reply.get("evalue", ""),
                traceback=sandbox_reply.get("traceback", []),
            )
        return self._reply()

    async def do_shutdown(self, restart):
        self._cleanup()
        result = super().do_shutdown(restart)
        return (await result) if hasattr(result, "__await__") else result

    def _cleanup(self) -> None:
        boxes = [self.sandbox, *self.scoped.values()]
        self.sandbox, self.scoped = None, {}
        for box in boxes:
            if box is None:
                continue
            try:
                self.pool.submit(box.cleanup).result(timeout=30)
            except Exception:
                shutil.rmtree(box.private, ignore_errors=True)


def main() -> None:
    from ipykernel.kernelapp import IPKernelApp

    os.environ.setdefault("MPLBACKEND", "Agg")
    IPKernelApp.launch_instance(kernel_class=GraderKernel)
    _exit_now()


def _exit_now() -> None:
    """End the process once the kernel has shut down (the sandbox stopped, its files removed), without
    Python's teardown of torch's modules: about a second that nbgrader waits for each notebook it grades.
    atexit handlers still run; output is flushed first."""
    import atexit

    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
    os._exit(0)


if __name__ == "__main__":
    main()
