"""The sandboxed kernel that `nbgrader autograde` runs submissions in (kernel spec ``cnn-course-sandbox``).

nbgrader starts a kernel for each submission with the instructor's rights. Here the kernel spec's
command is ``python -m autograder.sandbox.launch {connection_file}``, which execs the normal IPython kernel
inside Debian's bubblewrap (``bwrap``) with these guarantees:

* **Files**: the sandbox sees only the system (``/usr``, ``/etc``), the Python installation and the
  course's virtual environment, the ``course_utils`` package, and the datasets (``/usr/share``,
  ``$COURSE_DATA``): all read-only. ``source/``, the gradebook, ``submitted/`` and every other
  student's folder do not exist in it. The one writable place that persists is the submission's own
  folder (nbgrader's working directory for the kernel); ``/tmp`` and anything else written vanish
  with the sandbox.
* **Network**: a new network namespace with no interfaces but its own loopback: no internet, and
  no server of the host, not even on 127.0.0.1. nbgrader talks to the kernel over Unix sockets
  (``KernelManager.transport = "ipc"`` in nbgrader_config.py), which live in a private folder.
* **Processes**: a new PID namespace (the kernel sees only its own processes; they all die with it),
  no capabilities, a new session (no terminal injection).
* **Limits**: address space ``SANDBOX_MEMORY`` (6 GiB: an allocation beyond it raises MemoryError in
  the cell), CPU time ``SANDBOX_CPU_SECONDS`` per kernel, and at most ``SANDBOX_PROCESSES`` tasks
  (threads included): through a ``pids`` cgroup when running as root with cgroup v1 or v2
  writable (root ignores RLIMIT_NPROC), through RLIMIT_NPROC otherwise.

Not guaranteed: the kernel runs as the grader's uid (without capabilities), so inside the
sandbox it may read root-owned files of the bound, read-only paths (the system and the Python
environment, which hold no secrets of the course). CPU *time* is limited, wall time is nbgrader's
cell timeout. Disk use of the submission's folder is not limited. Without bubblewrap installed the
kernel refuses to start (grading fails loudly rather than running unsandboxed).
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import sys
import tempfile
import uuid
from pathlib import Path

SANDBOX_MEMORY = 6 * 2**30
SANDBOX_CPU_SECONDS = 900
SANDBOX_PROCESSES = 256
SANDBOX_TMP = 512 * 2**20  # each of /tmp and the working folder (RAM-backed, inside the memory limit)
SANDBOX_SHM = 64 * 2**20  # /dev/shm (multiprocessing's semaphores; RAM-backed too)
KERNEL_NAME = "cnn-course-sandbox"
GRADER_KERNEL = "cnn-course-grader"
JUPYTER_DIR = Path(__file__).resolve().parent.parent / "jupyter"  # holds kernels/cnn-course-sandbox/
PORTS = ("shell_port", "iopub_port", "stdin_port", "control_port", "hb_port")
CGROUP_ROOTS = (Path("/sys/fs/cgroup/pids"), Path("/sys/fs/cgroup/unified"), Path("/sys/fs/cgroup"))


def _cgroup(controller: str, settings) -> Path | None:
    """A fresh cgroup (v1 or v2) of `controller` holding this process; None if not allowed.

    `settings(v1)` gives the files to write in it, as (name, value, required) triples.
    """
    for root in (Path(f"/sys/fs/cgroup/{controller}"), Path("/sys/fs/cgroup/unified"), Path("/sys/fs/cgroup")):
        v1 = root.name == controller
        parent = root / "cnn-course-sandbox"
        try:
            if not (root / "cgroup.procs").exists():
                continue
            if not v1 and controller not in (root / "cgroup.controllers").read_text().split():
                continue
            parent.mkdir(exist_ok=True)
            if not v1:
                (parent / "cgroup.subtree_control").write_text(f"+{controller}")
            for stale in parent.iterdir():  # sandboxes that ended leave empty groups behind
                if stale.is_dir():
                    try:
                        stale.rmdir()
                    except OSError:
                        pass
            group = parent / uuid.uuid4().hex
            group.mkdir()
            for name, value, required in settings(v1):
                try:
                    (group / name).write_text(str(value))
                except OSError:
                    if required:
                        raise
            (group / "cgroup.procs").write_text(str(os.getpid()))
            return group
        except OSError:
            continue
    return None


def _pids_cgroup(limit: int) -> Path | None:
    """A pids cgroup holding this process, limited to `limit` tasks (root ignores RLIMIT_NPROC)."""
    return _cgroup("pids", lambda v1: [("pids.max", limit, True)])


def _memory_cgroup(limit: int) -> Path | None:
    """A memory cgroup holding this process, limited to `limit` bytes in all, without swap: every process of
    the sandbox and its RAM-backed folders (``/tmp``, the working folder) count together."""
    v1 = [("memory.limit_in_bytes", limit, True), ("memory.memsw.limit_in_bytes", limit, False)]
    v2 = [("memory.max", limit, True), ("memory.swap.max", 0, False)]
    return _cgroup("memory", lambda is_v1: v1 if is_v1 else v2)


def _limit(name: int, value: int) -> None:
    soft, hard = resource.getrlimit(name)
    value = value if hard == resource.RLIM_INFINITY else min(value, hard)
    resource.setrlimit(name, (value, value))


#: Only these variables reach the sandbox (the grader's own environment stays outside).
PASSED_ENV = (
    "LANG",
    "LC_ALL",
    "COURSE_QUICK",
    "COURSE_DATA",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "OPENBLAS_CORETYPE",
    "OPENBLAS_L2_SIZE",
    "CUDA_VISIBLE_DEVICES",
)
WORKDIR = "/submission"


#: Inside the sandbox: where the kernel binds its sockets (its own /tmp: RAM-backed, capped, gone with it).
IPC_DIR = "/tmp/ipc"
#: Stand-ins for torch packages that a call-scoped ban removes from a sandbox (``--scoped optim``).
STUBS = Path(__file__).resolve().parent / "stubs"


def _matplotlib_cache() -> list[Path]:
    """matplotlib's font lists of the grader, shown read-only in the sandbox so its kernel need not rebuild them."""
    cache = Path(os.environ.get("MPLCONFIGDIR") or Path.home() / ".cache" / "matplotlib")
    return sorted(p for p in cache.glob("fontlist-*.json") if p.is_file() and not p.is_symlink())


