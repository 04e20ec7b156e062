"""``python -m autograder autograde <assignment> [--jobs N]``: grade a class that one bad submission can't stop.

Run it from the course root (where nbgrader_config.py lives), like ``nbgrader autograde``. It:

1. checks every submission first (``submitted/<student>/<assignment>/``) and repairs what is safe to
   repair, saying so: a notebook saved under another name is renamed when it is the only one; a file
   that is not a valid notebook is set aside (``*.invalid``) and its student gets zero with the
   parser's reason; a missing notebook gets zero; a cell copied with its nbgrader metadata (which
   makes nbgrader reject the notebook, and stops a plain ``nbgrader autograde`` of the whole class)
   stays as an ordinary cell. Deleted test cells and edited metadata are nbgrader's own business:
   it restores test cells and their points from the gradebook.
2. grades the class in N ``nbgrader autograde`` processes at a time, each given a share of the students
   (the others excluded), with a progress bar and an ETA. A student a process could not grade (a
   crash, "database is locked": SQLite allows one writer at a time) is graded again alone, in their
   own ``nbgrader autograde --student`` process, and gets zero with nbgrader's reason if that fails.
3. prints one line per student: score, what was repaired, why they got zero.

Each student's scores are exactly those of plain serial ``nbgrader autograde`` (a test compares them).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from autograder import tool_env
from autograder.hooks.execute import sandbox_missing
from autograder.hooks.submissions import graded_score, ungenerated

RETRIES = 3


@dataclass
class Outcome:
    """What happened to one student's submission."""

    student: str
    notes: list[str] = field(default_factory=list)  # repairs and reasons, in order
    graded: bool = False
    score: float | None = None
    max_score: float | None = None
    seconds: float = 0.0
    log: str = ""


def expected_notebooks(course: Path, assignment: str) -> list[str]:
    """The notebook names the assignment releases (from source/)."""
    names = sorted(p.name for p in (course / "source" / assignment).glob("*.ipynb"))
    if not names:
        raise SystemExit(f"no notebooks in {course / 'source' / assignment}: is this the course root?")
    return names


def students(course: Path, assignment: str) -> list[str]:
    """Students with a submission folder for `assignment`."""
    root = course / "submitted"
    return sorted(p.parent.name for p in root.glob(f"*/{assignment}") if p.is_dir()) if root.is_dir() else []


def check_submission(folder: Path, expected: list[str], outcome: Outcome) -> bool:
    """Repair what is safe to repair in `folder`; return False when nothing can be graded."""
    from autograder.hooks.submissions import links_in, reject_links

    links = ["."] if folder.is_symlink() else links_in(folder)
    if links:  # never opened: graded as the blank notebook, the submission kept aside (as nbgrader's hook does)
        reject_links(notebooks=[str(folder / name) for name in expected])
        outcome.notes.append(
            f"zero: the submission holds symbolic links ({', '.join(links[:5])}); "
            f"kept in rejected/{folder.parent.name}/"
        )
    present = sorted(p.name for p in folder.glob("*.ipynb"))
    missing = [name for name in expected if name not in present]
    extra = [name for name in present if name not in expected]
    if len(missing) == 1 and len(extra) == 1:
        (folder / extra[0]).rename(folder / missing[0])
        outcome.notes.append(f"renamed {extra[0]} to {missing[0]}")
        missing, extra = [], []
    gradable = False
    for name in expected:
        path = folder / name
        if not path.exists():
            outcome.notes.append(f"zero for {name}: not submitted" + (f" (found {', '.join(extra)})" if extra else ""))
            continue
        try:
            nb = nbformat.read(path, as_version=4)
            nbformat.validate(nb)
        except Exception as exc:  # any parse or schema error: the file is not a notebook nbgrader can read
            reason = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
            path.rename(path.with_name(path.name + ".invalid"))
            outcome.notes.append(f"zero for {name}: not a valid notebook ({type(exc).__name__}: {reason})")
            continue
        _unduplicate(nb, path, name, outcome)
        gradable = True
    return gradable


