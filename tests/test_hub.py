"""A class on the course's JupyterHub (deploy/jupyterhub), in headless Chromium.

Runs as root: starts JupyterHub with configurable-http-proxy (npm) on free ports of 127.0.0.1, with an
exchange, a state folder and Unix groups of its own, creates one instructor and two students as Unix
users (PAM passwords), and then:

* the instructor releases 01_convolution (command line, as the instructor, in their ~/cnn-course);
* each student logs in through the hub's login page, fetches 01_convolution from the Assignments tab,
  types corr2d into the notebook (alice correctly, bob wrongly), saves, validates and submits;
* the instructor collects and autogrades (sandboxed: `nbgrader autograde` in the course folder),
  generates and releases feedback;
* each student fetches feedback in the Assignments tab and sees their own score, and only theirs;
* each student's real attempts to read the other's work, the exchange's inbound folder and the
  instructor's source/ fail; the hub refuses a student's browser the other's server.

Screenshots of every step go to test-artifacts/hub/. The hub, the proxy and every server are stopped,
and the users and groups deleted, even when the test fails.
"""

from __future__ import annotations

import csv
import json
import os
import pwd
import re
import shutil
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import nbformat
import pytest

from conftest import ROOT
from servers import CHROMIUM, CHROMIUM_ARGS

sys.path.insert(0, str(ROOT / "deploy" / "jupyterhub"))

HUB_DIR = ROOT / "deploy" / "jupyterhub"
PROXY = HUB_DIR / "node_modules" / ".bin" / "configurable-http-proxy"
ARTIFACTS = ROOT / "test-artifacts" / "hub"
NAME = "01_convolution"
PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook"

pytestmark = [
    pytest.mark.xdist_group("hub"),  # one hub for both tests (make test runs --dist loadgroup)
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(
        os.name != "posix" or os.geteuid() != 0,
        reason="creates Unix users and runs JupyterHub as root: needs root (CI runs as root)",
    ),
    pytest.mark.skipif(
        shutil.which("npm") is None and not PROXY.exists(),
        reason="npm is missing: the hub's proxy is configurable-http-proxy from npm",
    ),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is missing (make installs Debian's chromium)"),
    pytest.mark.skipif(not (shutil.which("useradd") and shutil.which("runuser")), reason="needs useradd and runuser"),
]

# What the students type into the corr2d cell. alice's is right in every mode; bob's only in valid mode
# and without any checks: he gets corr2d's two visible valid-mode tests, and its dtype test (his result keeps X's).
ALICE_CORR2D = """def corr2d(X, K, mode="valid"):
    if X.dim() != 2 or K.dim() != 2:
        raise ValueError(f"corr2d needs X (H, W) and K (kh, kw), not {tuple(X.shape)} and {tuple(K.shape)}")
    kh, kw = K.shape
    pads = {"valid": (0, 0, 0, 0), "same": ((kh - 1) // 2, kh // 2, (kw - 1) // 2, kw // 2),
            "full": (kh - 1, kh - 1, kw - 1, kw - 1)}
    if mode not in pads:
        raise ValueError(f"unknown mode {mode!r}")
    top, bottom, left, right = pads[mode]
    H, W = X.shape
    if H + top + bottom < kh or W + left + right < kw:
        raise ValueError(f"kernel {kh}x{kw} is larger than the input {H}x{W}")
    Xp = X.new_zeros(H + top + bottom, W + left + right)
    Xp[top:top + H, left:left + W] = X
    oh, ow = Xp.shape[0] - kh + 1, Xp.shape[1] - kw + 1
    return sum(Xp[i:i + oh, j:j + ow] * K[i, j] for i in range(kh) for j in range(kw))"""
BOB_CORR2D = """def corr2d(X, K, mode="valid"):
    kh, kw = K.shape
    oh, ow = X.shape[0] - kh + 1, X.shape[1] - kw + 1
    return sum(X[i:i + oh, j:j + ow] * K[i, j] for i in range(kh) for j in range(kw))"""
# convolve2d and conv2d stay unsolved (NotImplementedError)


def _points(prefixes: tuple[str, ...] = ("",)) -> float:
    """The points of 01's test cells whose grade_id starts with one of `prefixes` (read from the source)."""
    nb = nbformat.read(ROOT / "source" / NAME / f"{NAME}.ipynb", as_version=4)
    return float(
        sum(
            c.metadata["nbgrader"].get("points", 0)
            for c in nb.cells
            if c.metadata.get("nbgrader", {}).get("grade")
            and not c.metadata["nbgrader"].get("solution")
            and c.metadata["nbgrader"]["grade_id"].startswith(prefixes)
        )
    )


# alice: every corr2d test; bob: the two visible valid-mode ones and the dtype test (his same/full and error checks
# fail; the dtype test checks the dtype alone, in every mode, and his ignores the mode)
EXPECTED = {
    "alice": _points(("test_corr2d",)),
    "bob": _points(("test_corr2d_worked_3x3", "test_corr2d_6x6_valid", "test_corr2d_hidden_dtype")),
}
FULL = _points()


@pytest.fixture(scope="module")
def hub():
    """A running hub with one instructor and two students; everything stopped and deleted afterwards."""
    from ephemeral import EphemeralHub

    with EphemeralHub(students=["alice", "bob"]) as hub:
        try:
            yield hub
        finally:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            shutil.copy(hub.log, ARTIFACTS / "hub.log")  # before the hub's folder goes


def _chromium(playwright):
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM),
        headless=True,
        args=CHROMIUM_ARGS,
    )