def bwrap_command(
    connection_fd: int,
    files: Path | None,
    inbox: Path | None,
    kernel_args: tuple[str, ...] = (),
    scoped: tuple[str, ...] = (),
) -> list[str]:
    """The bwrap command line that runs the IPython kernel in a fresh working folder holding `files` (read-only)
    and the grader's `inbox` at /rpc (read-only), with `kernel_args` (the `Execute.extra_arguments` of
    nbgrader_config.py). Its connection file comes from `connection_fd` (bwrap copies it into the sandbox); it
    binds its sockets in its own /tmp. Nothing the sandbox can write lives outside it: /tmp, the working folder
    and /dev/shm are RAM-backed, capped, and gone when it ends. `scoped`: call-scoped ban groups whose torch
    package is replaced by a stand-in that refuses (``autograder/sandbox/stubs``)."""
    import importlib.util

    bwrap = shutil.which("bwrap")
    if bwrap is None:
        raise SystemExit("cnn-course-sandbox: bubblewrap (bwrap) is not installed: apt-get install bubblewrap")
    packages = []
    for name in ("course_utils", "autograder"):  # found, not imported (that would load torch)
        packages += list(importlib.util.find_spec(name).submodule_search_locations)
    ro = ["/usr", "/etc", sys.base_prefix, sys.prefix, *packages]
    if os.environ.get("COURSE_DATA"):
        ro.append(os.environ["COURSE_DATA"])
    command = [
        bwrap,
        "--die-with-parent",
        "--new-session",
        "--unshare-all",
        "--cap-drop",
        "ALL",
        "--clearenv",
        "--tmpfs",
        "/",
        "--dev",
        "/dev",
        "--size",
        str(SANDBOX_SHM),
        "--tmpfs",
        "/dev/shm",
        "--remount-ro",  # bwrap's /dev is an uncapped tmpfs: its device nodes work read-only as well
        "/dev",
        "--proc",
        "/proc",
        "--size",
        str(SANDBOX_TMP),
        "--tmpfs",
        "/tmp",
        "--size",
        str(SANDBOX_TMP),
        "--tmpfs",
        WORKDIR,
    ]
    for link in ("bin", "lib", "lib64", "sbin"):
        if Path("/", link).is_symlink():
            command += ["--symlink", os.readlink(Path("/", link)), f"/{link}"]
    for path in dict.fromkeys(ro):
        if Path(path).exists():
            command += ["--ro-bind", path, path]
    for group in scoped:
        spec = importlib.util.find_spec(f"torch.{group}")
        if spec is None or not (STUBS / group).is_dir():
            raise SystemExit(f"cnn-course-sandbox: no stand-in for torch.{group}")
        command += ["--ro-bind", str(STUBS / group), spec.submodule_search_locations[0]]
    if files is not None and files.is_dir():
        for item in sorted(files.rglob("*")):
            if item.is_file() and not item.is_symlink():
                command += ["--ro-bind", str(item), f"{WORKDIR}/{item.relative_to(files)}"]
    if inbox is not None:
        command += ["--ro-bind", str(inbox), "/rpc"]
    command += ["--dir", "/tmp/matplotlib", "--dir", IPC_DIR]
    for font_list in _matplotlib_cache():
        command += ["--ro-bind", str(font_list), f"/tmp/matplotlib/{font_list.name}"]
    env = {
        "HOME": "/tmp",
        "MPLCONFIGDIR": "/tmp/matplotlib",
        "MPLBACKEND": "Agg",
        "PYTHONNOUSERSITE": "1",
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "LANG": "C.UTF-8",
    }
    env.update({k: os.environ[k] for k in PASSED_ENV if k in os.environ})
    # ipykernel prints a "Ctrl-C will not work ... --existing /tmp/connection.json" banner into nbgrader's log
    # when it believes no Jupyter client started it (no JPY_PARENT_PID). Its parent is bwrap, not the client;
    # 1 says "no parent to watch" (ipykernel then starts no parent poller, as without the variable).
    env["JPY_PARENT_PID"] = "1"
    command += ["--perms", "0400", "--ro-bind-data", str(connection_fd), "/tmp/connection.json", "--chdir", WORKDIR]
    for key, value in env.items():
        command += ["--setenv", key, value]
    # -P: the working folder (the student's files) is not searched before the course's modules (a student's
    # autograder.py or torch.py would replace them); the worker finds the student's own modules last (StudentFolder)
    command += [
        "--remount-ro",
        "/",
        sys.executable,
        "-P",
        "-m",
        "ipykernel_launcher",
        "-f",
        "/tmp/connection.json",
        *kernel_args,
    ]
    return command