def _unduplicate(nb, path: Path, name: str, outcome: Outcome) -> None:
    """Cells copied with their nbgrader metadata make nbgrader reject the notebook (and, in one run, the whole
    class). Keep the first cell of each grade id as the graded one; later copies still run, as ordinary cells."""
    seen: dict[str, int] = {}
    ids: set[str] = set()
    changed = False
    for index, cell in enumerate(nb.cells):
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id is not None and grade_id in seen:
            del cell.metadata["nbgrader"]
            seen[grade_id] += 1
            changed = True
        elif grade_id is not None:
            seen[grade_id] = 1
        if cell.get("id") in ids:
            cell["id"] = f"copy-{index}"
            changed = True
        ids.add(cell.get("id"))
    if changed:
        nbformat.write(nb, path)
        for grade_id, count in seen.items():
            if count > 1:
                outcome.notes.append(
                    f"{name}: cell {grade_id!r} appears {count} times; graded the first, "
                    "ran the copies as ordinary cells"
                )


def grade_one(course: Path, assignment: str, outcome: Outcome, timeout: float) -> Outcome:
    """`nbgrader autograde <assignment> --student <id> --force` in its own process (retried if the db was locked)."""
    start = time.perf_counter()
    for attempt in range(1, RETRIES + 1):
        try:
            result = subprocess.run(
                [sys.executable, "-m", "nbgrader", "autograde", assignment, "--student", outcome.student, "--force"],
                cwd=course,
                capture_output=True,
                text=True,
                timeout=timeout,
                env=tool_env(),
            )
        except subprocess.TimeoutExpired:
            outcome.notes.append(f"grading took over {timeout:.0f} s and was stopped")
            break
        outcome.log = result.stdout[-4000:] + result.stderr[-8000:]
        if result.returncode == 0:
            outcome.graded = True
            break
        if "database is locked" not in outcome.log or attempt == RETRIES:
            outcome.notes.append("nbgrader failed: " + nbgrader_reason(outcome.log, result.returncode))
            break
        time.sleep(attempt)
    outcome.seconds = time.perf_counter() - start
    return outcome


def nbgrader_reason(log: str, returncode: int | None) -> str:
    """The line of nbgrader's output that says why it failed: the exception itself, not "see the above traceback"."""
    lines = [line.strip() for line in log.splitlines()]
    exceptions = [line for line in lines if re.match(r"^[A-Za-z_][\w.]*: \S", line)]  # "SomeError: why"
    if exceptions:
        return exceptions[-1][:400]
    errors = [line for line in lines if "ERROR" in line and "above traceback" not in line]
    return errors[-1][:400] if errors else f"exit {returncode}"


def nbgrader_traceback(log: str, limit: int = 25) -> list[str]:
    """nbgrader's last traceback in `log` (its last `limit` lines), or its last ERROR lines when it printed none."""
    lines = log.rstrip().splitlines()
    starts = [i for i, line in enumerate(lines) if "Traceback (most recent call last)" in line]
    if starts:
        block = lines[starts[-1] :]
        end = next((i for i, line in enumerate(block) if i and re.match(r"^\s*[A-Za-z_][\w.]*: \S", line)), None)
        block = block[: end + 1] if end is not None else block
        return block[-limit:]
    return [line for line in lines if "ERROR" in line][-limit:]


def read_scores(course: Path, assignment: str, outcomes: list[Outcome]) -> None:
    """Fill in each outcome's score from the gradebook (the numbers `nbgrader export` gives)."""
    with _gradebook(course) as gradebook:
        for outcome in outcomes:
            score, outcome.max_score = graded_score(gradebook, assignment, outcome.student)
            outcome.score = 0.0 if score is None else score


