"""nbgrader for an instructor on the course's JupyterHub (found through JUPYTER_CONFIG_PATH).

The exchange the hub gives every user (CNN_COURSE_EXCHANGE) and the instructor's own course folder
(CNN_COURSE_ROOT, ~/cnn-course: nbgrader_config.py and source/), whose nbgrader_config.py nbgrader
reads when run there (with the sandbox for `nbgrader autograde`).
"""

import os

c = get_config()  # noqa: F821
c.CourseDirectory.course_id = "cnn-course"
c.Exchange.root = os.environ["CNN_COURSE_EXCHANGE"]
if os.path.isdir(os.environ.get("CNN_COURSE_ROOT", "")):
    c.CourseDirectory.root = os.environ["CNN_COURSE_ROOT"]  # so the formgrader finds it
