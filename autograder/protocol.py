"""What nbgrader's side (``autograder.hooks.execute``) tells the grading kernel about a cell.

Each execute request carries the cell's role in its metadata, decided from the gradebook by the cell's grade id:
``test`` (runs in the grading kernel, on plain data), ``setup`` (in both), ``course`` (a demonstration: not
run) or ``student`` (in the sandbox only). The kernel runs no request without one.
"""

ROLE_KEY = "cnn_course_role"
ROLES = ("test", "setup", "course", "student")
