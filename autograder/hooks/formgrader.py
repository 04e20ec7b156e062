"""The Formgrader's *Autograde* button, graded off the Jupyter server's event loop: the server keeps answering.

nbgrader's handler for the button (``POST /formgrader/api/submission/<assignment>/<student>/autograde``) runs
``NbGraderAPI.autograde`` inside the request, on the server's one event loop: while a submission is graded (up to
its notebook's time limit), the server answers nothing else, for the instructor, their other tabs and every kernel.
This Jupyter server extension (enabled by ``make env``: ``jupyter server extension enable --sys-prefix
autograder.hooks.formgrader``) gives that handler an asynchronous ``post`` that runs the same call in one grading
thread, so:

* the grading is nbgrader's and the course's own, unchanged: the same ``Autograde`` app with nbgrader_config.py's
  split, sandboxed grader (autograder/hooks/execute.py), the same answer to the page;
* submissions are graded one at a time, in arrival order (nbgrader's API and gradebook are not made for two
  autogrades at once), on a copy of the Formgrader's ``CourseDirectory``, which other buttons of the page change
  while they run (``temp_attrs``);
* the server's event loop only waits for the answer.
"""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor

#: One thread: the Formgrader's autogrades, one after another.
GRADING = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cnn-course-autograde")


def _private_api(handler):
    """An NbGraderAPI like nbgrader's own (``handler.api``: nbgrader_config.py reloaded, the server's log level), on
    a CourseDirectory of its own."""
    from nbgrader.apps.api import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    own = handler.api
    shared = own.coursedir
    values = {name: getattr(shared, name) for name in shared.trait_names(config=True)}
    api = NbGraderAPI(CourseDirectory(parent=shared.parent, **values), handler.authenticator, parent=shared.parent)
    api.log_level = own.log_level
    return api


async def _post(self, assignment_id: str, student_id: str) -> None:
    api = _private_api(self)
    result = await asyncio.get_running_loop().run_in_executor(GRADING, api.autograde, assignment_id, student_id)
    self.write(json.dumps(result))


def _jupyter_server_extension_points():
    return [{"module": "autograder.hooks.formgrader"}]


def _load_jupyter_server_extension(serverapp) -> None:
    if not serverapp.jpserver_extensions.get("nbgrader.server_extensions.formgrader"):
        return  # no Formgrader in this server (a student's, on the hub)
    from nbgrader.server_extensions.formgrader import apihandlers
    from nbgrader.server_extensions.formgrader.base import check_notebook_dir, check_xsrf
    from tornado import web

    # the route's handler class is nbgrader's, whichever extension loads first; its checks are kept, in its order
    apihandlers.AutogradeHandler.post = web.authenticated(check_xsrf(check_notebook_dir(_post)))
    serverapp.log.info("[cnn-course] the Formgrader's Autograde button grades in a thread: the server keeps answering")
