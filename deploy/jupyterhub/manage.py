"""Run as root with the course's Python: accounts, the instructor's course folder, course updates.

  .venv/bin/python deploy/jupyterhub/manage.py add-student NAME [NAME ...]   (password on stdin, one a line)
  .venv/bin/python deploy/jupyterhub/manage.py add-instructor NAME           (password on stdin)
  .venv/bin/python deploy/jupyterhub/manage.py remove-user NAME [NAME ...]   (and their home)
  .venv/bin/python deploy/jupyterhub/manage.py run NAME -- nbgrader collect 01_convolution
  .venv/bin/python deploy/jupyterhub/manage.py publish                       (course update, nbgitpuller link)

`run` runs a command as NAME with the environment the hub gives NAME's server (the course's .venv, the
exchange), in NAME's course folder for an instructor (~/cnn-course), else in NAME's home.
"""

from __future__ import annotations

import argparse
import os
import pwd
import shutil
import subprocess
import sys
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import course_hub as hub

UPDATES = hub.UPDATES
PULLED = "cnn-course-notebooks"  # the folder nbgitpuller keeps in each student's home


def _group(name: str) -> None:
    if subprocess.run(["getent", "group", name], capture_output=True).returncode != 0:
        subprocess.run(["groupadd", name], check=True)


def add_user(name: str, group: str, password: str | None) -> Path:
    """A Unix account in `group` with a private home (and `password`, for PAM); kept if it exists."""
    _group(group)
    try:
        pwd.getpwnam(name)
    except KeyError:
        subprocess.run(["useradd", "--create-home", "--shell", "/bin/bash", "--groups", group, name], check=True)
    else:
        subprocess.run(["usermod", "--append", "--groups", group, name], check=True)
    if password:
        subprocess.run(["chpasswd"], input=f"{name}:{password}\n", text=True, check=True)
    home = Path(pwd.getpwnam(name).pw_dir)
    hub.make_private(home)
    return home


def setup_course(name: str) -> Path:
    """The instructor's course folder: the course's nbgrader_config.py and source/, theirs alone."""
    user = pwd.getpwnam(name)
    course = hub.course_root(name)
    if not course.exists():
        course.mkdir()
        shutil.copy(hub.ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
        shutil.copytree(hub.ROOT / "source", course / "source")
        for path in [course, *course.rglob("*")]:
            os.chown(path, user.pw_uid, user.pw_gid, follow_symlinks=False)
    course.chmod(0o700)
    return course


def remove_user(name: str) -> None:
    subprocess.run(["pkill", "-KILL", "-u", name], capture_output=True)  # that user's processes only
    subprocess.run(["userdel", "--remove", "--force", name], capture_output=True)


def run_as(name: str, command: list[str], **kwargs) -> subprocess.CompletedProcess:
    """`command` as `name`, with their hub environment, in their course folder or home."""
    user = pwd.getpwnam(name)
    env = {**hub.user_environment(name), "HOME": user.pw_dir, "USER": name, "LOGNAME": name}
    cwd = hub.course_root(name) if hub.role(name) == "instructor" else Path(user.pw_dir)
    runuser = shutil.which("runuser") or "/usr/sbin/runuser"
    return subprocess.run([runuser, "-u", name, "--", *command], env=env, cwd=cwd, **kwargs)


def publish(updates: Path = UPDATES, port: int = hub.PORT, source: Path = hub.ROOT / "notebooks") -> str:
    """Commit `source` (notebooks/: what students may see) to the bare repository `updates`; return the
    nbgitpuller link.

    Opening the link pulls it into ~/cnn-course-notebooks: new files arrive, files the student changed
    keep their changes (nbgitpuller merges: the student's edits win over the update's)."""
    git = [
        "git",
        "-c",
        "user.name=cnn-course",
        "-c",
        "user.email=cnn-course@localhost",
        f"--git-dir={updates}",
        f"--work-tree={source}",
    ]
    if not (updates / "HEAD").exists():
        updates.mkdir(parents=True, exist_ok=True)
        subprocess.run(["git", "init", "--quiet", "--bare", "--initial-branch=main", str(updates)], check=True)
    subprocess.run([*git, "add", "--all", "."], check=True, cwd=source)
    if subprocess.run([*git, "diff", "--cached", "--quiet"], cwd=source).returncode:
        subprocess.run([*git, "commit", "--quiet", "-m", "Course update"], check=True, cwd=source)
    for path in [updates, *updates.rglob("*")]:  # readable by every student, writable by root only
        path.chmod(0o755 if path.is_dir() else 0o644)
    return link(updates, port)


def link(updates: Path = UPDATES, port: int = hub.PORT) -> str:
    query = urllib.parse.urlencode(
        {"repo": f"file://{updates}", "branch": "main", "targetPath": PULLED, "urlpath": f"lab/tree/{PULLED}"}
    )
    return f"http://127.0.0.1:{port}/hub/user-redirect/git-pull?{query}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for command in ("add-student", "add-instructor", "remove-user"):
        sub.add_parser(command).add_argument("names", nargs="+")
    run = sub.add_parser("run")
    run.add_argument("name")
    run.add_argument("argv", nargs=argparse.REMAINDER)
    sub.add_parser("publish")
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        parser.error("run as root")
    if args.command in ("add-student", "add-instructor"):
        group = hub.STUDENTS if args.command == "add-student" else hub.INSTRUCTORS
        for name in args.names:
            password = sys.stdin.readline().rstrip("\n") if not sys.stdin.isatty() else None
            add_user(name, group, password or None)
            if group == hub.INSTRUCTORS:
                print(f"{name}: instructor, course folder {setup_course(name)}")
            else:
                print(f"{name}: student")
    elif args.command == "remove-user":
        for name in args.names:
            remove_user(name)
    elif args.command == "run":
        argv = args.argv[1:] if args.argv[:1] == ["--"] else args.argv
        return run_as(args.name, argv).returncode
    elif args.command == "publish":
        print(publish())
    return 0


if __name__ == "__main__":
    sys.exit(main())
