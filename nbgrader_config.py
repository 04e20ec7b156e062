"""nbgrader configuration for cnn-course; run every nbgrader command from the repository root."""

import os as _os
import sys as _sys

c = get_config()  # noqa: F821  (injected by traitlets)

c.CourseDirectory.course_id = "cnn-course"
c.CourseDirectory.source_directory = "source"
# `notebooks/<assignment>/` is exactly what `nbgrader generate_assignment` releases.
c.CourseDirectory.release_directory = "notebooks"

# The six assignments, in teaching order (the names of the folders in source/).
ASSIGNMENTS = [
    "01_convolution",
    "02_padding_stride",
    "03_pooling",
    "04_losses",
    "05_backprop",
    "06_lenet",
]

# nbgrader's exchange (release_assignment, fetch_assignment, submit, collect, release/fetch_feedback): a folder
# that must exist and that every user may write, like /tmp (mode 1777). /srv/nbgrader/exchange (as on the
# course's JupyterHub), or the folder in CNN_COURSE_EXCHANGE: an instructor without root sets it to a folder
# of their own that students can reach (README, "For instructors"). Students' own nbgrader_config.py says the same.
c.Exchange.root = __import__("os").environ.get("CNN_COURSE_EXCHANGE") or "/srv/nbgrader/exchange"

# Every notebook runs on the course's own kernel (installed into .venv by `make`).
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.Execute.timeout = 60
c.Execute.interrupt_on_timeout = True
c.ExecutePreprocessor.kernel_name = "cnn-course"
c.Execute.kernel_name = "cnn-course"

# A submission whose test cells were deleted gets them back from the gradebook and is graded in full:
# deleting a test neither dodges it nor loses the points of correct code.
c.OverwriteCells.add_missing_cells = True

# Students' files that never need to be collected.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback"]

# 06_lenet trains networks. In every kernel nbgrader starts (autograde, validate, the Validate button
# and the formgrader, which run inside JupyterLab) its long cells run in quick mode: a subset of the
# data for one epoch (course_utils.training.quick). The kernel sets COURSE_QUICK=1 before any cell
# unless the environment already sets it; kernels students start themselves are not affected.
c.Execute.extra_arguments = ["--IPKernelApp.exec_lines=__import__('os').environ.setdefault('COURSE_QUICK', '1')"]

# Grading splits each submission in two (autograder/hooks/execute.py, on every route: the command line, `python -m
# autograder autograde`, `make check`, the hub, the Kubernetes Job and the Formgrader's Autograde button): the test
# cells run in a trusted grading kernel (autograder/trusted/grader_kernel.py), and the student's code only in a sandbox
# (autograder/sandbox/launch.py: bubblewrap, no network, no course files, memory/CPU/process/output limits), reached
# through plain data. The banned ops are switched off for good inside the sandbox (autograder/sandbox/bans.py).
# CNN_COURSE_NO_SANDBOX=1 grades in one ordinary kernel instead, with a warning per notebook (a machine without
# bubblewrap; trusted code only: say so to students).
# Each notebook's grading time as a whole (seconds), about four times what an honest submission takes on 2 cores
# (README, "Grading"): past it the grader stops the sandbox and the rest of the notebook scores zero, with the reason
# in each test's output; the class goes on. "default" is for an assignment not listed.
NOTEBOOK_SECONDS = {
    "01_convolution": 120,
    "02_padding_stride": 120,
    "03_pooling": 120,
    "04_losses": 120,
    "05_backprop": 180,
    "06_lenet": 300,
    "default": 300,
}
c.SplitExecute.notebook_seconds = NOTEBOOK_SECONDS

# A submission holding a symbolic link is never opened (nbgrader would read and write through it): it
# scores zero with the reason printed; `collect` copies links as links, and its copies are read-only for
# students; `release_assignment` refuses an assignment the gradebook does not know (autograder/hooks/submissions.py).
# On every route: the command line and the Formgrader, which runs nbgrader inside the Jupyter server.
c.Autograde.pre_convert_hook = "autograder.hooks.submissions.reject_links"
c.ExchangeFactory.collect = "autograder.hooks.submissions.SafeCollect"
c.ExchangeFactory.release_assignment = "autograder.hooks.submissions.SafeRelease"