def report(outcomes: list[Outcome], assignment: str) -> str:
    """One line per student, then a summary."""
    lines = [f"{assignment}: {len(outcomes)} submission(s)"]
    width = max((len(o.student) for o in outcomes), default=7)
    for o in outcomes:
        score = "—" if o.score is None or not o.graded else f"{o.score:g}/{o.max_score:g}"
        status = "graded" if o.graded else "NOT GRADED"
        notes = "; ".join(o.notes)
        lines.append(f"  {o.student:<{width}}  {score:>9}  {status}" + (f"  ({notes})" if notes else ""))
        if not o.graded and o.log:
            lines += ["      " + line for line in nbgrader_traceback(o.log)]
    graded = sum(o.graded for o in outcomes)
    if graded == len(outcomes):
        lines.append(f"graded {graded} of {len(outcomes)}: every student has a score in the gradebook")
    else:
        lines.append(
            f"graded {graded} of {len(outcomes)}: the others have no score in the gradebook "
            f"(the reasons are above; fix them and run this again)"
        )
    return "\n".join(lines)


def _thread_share(jobs: int) -> dict[str, str]:
    """Kernels grading side by side share the CPUs: each gets its part of them as its PyTorch/OpenMP threads."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:
        cpus = os.cpu_count() or 1
    return {"OMP_NUM_THREADS": str(max(1, cpus // max(1, jobs)))} if jobs > 1 else {}


def grade_chunk(
    course: Path, assignment: str, chunk: list[str], everyone: list[str], timeout: float, on_done, jobs: int = 1
) -> dict[str, str]:
    """Grade `chunk` in one `nbgrader autograde` process (the others excluded); return {student: error line}
    for those it could not grade. `on_done(student)` is called as each one finishes, for the progress bar."""
    others = [name for name in everyone if name not in chunk]
    command = [
        sys.executable,
        "-m",
        "nbgrader",
        "autograde",
        assignment,
        "--force",
        f"--CourseDirectory.student_id_exclude={','.join(others)}",
    ]
    process = subprocess.Popen(
        command,
        cwd=course,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**tool_env(), **_thread_share(jobs)},
    )
    timer = threading.Timer(timeout * max(1, len(chunk)), process.kill)
    timer.start()
    current, done, errors = None, set(), {}
    try:
        for line in process.stdout:
            grading = re.search(rf"Autograding .*[/\\]autograded[/\\]([^/\\]+)[/\\]{re.escape(assignment)}[/\\]", line)
            if grading:
                current = grading.group(1)
            elif "Setting destination file permissions" in line and current and current not in done:
                done.add(current)
                on_done(current)
            failed = re.search(r"error processing assignment '.*' for student '([^']+)'", line)
            if failed:
                errors[failed.group(1)] = line.strip()
            elif "ERROR" in line and current and current not in done:
                errors.setdefault(current, line.strip())
        process.wait()
    finally:
        timer.cancel()
    for name in chunk:
        if name not in done and name not in errors:
            errors[name] = f"not graded (nbgrader exited with {process.returncode})"
    return {name: line for name, line in errors.items() if name in chunk}


def autograde(
    course: Path,
    assignment: str,
    jobs: int = 1,
    only: list[str] | None = None,
    timeout: float = 1800,
    progress: bool = True,
) -> list[Outcome]:
    """Check, repair and grade every submission of `assignment` in `course`, `jobs` processes at a time.

    The students are dealt round-robin into `jobs` chunks, each graded by one nbgrader process (nbgrader
    starts once per chunk, not once per student); a student a chunk could not grade is graded again on
    their own, and given zero with nbgrader's reason if that fails too.
    """
    expected = expected_notebooks(course, assignment)
    require_generated(course, assignment)
    everyone = students(course, assignment)
    names = only or everyone
    outcomes = {name: Outcome(name) for name in names}
    todo = []
    for name in names:
        folder = course / "submitted" / name / assignment
        if check_submission(folder, expected, outcomes[name]):
            todo.append(name)
        else:
            outcomes[name].notes.append("nothing to grade: zero")
    _register(course, assignment)
    from tqdm import tqdm

    bar = tqdm(total=len(todo), desc=f"autograde {assignment}", unit="student", disable=not progress, file=sys.stderr)
    lock = threading.Lock()

    def finished(name: str) -> None:
        with lock:
            outcomes[name].graded = True
            bar.set_postfix_str(name)
            bar.update()

    chunks = [todo[i :: max(1, jobs)] for i in range(max(1, jobs))]
    retry: dict[str, str] = {}
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = [
            pool.submit(grade_chunk, course, assignment, chunk, everyone, timeout, finished, jobs)
            for chunk in chunks
            if chunk
        ]
        for future in as_completed(futures):
            retry.update(future.result())
    for name in sorted(retry):  # on their own, so nothing else can be blamed
        outcomes[name].graded = False
        outcome = grade_one(course, assignment, outcomes[name], timeout)
        if outcome.graded:
            outcome.notes.append("graded on a second try, alone")
            bar.update()
    bar.close()
    result = [outcomes[name] for name in names]
    read_scores(course, assignment, result)
    return result


class NotGenerated(SystemExit):
    """The gradebook does not know the assignment's notebooks: nbgrader would fail for every student."""


