# A file of the submission folder named like a module the grading imports: importing it first would run
# the student's code in the grader, or skip the sandbox's bans. It leaves a mark where it ran.
