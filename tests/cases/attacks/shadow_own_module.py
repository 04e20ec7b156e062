# An extra cell: the student's own module, from the submission folder, still imports.
import mystuff

print("OWN", mystuff.VALUE)
