"""The Jupyter server of a user of the course's JupyterHub (found through JUPYTER_CONFIG_PATH)."""

import os

c = get_config()  # noqa: F821
# JupyterLab's settings overrides for the class (no news or update pop-ups)
c.LabApp.app_settings_dir = os.environ["CNN_COURSE_LAB_SETTINGS"]
