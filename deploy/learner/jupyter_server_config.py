"""The Jupyter server of `make lab`: a learner studying alone, on their copy in work/ (JUPYTER_CONFIG_PATH).

A learner needs the notebooks, the course kernel and the Validate button. The instructor's tools stay out: the
Formgrader (its *Edit* opens the solutions, its *Generate* writes into the repository), the course list, and the
Assignments tab, which has no exchange to fetch from here and only says so. An instructor runs `jupyter lab` in
their course folder, with all of nbgrader (README, For instructors).
"""

c = get_config()  # noqa: F821
c.ServerApp.jpserver_extensions = {
    "nbgrader.server_extensions.formgrader": False,
    "nbgrader.server_extensions.course_list": False,
    "nbgrader.server_extensions.assignment_list": False,
}
