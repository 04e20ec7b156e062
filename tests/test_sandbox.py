"""Plain `nbgrader autograde` runs submissions in the bubblewrap sandbox: a snoop, a memory hog, a fork
bomb and a network call each fail inside it, the rest of the class gets its exact scores, the gradebook
is intact."""

from __future__ import annotations

import csv
from pathlib import Path
import hashlib
import shutil
import socket
import sqlite3
import threading

import nbformat
import pytest

from conftest import make_course, nbgrader
from roundtrip_cases import CASES
from autograder.simulate import submission as _submission

NAME = "01_convolution"
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is not installed (make system-deps)")]

SNOOP = r'''
import pathlib
course = pathlib.Path.cwd().parents[2]
found = {}
for target in ["source", "gradebook.db", "submitted", "nbgrader_config.py"]:
    try:
        path = course / target
        found[target] = sorted(p.name for p in path.iterdir()) if path.is_dir() else len(path.read_bytes())
    except OSError as exc:
        found[target] = type(exc).__name__
for target in [course / "pwned.txt", pathlib.Path("/usr/pwned.txt")]:
    try:
        target.write_text("x")
        found[str(target)] = "written"
    except OSError as exc:
        found[str(target)] = type(exc).__name__
print("SNOOP", found)
'''
HOG = r'''
try:
    hog = bytearray(64 * 2**30)
    print("HOG allocated 64 GiB")
except MemoryError:
    print("HOG MemoryError")
'''
FORK = r'''
import os, time
children = []
try:
    while len(children) < 100000:
        pid = os.fork()
        if pid == 0:
            time.sleep(2)
            os._exit(0)
        children.append(pid)
    print("FORK unlimited", len(children))
except OSError as exc:
    print("FORK refused after", len(children), type(exc).__name__)
for pid in children:
    os.waitpid(pid, 0)
'''
NETWORK = r'''
import socket
for address in [("1.1.1.1", 80), ("127.0.0.1", {port})]:
    try:
        socket.create_connection(address, timeout=3).close()
        print("NETWORK connected", address)
    except OSError as exc:
        print("NETWORK refused", address, type(exc).__name__)
'''


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


def _gradebook_rows(db):
    with sqlite3.connect(db) as connection:
        return {table: connection.execute(f"SELECT * FROM {table}").fetchall()
                for (table,) in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
                if table in ("assignment", "notebook", "grade_cells", "solution_cells", "source_cell", "student")}


@pytest.fixture(scope="module")
def graded(tmp_path_factory, server):
    port, _ = server
    course = make_course(tmp_path_factory.mktemp("sandbox") / "course", [NAME])
    assert nbgrader("generate_assignment", NAME, cwd=course).returncode == 0
    released = nbformat.read(course / "notebooks" / NAME / f"{NAME}.ipynb", as_version=4)
    source = nbformat.read(course / "source" / NAME / f"{NAME}.ipynb", as_version=4)
    students = {"solved": None, "blank": None, "snoop": SNOOP, "hog": HOG, "fork_bomb": FORK,
                "network": NETWORK.replace("{port}", str(port))}
    for student, attack in students.items():
        edits = CASES[NAME]["blank" if student == "blank" else "solved"][0]
        nb = _submission(released, source, edits)
        if attack:
            nb.cells.insert(2, nbformat.v4.new_code_cell(attack))
        folder = course / "submitted" / student / NAME
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / f"{NAME}.ipynb")
        (folder / "timestamp.txt").write_text("2026-11-20 10:00:00.000000 UTC")
    before = _gradebook_rows(course / "gradebook.db")
    digest = hashlib.sha256((course / "source" / NAME / f"{NAME}.ipynb").read_bytes()).hexdigest()
    result = nbgrader("autograde", NAME, cwd=course)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    outputs = {}
    for student in students:
        nb = nbformat.read(course / "autograded" / student / NAME / f"{NAME}.ipynb", as_version=4)
        outputs[student] = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                                   for o in c.get("outputs", []) if o.output_type == "stream")
    result = nbgrader("export", "--to", str(course / "grades.csv"), cwd=course)
    assert result.returncode == 0, result.stderr
    with open(course / "grades.csv") as f:
        scores = {row["student_id"]: float(row["score"]) for row in csv.DictReader(f)}
    return {"course": course, "outputs": outputs, "scores": scores, "before": before, "digest": digest}


def test_the_rest_of_the_class_gets_exact_scores_and_the_gradebook_is_intact(graded):
    full = CASES[NAME]["solved"][1]
    assert graded["scores"] == {"solved": full, "blank": 0, "snoop": full, "hog": full, "fork_bomb": full,
                                "network": full}
    after = _gradebook_rows(graded["course"] / "gradebook.db")
    for table in ("assignment", "notebook", "grade_cells", "solution_cells", "source_cell"):
        assert after[table] == graded["before"][table], f"the gradebook's {table} table changed"
    assert hashlib.sha256((graded["course"] / "source" / NAME / f"{NAME}.ipynb").read_bytes()).hexdigest() == graded["digest"]


def test_snoop_cannot_read_the_course_or_write_outside_its_folder(graded):
    out = graded["outputs"]["snoop"]
    assert "SNOOP" in out, out[:2000]
    for target in ["source", "gradebook.db", "submitted", "nbgrader_config.py"]:
        assert f"'{target}': 'FileNotFoundError'" in out, out[:2000]
    # the course root is not in the sandbox: a write there fails, or (under /tmp, which is the sandbox's own
    # scratch space) lands in the sandbox's private /tmp; either way nothing reaches the real course
    assert "'/usr/pwned.txt': 'OSError'" in out, out[:2000]  # read-only: EROFS
    assert not Path("/usr/pwned.txt").exists()
    assert not (graded["course"] / "pwned.txt").exists()


def test_memory_hog_gets_a_memory_error(graded):
    assert "HOG MemoryError" in graded["outputs"]["hog"]


def test_fork_bomb_is_refused(graded):
    out = graded["outputs"]["fork_bomb"]
    assert "FORK refused after" in out, out[:2000]
    count = int(out.split("FORK refused after", 1)[1].split()[0])
    assert count < 300


def test_network_calls_fail_even_to_the_hosts_loopback(graded, server):
    out = graded["outputs"]["network"]
    _, state = server
    assert "NETWORK refused ('1.1.1.1', 80)" in out and "NETWORK refused ('127.0.0.1'" in out, out[:2000]
    assert "NETWORK connected" not in out and state["connections"] == 0
