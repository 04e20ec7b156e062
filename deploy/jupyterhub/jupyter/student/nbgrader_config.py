"""nbgrader for a student's server on the course's JupyterHub (found through JUPYTER_CONFIG_PATH).

The course's own nbgrader_config.py (kernel, timeouts, quick mode of the Validate button), then the
exchange that the hub gives every user in CNN_COURSE_EXCHANGE.
"""

import os

c = get_config()  # noqa: F821
load_subconfig(os.environ["CNN_COURSE_CONFIG"])  # noqa: F821
c.CourseDirectory.course_id = "cnn-course"
c.Exchange.root = os.environ["CNN_COURSE_EXCHANGE"]
