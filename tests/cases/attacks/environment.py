# An extra cell: what the grader's environment tells the sandbox.
import os

print("ENV", sorted(os.environ))
