"""``SplitExecute``: nbgrader's Execute step, grading each submission split and sandboxed, on every route.

nbgrader runs ``Autograde.autograde_preprocessors`` (nbgrader_config.py) for each submitted notebook,
after its sanitizing steps have restored the course's locked cells (``OverwriteCells``) and removed
duplicated grade ids (``DeduplicateIds``). This step takes the place of nbgrader's own ``Execute``, on
the command line (``nbgrader autograde``, ``python -m autograder autograde``, ``make check``, the hub,
the Kubernetes Job) and inside the Jupyter server (the Formgrader's *Autograde* button) alike:

1. It reads the notebook's cells from the gradebook (nbgrader's ``Gradebook`` API) and decides each
   code cell's role by its grade id there, never by what the submission says: a **test** (a graded
   cell that is not a solution), the **setup** cell, another **course** cell (a demonstration: not
   run), or the **student**'s (everything else). A test or setup cell runs the gradebook's text,
   whatever the submission's cell holds.
2. It starts the grading kernel (``autograder.trusted.grader_kernel``, kernel spec ``cnn-course-grader``,
   found only here) in a folder of its own for this notebook (mode 0700, removed afterwards), and
   hands it the plan (the course's test, setup and solution cells) as a file there.
3. Each cell goes to the kernel with its role in the request's metadata. Only this process can send
   to the kernel (its sockets are in that folder); the student's code runs in a sandbox that cannot
   reach them.

``CNN_COURSE_NO_SANDBOX=1`` grades in one ordinary kernel instead (trusted code only), and says so
loudly. Without bubblewrap the step refuses: nothing is graded, and the message says what to install.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from jupyter_client.kernelspec import KernelSpecManager
from nbclient.util import run_sync
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.preprocessors import Execute
from traitlets import Dict, Float, Union

from autograder.protocol import ROLE_KEY
from autograder.sandbox import launch as sandbox

NO_SANDBOX_WARNING = (
    "CNN_COURSE_NO_SANDBOX=1: grading {notebook} of {student} in one ordinary kernel, as you: the student's code "
    "can read source/ and the gradebook and change its own score. Use this for trusted code only."
)


def sandboxed() -> bool:
    """False only when CNN_COURSE_NO_SANDBOX says so (1, yes, true)."""
    return os.environ.get("CNN_COURSE_NO_SANDBOX", "").strip().lower() in ("", "0", "no", "false")


def sandbox_missing() -> str | None:
    """Why grading cannot sandbox here (bubblewrap missing and CNN_COURSE_NO_SANDBOX unset), or None."""
    if not sandboxed() or shutil.which("bwrap"):
        return None
    return (
        "grading runs each submission in a bubblewrap sandbox, and bwrap is not installed: `make system-deps` "
        "as root (or apt-get install bubblewrap), or grade trusted code in one ordinary kernel with "
        "CNN_COURSE_NO_SANDBOX=1; nothing was graded"
    )


class CoursePlan:
    """One notebook's code cells as the gradebook has them: grade id -> (role, source)."""

    def __init__(self, cells: dict[str, tuple[str, str]], solutions: list[str]):
        self.cells, self.solutions = cells, solutions

    @classmethod
    def from_gradebook(cls, gradebook: Gradebook, notebook: str, assignment: str) -> CoursePlan:
        entry = gradebook.find_notebook(notebook, assignment)
        graded = {c.name for c in entry.grade_cells}
        solution = {c.name for c in entry.solution_cells}
        cells, solutions = {}, []
        for cell in entry.source_cells:
            if cell.cell_type != "code":
                continue
            if cell.name in solution:
                solutions.append(cell.source or "")
            elif cell.name in graded:
                cells[cell.name] = ("test", cell.source or "")
            elif cell.name == "setup":
                cells[cell.name] = ("setup", cell.source or "")
            elif cell.locked:
                cells[cell.name] = ("course", cell.source or "")
        if not any(role == "test" for role, _ in cells.values()):
            raise RuntimeError(f"the gradebook has no test cells for {assignment}/{notebook}: was it generated?")
        return cls(cells, solutions)

    def role(self, cell) -> tuple[str, str]:
        """(role, the code to run) of a notebook cell: a course cell by its grade id, the student's otherwise."""
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in self.cells:
            return self.cells[grade_id]
        return "student", cell.source

    def to_json(self) -> dict:
        by_role = {role: [src for r, src in self.cells.values() if r == role] for role in ("test", "setup", "course")}
        return {"tests": by_role["test"], "setup": by_role["setup"], "solutions": self.solutions}


