"""nbgrader configuration for cnn-course; run every nbgrader command from the repository root."""

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
# students (autograder/hooks/submissions.py). On every route: the Formgrader's buttons run nbgrader in the server.
c.Autograde.pre_convert_hook = "autograder.hooks.submissions.reject_links"
c.ExchangeFactory.collect = "autograder.hooks.submissions.SafeCollect"

# Test cells released without their hidden tests are not reported as "checksum changed" (nbgrader warns for
# every one of them in every submission otherwise); a real edit of a locked cell still is, and is undone.
c.Autograde.sanitize_preprocessors = [
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

# Feedback shows test names, points and messages, never hidden test code (autograder/hooks/feedback.py).
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "autograder.hooks.feedback.HideHiddenTests",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