def _as_user(user: str, code: str) -> str:
    """Python `code` run as `user` (Debian's python3: only the user's own rights matter here)."""
    runuser = shutil.which("runuser") or "/usr/sbin/runuser"
    result = subprocess.run(
        [runuser, "-u", user, "--", "/usr/bin/python3", "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        env={"HOME": pwd.getpwnam(user).pw_dir, "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def _read_attempt(user: str, path: Path) -> str:
    """What happens when `user` tries to read `path` (a file) or list it (a folder): 'ok' or the error's name."""
    return _as_user(
        user,
        f"import os\np = {str(path)!r}\n"
        "try:\n"
        "    os.listdir(p) if os.path.isdir(p) else open(p, 'rb').read()\n"
        "    print('ok')\n"
        "except OSError as e:\n"
        "    print(type(e).__name__)\n",
    ).strip()


def _shot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    target = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(target))
    return target


def _login(browser, hub, role: str):
    """A browser of its own for `role`, logged in through the hub's login page, on their JupyterLab."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(f"{hub.base}/hub/login")
    page.fill("#username_input", hub.users[role])
    page.fill("#password_input", hub.passwords[role])
    _shot(page, f"{role}-01-login")
    page.click("#login_submit")
    page.locator("#jp-main-dock-panel").wait_for(timeout=120000)  # the hub spawned the server, JupyterLab is up
    page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").wait_for(timeout=60000)
    assert page.url.startswith(f"{hub.base}/user/{hub.users[role]}/lab"), page.url
    return context, page


def _assignments(page):
    """The Assignments tab (Nbgrader > Assignment List), refreshed; returns its content."""
    tab = page.locator(".lm-TabBar-tab", has_text="Assignments")
    if tab.count():
        tab.first.click()
        page.locator("#refresh_assignments_list").click()
    else:
        page.get_by_role("menuitem", name="Nbgrader", exact=True).click()
        page.get_by_role("menuitem", name="Assignment List", exact=True).click()
    panel = page.locator("#assignments")
    panel.wait_for(timeout=30000)
    page.wait_for_function(
        "() => [...document.querySelectorAll('#assignments [id$=_list_loading]')]"
        ".every(e => e.hidden || getComputedStyle(e).display === 'none')",
        timeout=60000,
    )
    return panel


def _type_cell(page, marker: str, code: str) -> None:
    """Replace the code cell containing `marker` with `code`, typed line by line: each line as keyboard text
    input, Enter as a key press. CodeMirror indents each new line itself; Shift+Home selects that
    indentation so that the line is typed with exactly its own."""
    cell = page.locator(f"{PANEL} .jp-CodeCell", has_text=marker).first
    cell.scroll_into_view_if_needed()
    cell.locator(".cm-content").click()
    page.keyboard.press("Control+a")
    page.keyboard.press("Delete")
    for i, line in enumerate(code.split("\n")):
        if i:
            page.keyboard.press("Enter")
            page.keyboard.press("Shift+Home")
            if not line.strip():
                page.keyboard.press("Delete")
        if line:
            page.keyboard.insert_text(line)
    page.keyboard.press("Escape")


TIMES: dict[str, float] = {}


def _lap(name: str, since: float) -> float:
    TIMES[name] = round(time.monotonic() - since, 1)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "timings.json").write_text(json.dumps(TIMES, indent=1))
    return time.monotonic()


def _student_works(browser, hub, role: str, code: str, released) -> tuple:
    """Log in, fetch, type corr2d, save, validate, submit: all in the browser. Returns the validation text."""
    t = time.monotonic()
    user = hub.users[role]
    home = Path(pwd.getpwnam(user).pw_dir)
    context, page = _login(browser, hub, role)
    _shot(page, f"{role}-02-lab")
    t = _lap(f"{role} login and server start", t)
    assert released.wait(300), "the instructor did not release the assignment"
    panel = _assignments(page)
    panel.locator("#released_assignments_list .list_item", has_text=NAME).locator("button", has_text="Fetch").click()
    panel.locator("#fetched_assignments_list .list_item", has_text=NAME).first.wait_for(timeout=60000)
    _shot(page, f"{role}-03-fetched")
    notebook = home / NAME / f"{NAME}.ipynb"
    assert notebook.exists() and notebook.stat().st_uid == pwd.getpwnam(user).pw_uid  # fetched, theirs

    page.goto(f"{hub.base}/user/{user}/lab/tree/{NAME}/{NAME}.ipynb")
    page.locator(f"{PANEL} .jp-Cell").first.wait_for(timeout=60000)
    _type_cell(page, "def corr2d(", code)
    page.keyboard.press("Control+s")
    deadline = time.monotonic() + 30
    while True:
        try:  # Jupyter's "atomic" save rewrites the file in place: it may be caught empty or half written
            cells = [
                c
                for c in nbformat.read(notebook, as_version=4).cells
                if c.metadata.get("nbgrader", {}).get("grade_id") == "corr2d"
            ]
        except nbformat.reader.NotJSONError:
            cells = []
        if cells and cells[0].source == code:
            break
        assert time.monotonic() < deadline, f"the typed corr2d was not saved as typed: {cells[:1]!r}"
        time.sleep(0.5)
    _shot(page, f"{role}-04-typed")
    t = _lap(f"{role} fetch, open, type, save", t)

    page.locator(".validate-button").first.click()
    dialog = page.locator(".jp-Dialog")
    dialog.wait_for(timeout=180000)
    page.wait_for_function("() => !/Validating/.test(document.querySelector('.jp-Dialog').innerText)", timeout=240000)
    validation = dialog.inner_text()
    _shot(page, f"{role}-05-validated")
    t = _lap(f"{role} validate", t)
    page.keyboard.press("Escape")

    panel = _assignments(page)
    panel.locator("#fetched_assignments_list .list_item", has_text=NAME).locator("button", has_text="Submit").click()
    panel.locator("#submitted_assignments_list .list_item", has_text=NAME).first.wait_for(timeout=60000)
    _shot(page, f"{role}-06-submitted")
    _lap(f"{role} submit", t)
    return context, page, validation


def _feedback(context, page, hub, role: str) -> str:
    """Fetch feedback in the Assignments tab and open it: the feedback page's text."""
    user = hub.users[role]
    panel = _assignments(page)
    submitted = panel.locator("#submitted_assignments_list .list_item", has_text=NAME).first
    submitted.locator("button", has_text="Fetch Feedback").click()
    link = panel.locator("#submitted_assignments_list a", has_text=re.compile("view feedback", re.I)).first
    link.wait_for(timeout=60000)
    link.click()  # JupyterLab's file browser goes to the feedback's folder
    page.locator(".jp-DirListing-item", has_text=f"{NAME}.html").first.wait_for(timeout=30000)
    _shot(page, f"{role}-07-feedback-fetched")
    home = Path(pwd.getpwnam(user).pw_dir)
    pages = list((home / NAME / "feedback").glob(f"*/{NAME}.html"))
    assert len(pages) == 1, pages
    # the file as JupyterLab's "Open in New Browser Tab" shows it, served by the student's own server
    feedback = context.new_page()
    feedback.goto(f"{hub.base}/user/{user}/files/{urllib.parse.quote(str(pages[0].relative_to(home)))}")
    feedback.get_by_text(re.compile(r"Score:")).first.wait_for(timeout=30000)
    _shot(feedback, f"{role}-08-feedback")
    return feedback.inner_text("body")


def _student(hub, role: str, code: str, released, graded, results: dict) -> None:
    """One student's whole afternoon, in their own browser: works and submits, then (once the instructor
    released feedback) reads their feedback, then tries the other student's server."""
    from playwright.sync_api import sync_playwright

    other = hub.users["bob" if role == "alice" else "alice"]
    with sync_playwright() as playwright:
        browser = _chromium(playwright)
        try:
            context, page, results[f"{role} validation"] = _student_works(browser, hub, role, code, released)
            results[f"{role} submitted"] = True
            assert graded.wait(900), "the instructor did not release feedback"
            if results.get("failed"):
                return
            t = time.monotonic()
            results[f"{role} feedback"] = _feedback(context, page, hub, role)
            results[f"{role} listed"] = _assignments(page).inner_text()
            _lap(f"{role} fetch and read feedback", t)
            response = page.goto(f"{hub.base}/user/{other}/lab")  # the hub must refuse it
            results[f"{role} other server"] = (response.status, page.url, page.inner_text("body")[:500])
            _shot(page, f"{role}-09-other-server-refused")
        except BaseException:
            for p in browser.contexts[0].pages if browser.contexts else []:
                _shot(p, f"{role}-failed")
                break
            raise
        finally:
            browser.close()


def test_a_class_on_jupyterhub(hub):
    import threading
    from concurrent.futures import ThreadPoolExecutor

    users, exchange = hub.users, hub.exchange
    started = time.monotonic()
    released, graded, results = threading.Event(), threading.Event(), {}
    with ThreadPoolExecutor(2) as pool:
        students = [
            pool.submit(_student, hub, role, code, released, graded, results)
            for role, code in (("alice", ALICE_CORR2D), ("bob", BOB_CORR2D))
        ]
        try:
            # the instructor releases while the students log in
            t = time.monotonic()
            hub.as_instructor("nbgrader", "generate_assignment", NAME, "--force")
            hub.as_instructor("nbgrader", "release_assignment", NAME)
            released.set()
            _lap("instructor generate and release", t)
            deadline = time.monotonic() + 900
            while not all(results.get(f"{r} submitted") for r in ("alice", "bob")):
                for future in students:
                    if future.done():
                        future.result()  # a student's failure, raised here
                assert time.monotonic() < deadline, "the students did not submit"
                time.sleep(0.5)
            _lap("both students: login to submitted", started)

            # Validate reports the unsolved exercises to both, and bob's wrong corr2d to him alone
            validations = {r: results[f"{r} validation"] for r in ("alice", "bob")}
            for role in ("alice", "bob"):
                assert "NotImplementedError" in validations[role], validations[role][:2000]
            assert "corr2d in same and full modes" not in validations["alice"], validations["alice"][:3000]
            assert "corr2d in same and full modes" in validations["bob"], validations["bob"][:3000]

            inbound = exchange / "cnn-course" / "inbound"
            submissions = {p.name.split("+")[0] for p in inbound.iterdir()}
            assert submissions == {users["alice"], users["bob"]}, submissions

            t = time.monotonic()
            hub.as_instructor("nbgrader", "collect", NAME)
            grading = hub.as_instructor("nbgrader", "autograde", NAME, timeout=900)
            # graded through the split kernels (test_attacks attacks them); the sandbox no longer prints
            # ipykernel's banner (its /tmp/connection.json), so the log says nothing of them
            assert grading.returncode == 0 and "GradingError" not in grading.stdout + grading.stderr, grading.stderr[
                -3000:
            ]
            hub.as_instructor("nbgrader", "generate_feedback", NAME)
            hub.as_instructor("nbgrader", "release_feedback", NAME)
            _lap("instructor collect, autograde, feedback", t)
            course = hub.course()
            hub.as_instructor("nbgrader", "export", "--to", "grades.csv")
            with open(course / "grades.csv") as f:
                scores = {r["student_id"]: float(r["score"]) for r in csv.DictReader(f)}
            assert scores == {users[r]: EXPECTED[r] for r in ("alice", "bob")}, scores
        except BaseException:
            results["failed"] = True
            raise
        finally:
            graded.set()
            released.set()
        for future in students:
            future.result()

    for role, other in (("alice", "bob"), ("bob", "alice")):
        text = results[f"{role} feedback"]
        # one total, theirs: "01_convolution (Score: 8.0 / 20.0)"
        assert re.findall(rf"{NAME} \(Score: ([\d.]+) / {FULL}\)", text) == [str(EXPECTED[role])], text[:1500]
        assert users[other] not in text, text[:1500]
        listed = results[f"{role} listed"]
        assert users[role] in listed or NAME in listed
        assert users[other] not in listed, listed  # the Assignments tab lists their own submission only
        status, url, body = results[f"{role} other server"]
        assert status == 403 or f"/user/{users[other]}/" not in url, (status, url, body)

    # real attempts, as each student, on the other's work, the exchange and the instructor's folder
    t = time.monotonic()
    for role, other in (("alice", "bob"), ("bob", "alice")):
        me, them = users[role], users[other]
        other_home = Path(pwd.getpwnam(them).pw_dir)
        feedback = next((other_home / NAME / "feedback").glob(f"*/{NAME}.html"))
        for path in (other_home / NAME / f"{NAME}.ipynb", feedback, other_home):
            assert _read_attempt(me, path) == "PermissionError", path
        assert _read_attempt(me, inbound) == "PermissionError"  # 733: submissions can't be listed
        theirs = next(p for p in inbound.iterdir() if p.name.startswith(f"{them}+"))
        guess = inbound / "+".join(theirs.name.split("+")[:3]) / f"{NAME}.ipynb"  # all but the random bits
        assert _read_attempt(me, guess) == "FileNotFoundError"
        assert _read_attempt(me, exchange / "cnn-course" / "feedback") == "PermissionError"
        for path in (course / "source" / NAME / f"{NAME}.ipynb", course / "submitted", course / "gradebook.db"):
            assert _read_attempt(me, path) == "PermissionError", path
        # the course repository the hub runs from: its solutions, hidden tests and history are closed too
        repository = [ROOT / "source" / NAME / f"{NAME}.ipynb", ROOT / "source", ROOT / "tests"]
        if (ROOT / ".git").is_dir():  # a clone (a worktree's .git is a file naming the real one)
            repository.append(ROOT / ".git" / "HEAD")
        for path in repository:
            assert _read_attempt(me, path) == "PermissionError", path
        assert _read_attempt(me, ROOT / "course_utils" / "checks.py") == "ok"  # what their kernels import
    _lap("read attempts", t)
    _lap("total", started)
    print(json.dumps(TIMES))


def test_a_course_update_reaches_a_students_home_without_losing_their_work(hub, tmp_path):
    """manage.py publish + nbgitpuller (what the link does, run as the student): new and changed files of
    the course arrive, the student's own edits stay."""
    from manage import link, publish

    user, home = hub.users["alice"], Path(pwd.getpwnam(hub.users["alice"]).pw_dir)
    updates, source = hub.work / "updates.git", tmp_path / "notebooks"
    shutil.copytree(ROOT / "notebooks" / NAME, source / NAME)
    (source / "NEWS.md").write_text("Week 1: convolution.\n")
    url = publish(updates, port=8000, source=source)
    assert url == link(updates, 8000) and "/hub/user-redirect/git-pull?repo=file%3A%2F%2F" in url

    def pull() -> None:
        result = subprocess.run(
            [
                sys.executable,
                ROOT / "deploy" / "jupyterhub" / "manage.py",
                "run",
                user,
                "--",
                "gitpuller",
                f"file://{updates}",
                "main",
                "cnn-course-notebooks",
            ],
            env=hub.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]

    pull()
    mine = home / "cnn-course-notebooks" / NAME / f"{NAME}.ipynb"
    nb = nbformat.read(mine, as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell("my own notes"))
    nbformat.write(nb, mine)
    os.chown(mine, pwd.getpwnam(user).pw_uid, pwd.getpwnam(user).pw_gid)
    (source / "NEWS.md").write_text("Week 2: padding and stride.\n")  # the course changes a file...
    (source / "errata.md").write_text("corr2d: the docstring's 'same' mode, corrected.\n")  # ...and adds one
    publish(updates, port=8000, source=source)
    pull()
    pulled = home / "cnn-course-notebooks"
    assert (pulled / "NEWS.md").read_text() == "Week 2: padding and stride.\n"
    assert (pulled / "errata.md").exists()
    assert nbformat.read(mine, as_version=4).cells[-1].source == "my own notes"