# Autograde prints one line per student on stdout, on every route (the Formgrader's in the server's log):
# "[cnn-course] alice 01_convolution: 31/34 (sandboxed)". On the command line it says first whether it sandboxes,
# and SQLAlchemy's "not in session" warnings (nbgrader adds those objects to the session itself, right after) are
# silenced, precisely.
c.Autograde.post_convert_hook = "autograder.hooks.submissions.report_score"
_NBGRADER = _os.path.basename(_sys.argv[0]) == "nbgrader" or _sys.argv[0].endswith(
    _os.path.join("nbgrader", "__main__.py")
)
if _NBGRADER:
    from autograder.hooks import privacy as _privacy
    from autograder.hooks import submissions as _hooks

    _hooks.quiet_sqlalchemy()
    # nothing that reads or writes the course's private files starts while others can read them (README,
    # "A private course folder"); on the Formgrader's route RefuseExposed (below) refuses instead
    if _sys.argv[1:2] and _sys.argv[1] in _privacy.CHECKED_COMMANDS:
        try:
            _privacy.refuse_if_exposed(_os.getcwd(), generating=_sys.argv[1] == "generate_assignment")
        except _privacy.CourseExposed as _exposed:
            print(f"[cnn-course] nbgrader {_sys.argv[1]}: {_exposed}", file=_sys.stderr, flush=True)
            raise SystemExit(2) from None
    if _sys.argv[1:2] == ["autograde"]:
        _hooks.announce_grading()

# Test cells released without their hidden tests are not reported as "checksum changed" (nbgrader warns for
# every one of them in every submission otherwise); a real edit of a locked cell still is, and is undone.
c.Autograde.sanitize_preprocessors = [
    "autograder.hooks.privacy.RefuseExposed",
    "nbgrader.preprocessors.ClearOutput",
    "nbgrader.preprocessors.DeduplicateIds",
    "nbgrader.preprocessors.OverwriteKernelspec",
    "autograder.hooks.submissions.OverwriteCells",
    "nbgrader.preprocessors.CheckCellMetadata",
]

# No student markup is ever live: after grading, every Markdown or raw cell the course did not write and every output
# is text, a checked image, or HTML cleaned by nh3 (autograder/hooks/markup.py); the grader already cleans what the
# sandbox shows. The feedback page is rendered with nbconvert's sanitizer on too.
c.Autograde.autograde_preprocessors = [
    "autograder.hooks.execute.SplitExecute",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "autograder.hooks.markup.SanitizeMarkup",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]
c.HTMLExporter.sanitize_html = True

# Feedback shows test names, points and messages, never hidden test code (autograder/hooks/feedback.py); its index
# names each test (autograder/templates/cnn_feedback, for feedback pages only), and the course's figures are embedded
# in the page, which is all that release_feedback/fetch_feedback carry.
c.GenerateFeedback.preprocessors = [
    "autograder.hooks.privacy.RefuseExposed",
    "nbgrader.preprocessors.GetGrades",
    "autograder.hooks.feedback.HideHiddenTests",
    "autograder.hooks.feedback.EmbedImages",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
_FORMGRADER = _os.path.join(_os.path.dirname(__import__("nbgrader").__file__), "server_extensions", "formgrader")
c.GenerateFeedback.HTMLExporter.template_name = "cnn_feedback"
c.GenerateFeedback.HTMLExporter.extra_template_basedirs = [
    _os.path.join(_FORMGRADER, "templates"),
    str(__import__("autograder.hooks.feedback").hooks.feedback.TEMPLATES),
]
# as nbgrader sets them (its feedback page's bootstrap.min.css), and its templates, for `extends 'feedback/...'`
c.GenerateFeedback.HTMLExporter.extra_template_paths = [
    _os.path.join(_FORMGRADER, "static", "node_modules", "bootstrap", "dist", "css"),
    _os.path.join(_FORMGRADER, "templates"),
]

# On every route, nbgrader refuses to generate, grade, give feedback or export while others can read the course's
# solutions, hidden tests or grades (autograder/hooks/privacy.py: `make instructor` makes the folder private); the
# exported grades are written 0600.
c.GenerateAssignment.preprocessors = [
    "autograder.hooks.privacy.RefuseExposed",
    *__import__("nbgrader.converters").converters.GenerateAssignment.class_traits()["preprocessors"].default(),
]
c.ExportApp.plugin_class = "autograder.hooks.privacy.PrivateCsvExport"