def require_generated(course: Path, assignment: str) -> None:
    """Stop before grading anyone when the gradebook has no notebooks for `assignment`.

    nbgrader would fail each student with "No notebooks found" and leave a submission record behind, after
    which `nbgrader generate_assignment --force` refuses to register the notebooks ("there are submissions").
    """
    released = [Path(name).stem for name in expected_notebooks(course, assignment)]
    reason = ungenerated(*_gradebook_config(course), assignment, released)
    if reason:
        raise NotGenerated(
            f"{reason}, so nbgrader can grade no one: "
            f"run `nbgrader generate_assignment {assignment} --force` here first "
            "(nothing was graded, nothing was changed)"
        )


def _register(course: Path, assignment: str) -> None:
    """Make sure the assignment and its students exist in the gradebook before parallel runs write to it."""
    with _gradebook(course) as gradebook:
        gradebook.update_or_create_assignment(assignment)
        for student in students(course, assignment):
            gradebook.update_or_create_student(student)


def _gradebook_config(course: Path) -> tuple[str, str]:
    """(database URL, course id) of the course's gradebook, as nbgrader_config.py in `course` configures it."""
    from nbgrader.apps import NbGrader

    here = os.getcwd()
    os.chdir(course)
    try:
        app = NbGrader()
        app.initialize([])
        return app.coursedir.db_url, app.coursedir.course_id
    finally:
        os.chdir(here)


def _gradebook(course: Path):
    """The course's gradebook (nbgrader's ``Gradebook``, a context manager)."""
    from nbgrader.api import Gradebook

    return Gradebook(*_gradebook_config(course))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder autograde", description=__doc__.splitlines()[0])
    parser.add_argument("assignment")
    parser.add_argument("--jobs", "-j", type=int, default=1, help="students graded at the same time (default 1)")
    parser.add_argument("--student", action="append", help="grade only this student (repeatable)")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per student before giving up")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    course = Path.cwd()
    if not (course / "nbgrader_config.py").exists():
        print("run this from the course root, where nbgrader_config.py is", file=sys.stderr)
        return 2
    if shutil.which("alembic", path=tool_env()["PATH"]) is None:
        print("warning: alembic is not on PATH; nbgrader may fail to create the gradebook", file=sys.stderr)
    if sandbox_missing():
        print(f"python -m autograder autograde: {sandbox_missing()}", file=sys.stderr)
        return 2
    try:
        outcomes = autograde(course, args.assignment, args.jobs, args.student, args.timeout, not args.no_progress)
    except NotGenerated as stop:
        print(f"python -m autograder autograde: {stop}", file=sys.stderr)
        return 2
    print(report(outcomes, args.assignment))
    return 0
