"""The Jupyter server of a user of the course's JupyterHub (found through JUPYTER_CONFIG_PATH)."""

import os

c = get_config()  # noqa: F821
# JupyterLab's settings overrides for the class (no news or update pop-ups)
c.LabApp.app_settings_dir = os.environ["CNN_COURSE_LAB_SETTINGS"]
# students fetch and submit (Assignments tab); grading and the course list are the instructor's
c.ServerApp.jpserver_extensions = {
    "nbgrader.server_extensions.formgrader": False,
    "nbgrader.server_extensions.course_list": False,
}
