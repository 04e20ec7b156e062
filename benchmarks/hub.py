"""A class logging in at once: N students on the course's JupyterHub, concurrently (run as root).

Starts a throwaway hub (deploy/jupyterhub/ephemeral.py: its own ports, exchange and Unix users), the
instructor releases 01_convolution, then every student at the same moment, each with their own HTTP
client and cookies: logs in through the hub's login form (which starts their server), waits for the
server through the hub's REST API, signs in to it (OAuth), fetches 01_convolution through nbgrader's
REST API on their server, saves a solved corr2d into it through the contents API, and submits. The
instructor then collects, and every student must be in submitted/.

Prints, with --json, {"students": N, "p50_s", "p95_s", "max_s" (login to submitted), "failed",
"server_rss_mb" (mean resident memory of one idle student server), "kernel_rss_mb" (a kernel that
imported the course's libraries: torch, matplotlib, course_utils), "wall_s", "cpu_s_per_student" (CPU
time of the hub, the proxy, the servers and the instructor's commands, over N), "cpus"}.

    sudo .venv/bin/python benchmarks/hub.py --json [--students 30]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import pwd
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "deploy" / "jupyterhub"))

NAME = "01_convolution"


def _solved(nb: dict) -> dict:
    """The fetched notebook with corr2d solved (the source notebook's solution)."""
    import nbformat

    from autograder.cli.simulate import SOLVED, submission

    source = nbformat.read(ROOT / "source" / NAME / f"{NAME}.ipynb", as_version=4)
    return submission(nbformat.from_dict(nb), source, {"corr2d": SOLVED})


async def student(hub, role: str, start: asyncio.Event) -> float:
    """One student's login-to-submitted, in seconds; raises on any failure."""
    import httpx

    user = hub.users[role]
    async with httpx.AsyncClient(base_url=hub.base, follow_redirects=True, timeout=300) as client:
        await start.wait()
        t0 = time.monotonic()
        await client.get("/hub/login")
        xsrf = client.cookies.get("_xsrf", path="/hub/")
        r = await client.post("/hub/login", data={"username": user, "password": hub.passwords[role], "_xsrf": xsrf})
        r.raise_for_status()
        while True:  # the login started the server; the hub's REST API says when it is ready
            r = await client.get(f"/hub/api/users/{user}")
            r.raise_for_status()
            server = r.json()["servers"].get("")
            if server and server["ready"]:
                break
            if not server and time.monotonic() - t0 > 30:
                raise RuntimeError(f"{user}: no server is starting: {r.json()}")
            if time.monotonic() - t0 > 300:
                raise TimeoutError(f"{user}: server not ready after 300 s")
            await asyncio.sleep(0.5)
        r = await client.get(f"/user/{user}/lab")  # the page signs in to the server (OAuth with the hub)
        r.raise_for_status()
        token = next(c.value for c in client.cookies.jar if c.name == "_xsrf" and c.path.startswith(f"/user/{user}"))
        headers = {"X-XSRFToken": token}
        ids = {"course_id": "cnn-course", "assignment_id": NAME}
        r = await client.post(f"/user/{user}/assignments/fetch", data=ids, headers=headers)
        r.raise_for_status()
        assert r.json()["success"], r.text[:500]
        path = f"/user/{user}/api/contents/{NAME}/{NAME}.ipynb"
        r = await client.get(path)
        r.raise_for_status()
        nb = _solved(r.json()["content"])
        r = await client.put(path, json={"type": "notebook", "format": "json", "content": nb}, headers=headers)
        r.raise_for_status()
        r = await client.post(f"/user/{user}/assignments/submit", data=ids, headers=headers)
        r.raise_for_status()
        assert r.json()["success"], r.text[:500]
        return time.monotonic() - t0


def server_rss_mb(users: list[str]) -> float:
    """Mean resident memory of each user's processes (their idle server), in MiB."""
    import psutil

    per_user = {u: 0 for u in users}
    for p in psutil.process_iter(["username", "memory_info"]):
        if p.info["username"] in per_user and p.info["memory_info"]:
            per_user[p.info["username"]] += p.info["memory_info"].rss
    running = [v for v in per_user.values() if v]
    return round(statistics.mean(running) / 2**20, 1) if running else 0.0


def kernel_rss_mb(hub, role: str) -> float:
    """Peak resident memory of the course's Python, as a student, after a kernel's and a notebook's imports."""
    import course_hub

    user = hub.users[role]
    env = {**course_hub.user_environment(user), "HOME": pwd.getpwnam(user).pw_dir}
    code = (
        "import ipykernel.kernelapp, torch, matplotlib.pyplot, course_utils, course_utils.widgets.convolution, "
        "resource; print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    )
    runuser = shutil.which("runuser") or "/usr/sbin/runuser"
    result = subprocess.run(
        [runuser, "-u", user, "--", str(course_hub.USERS_BIN / "python"), "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd="/",
    )
    if result.returncode:
        raise RuntimeError(result.stderr[-2000:])
    return round(int(result.stdout.split()[-1]) / 1024, 1)


async def run_class(hub, roles: list[str]) -> dict:
    """Every student at once: {role: seconds or the exception}."""
    start = asyncio.Event()
    tasks = [asyncio.create_task(student(hub, r, start)) for r in roles]
    await asyncio.sleep(0.2)
    start.set()
    return dict(zip(roles, await asyncio.gather(*tasks, return_exceptions=True)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=24)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        sys.exit("benchmarks/hub.py creates Unix users and runs JupyterHub: run it as root")
    import resource

    from ephemeral import EphemeralHub

    roles = [f"s{i:03d}" for i in range(args.students)]
    wall = time.monotonic()
    with EphemeralHub(students=roles, env={"CNN_HUB_IDLE_TIMEOUT": "3600"}) as hub:
        hub.as_instructor("nbgrader", "generate_assignment", NAME, "--force")
        hub.as_instructor("nbgrader", "release_assignment", NAME)
        results = asyncio.run(run_class(hub, roles))
        time.sleep(2)  # the servers settle after their last request
        rss = server_rss_mb([hub.users[r] for r in roles])
        kernel = kernel_rss_mb(hub, roles[0])
        hub.as_instructor("nbgrader", "collect", NAME)
        folder = hub.course() / "submitted"
        submitted = {p.name for p in folder.iterdir()} if folder.exists() else set()
    # CPU time of the hub and everything it started (servers, proxy), reaped when the hub stopped
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    failed = {r for r in roles if isinstance(results[r], BaseException) or hub.users[r] not in submitted}
    errors = [f"{r}: {type(e).__name__}: {str(e)[:300]}" for r, e in results.items() if isinstance(e, BaseException)]
    times = sorted(t for t in results.values() if isinstance(t, float))
    report = {
        "students": args.students,
        "p50_s": round(statistics.median(times), 1) if times else None,
        "p95_s": round(times[min(len(times) - 1, int(0.95 * len(times)))], 1) if times else None,
        "max_s": round(times[-1], 1) if times else None,
        "failed": len(failed),
        "server_rss_mb": rss,
        "kernel_rss_mb": kernel,
        "wall_s": round(time.monotonic() - wall, 1),
        "cpu_s_per_student": round((children.ru_utime + children.ru_stime) / args.students, 1),
        "cpus": os.cpu_count(),
    }
    if errors:
        report["errors"] = errors[:5]
    print(json.dumps(report) if args.json else "\n".join(f"{k}: {v}" for k, v in report.items()))
    return 0 if report["failed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
