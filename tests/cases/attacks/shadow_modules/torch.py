# A file of the submission folder named like a module the grading imports: importing it first would run
# the student's code in the grader, or skip the sandbox's bans. It leaves a mark where it ran.
import os

open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "RAN-" + __name__), "w").close()
print("SHADOW torch ran")
