# The student's own helper module, next to the notebook: it must still import in the sandbox.
VALUE = 42
