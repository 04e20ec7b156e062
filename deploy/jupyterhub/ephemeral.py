"""A throwaway hub for tests and benchmarks (run as root): its own ports, exchange, state and Unix groups,
an instructor and some students with random passwords, all gone afterwards.

    with EphemeralHub(students=["alice", "bob"]) as hub:
        hub.base, hub.users["alice"], hub.passwords["alice"], hub.as_instructor("nbgrader", "collect", ...)

Stopping: SIGTERM to the hub's process group (the hub then stops every user's server and the proxy),
SIGKILL after 10 s; then the proxy from its pid file, and every process left to the users it created
(by uid: `pkill -u`); then the users (with their homes), the groups and the folder.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
MANAGE = HERE / "manage.py"
PROXY = HERE / "node_modules" / ".bin" / "configurable-http-proxy"


def free_ports(n: int) -> list[int]:
    """n consecutive free ports on 127.0.0.1 (the hub's API port + 1 is the proxy's API)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            first = s.getsockname()[1]
        sockets = []
        try:
            for port in range(first, first + n):
                sockets.append(socket.socket())
                sockets[-1].bind(("127.0.0.1", port))
            return list(range(first, first + n))
        except OSError:
            continue
        finally:
            for s in sockets:
                s.close()
    raise RuntimeError("no free ports")


def kill_group(pid: int, grace: float = 10) -> None:
    """SIGTERM to the process group of `pid`, SIGKILL if it is still there after `grace` seconds."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except (ProcessLookupError, PermissionError):
            return
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            try:
                if os.waitpid(pid, os.WNOHANG)[0]:
                    return
            except ChildProcessError:
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    return
            time.sleep(0.2)


class EphemeralHub:
    def __init__(self, students: list[str], instructor: str = "teach", env: dict | None = None):
        tag = uuid.uuid4().hex[:6]
        self.roles = {"instructor": instructor, **{s: s for s in students}}
        self.users = {role: f"cnn{name}{tag}"[:32] for role, name in self.roles.items()}
        self.passwords = {role: secrets.token_urlsafe(12) for role in self.users}
        self.tag = tag
        self.extra_env = env or {}
        self.process = None
        self.work = None

    # --- lifecycle ---------------------------------------------------------------------------------------
    def __enter__(self) -> EphemeralHub:
        if os.geteuid() != 0:
            raise RuntimeError("a hub with Unix users needs root")
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        if not PROXY.exists():
            subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=HERE, check=True, capture_output=True)
        self.work = Path(tempfile.mkdtemp(prefix="cnn-course-hub-", dir="/tmp"))
        self.work.chmod(0o755)  # the exchange inside must be reachable by every user
        port, api_port, _ = free_ports(3)
        self.env = {
            **os.environ,
            "CNN_HUB_PORT": str(port),
            "CNN_HUB_API_PORT": str(api_port),
            "CNN_HUB_STATE": str(self.work / "state"),
            "CNN_HUB_EXCHANGE": str(self.work / "exchange"),
            "CNN_HUB_UPDATES": str(self.work / "updates.git"),
            "CNN_HUB_STUDENTS": f"cnns{self.tag}",
            "CNN_HUB_INSTRUCTORS": f"cnni{self.tag}",
            **self.extra_env,
        }
        self.env.pop("CNN_COURSE_NO_SANDBOX", None)  # instructors grade in the sandbox
        self.base = f"http://127.0.0.1:{port}"
        self.exchange = self.work / "exchange"
        self.log = self.work / "hub.log"
        students = [r for r in self.users if r != "instructor"]
        for command, roles in (("add-instructor", ["instructor"]), ("add-student", students)):
            result = subprocess.run(
                [sys.executable, MANAGE, command, *(self.users[r] for r in roles)],
                env=self.env,
                input="".join(self.passwords[r] + "\n" for r in roles),
                text=True,
                capture_output=True,
            )
            if result.returncode:
                raise RuntimeError(f"{command}: {result.stdout}{result.stderr}")
        with open(self.log, "w") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "jupyterhub", "-f", str(HERE / "jupyterhub_config.py")],
                cwd=self.work,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{self.base}/hub/health", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"JupyterHub did not start: {self.log.read_text()[-3000:]}")
            time.sleep(0.5)

    def stop(self) -> None:
        if self.process is not None:
            kill_group(self.process.pid)
            self.process = None
        if self.work is None:
            return
        pid_file = self.work / "state" / "proxy.pid"
        if pid_file.exists():  # a proxy the hub could not stop
            try:
                kill_group(int(pid_file.read_text().strip()), grace=3)
            except ValueError:
                pass
        subprocess.run([sys.executable, MANAGE, "remove-user", *self.users.values()], env=self.env, capture_output=True)
        for group in (self.env["CNN_HUB_STUDENTS"], self.env["CNN_HUB_INSTRUCTORS"]):
            subprocess.run(["groupdel", group], capture_output=True)
        shutil.rmtree(self.work, ignore_errors=True)
        self.work = None

    # --- acting as someone ----------------------------------------------------------------------------------
    def as_instructor(self, *argv: str, timeout: float = 900) -> subprocess.CompletedProcess:
        """`argv` as the instructor, with their hub environment, in their course folder (~/cnn-course)."""
        result = subprocess.run(
            [sys.executable, MANAGE, "run", self.users["instructor"], "--", *argv],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if result.returncode:
            raise AssertionError(
                f"{' '.join(argv)} as the instructor failed:\n{result.stdout[-2000:]}{result.stderr[-4000:]}"
            )
        return result

    def course(self) -> Path:
        import pwd

        return Path(pwd.getpwnam(self.users["instructor"]).pw_dir) / "cnn-course"