def launch(connection_file: str, kernel_args: tuple[str, ...] = ()) -> None:
    """Exec the kernel for `connection_file` inside the sandbox (never returns).

    The kernel binds its sockets in the sandbox's own /tmp (``IPC_DIR``); the grader reaches them through
    ``/proc/<pid>/root`` (``autograder.trusted.grader_kernel.Sandbox.start`` links its socket paths there). The
    connection file goes in through a pipe: this leaves no file on the host.
    """
    connection = json.loads(Path(connection_file).read_text())
    if connection.get("transport") != "ipc":
        raise SystemExit(
            "cnn-course-sandbox: the kernel must be started with KernelManager.transport = 'ipc' "
            "(nbgrader_config.py sets it for autograde); refusing to open TCP ports"
        )
    files = Path(os.environ["CNN_SANDBOX_FILES"]) if os.environ.get("CNN_SANDBOX_FILES") else None
    inbox = Path(os.environ["CNN_SANDBOX_INBOX"]) if os.environ.get("CNN_SANDBOX_INBOX") else None
    scoped = tuple(g for g in os.environ.get("CNN_SANDBOX_SCOPED", "").split(",") if g)
    inside = dict(connection, ip=f"{IPC_DIR}/kernel")
    read, write = os.pipe()
    os.write(write, json.dumps(inside).encode())  # a few hundred bytes: fits in the pipe's buffer
    os.close(write)
    os.set_inheritable(read, True)
    command = bwrap_command(read, files, inbox, kernel_args, scoped)
    _memory_cgroup(SANDBOX_MEMORY)  # all its processes together (as root)
    _limit(resource.RLIMIT_AS, SANDBOX_MEMORY)  # and each one: a huge allocation is a MemoryError
    _limit(resource.RLIMIT_CPU, SANDBOX_CPU_SECONDS)
    if _pids_cgroup(SANDBOX_PROCESSES) is None:
        _limit(resource.RLIMIT_NPROC, SANDBOX_PROCESSES)
    if os.environ.get("CNN_COURSE_SANDBOX_DEBUG"):
        print("cnn-course-sandbox:", " ".join(command), file=sys.stderr)
    os.execv(command[0], command)