class SplitExecute(Execute):
    """nbgrader's Execute: the test cells run in the trusted grading kernel, the student's in its sandbox."""

    notebook_seconds = Union(
        [Dict(), Float()],
        default_value={"default": 300.0},
        help="Each notebook's grading time as a whole (seconds): {assignment: seconds, 'default': seconds} or one "
        "number. Past it the sandbox is stopped and the rest of the notebook scores zero, with the reason.",
    ).tag(config=True)

    _plan: CoursePlan | None = None
    _role: str | None = None

    def preprocess(self, nb, resources):
        info = resources.get("nbgrader", {})
        notebook, student = info.get("notebook", "?"), info.get("student", "?")
        if not sandboxed():
            self.log.warning("=" * 20 + " " + NO_SANDBOX_WARNING.format(notebook=notebook, student=student))
            self._plan = None
            return super().preprocess(nb, resources)
        missing = sandbox_missing()
        if missing:
            raise RuntimeError(missing)
        with Gradebook(info["db_url"]) as gradebook:
            try:
                self._plan = CoursePlan.from_gradebook(gradebook, notebook, info["assignment"])
            except MissingEntry:
                raise RuntimeError(
                    f"{info['assignment']}/{notebook} is not in the gradebook: run `nbgrader generate_assignment "
                    f"{info['assignment']}` first (nothing was graded)"
                ) from None
        sandbox.remove_stale_runs()
        self._run = Path(tempfile.mkdtemp(prefix=sandbox.RUN_PREFIX))
        try:
            (self._run / "pid").write_text(str(os.getpid()))
            (self._run / "plan.json").write_text(json.dumps(self._plan.to_json()))
            self._env = sandbox.grading_env(self._run, info["assignment"], self.notebook_seconds)
            return super().preprocess(nb, resources)
        finally:
            shutil.rmtree(self._run, ignore_errors=True)

    def create_kernel_manager(self):
        if self._plan is None:
            return super().create_kernel_manager()
        self.km = self.kernel_manager_class(
            kernel_name=sandbox.GRADER_KERNEL,
            kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(sandbox.JUPYTER_DIR / "kernels")]),
            transport="ipc",
            ip=str(self._run / "k"),
            config=self.config,
        )
        return self.km

    async def async_start_new_kernel(self, **kwargs):
        if self._plan is not None:
            kwargs["env"] = self._env
        return await super().async_start_new_kernel(**kwargs)

    async def async_start_new_kernel_client(self):
        kc = await super().async_start_new_kernel_client()
        if self._plan is not None:
            kc.execute = self._execute_with_role
        return kc

    async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
        if self._plan is None or cell.cell_type != "code":
            return await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        role, code = self._plan.role(cell)
        if role in ("test", "setup"):
            cell.source = code  # the gradebook's text is what runs, and what the graded notebook shows
        self._role = role
        try:
            return await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        finally:
            self._role = None

    # nbclient's synchronous names wrap its own coroutines, not an override's
    start_new_kernel = run_sync(async_start_new_kernel)
    start_new_kernel_client = run_sync(async_start_new_kernel_client)
    execute_cell = run_sync(async_execute_cell)

    def _execute_with_role(
        self, code, silent=False, store_history=True, user_expressions=None, allow_stdin=None, stop_on_error=True
    ):
        """jupyter_client's KernelClient.execute, with the cell's role in the request's metadata."""
        kc = self.kc
        content = {
            "code": code,
            "silent": silent,
            "store_history": store_history,
            "user_expressions": user_expressions or {},
            "allow_stdin": False,
            "stop_on_error": stop_on_error,
        }
        msg = kc.session.msg("execute_request", content, metadata={ROLE_KEY: self._role or "student"})
        kc.shell_channel.send(msg)
        return msg["header"]["msg_id"]