def grading_env(run: Path, assignment: str, notebook_seconds: dict | float | None = None) -> dict[str, str]:
    """The environment of one notebook's grading kernel (``autograder.hooks.execute.SplitExecute`` starts it), whose run
    folder is `run` (mode 0700, removed after the notebook): the kernel's Unix sockets, the plan, each sandbox's
    inbox and files. The sandbox's kernel spec is on this kernel's search path only: JupyterLab's launcher never
    offers it. `notebook_seconds`: the notebook's grading time as a whole (``{"01_convolution": 120, "default":
    300}`` or one number); CNN_COURSE_NOTEBOOK_SECONDS in the environment takes its place.
    """
    env = dict(os.environ)
    env["JUPYTER_PATH"] = os.pathsep.join(filter(None, [str(JUPYTER_DIR), os.environ.get("JUPYTER_PATH")]))
    env["CNN_COURSE_RUN_DIR"] = str(run)
    env["CNN_COURSE_PLAN"] = str(run / "plan.json")
    env["CNN_COURSE_ASSIGNMENT"] = assignment
    # torch's compiler keeps a cache folder in the temporary folder (the checks' optimizers load it): this run's
    env.setdefault("TORCHINDUCTOR_CACHE_DIR", str(run / "inductor"))
    # every kernel nbgrader starts trains 06 in quick mode (course_utils.training.quick)
    env.setdefault("COURSE_QUICK", "1")
    if notebook_seconds is not None and not os.environ.get("CNN_COURSE_NOTEBOOK_SECONDS"):  # the environment wins
        env["CNN_COURSE_NOTEBOOK_SECONDS"] = json.dumps(notebook_seconds)
    return env


RUN_PREFIX = "cnn-course-run-"


def remove_stale_runs(tmp: str | None = None) -> list[str]:
    """Remove the folders of grading runs (this user's) whose nbgrader process is gone; the names removed."""
    removed = []
    for folder in Path(tmp or tempfile.gettempdir()).glob(f"{RUN_PREFIX}*"):
        try:
            if folder.is_symlink() or folder.stat().st_uid != os.getuid():
                continue
            pid = int((folder / "pid").read_text())
            os.kill(pid, 0)  # alive (or not ours to signal): kept
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder.name)
        except (OSError, ValueError):
            continue
    return removed


if __name__ == "__main__":
    if len(sys.argv) < 2 or not sys.argv[1].endswith(".json"):
        sys.exit(
            "usage: python -m autograder.sandbox.launch CONNECTION_FILE [KERNEL_ARGS] (started by Jupyter as a kernel)"
        )
    launch(sys.argv[1], tuple(sys.argv[2:]))
