# An extra cell: read the course's secrets and write into the course and the system.
import pathlib

course = pathlib.Path(COURSE)
found = {}
for target in ["source", "gradebook.db", "submitted", "nbgrader_config.py"]:
    try:
        path = course / target
        found[target] = sorted(p.name for p in path.iterdir()) if path.is_dir() else len(path.read_bytes())
    except OSError as exc:
        found[target] = type(exc).__name__
for target in [course / "pwned.txt", pathlib.Path("/usr/pwned.txt")]:
    try:
        target.write_text("x")
        found[str(target)] = "written"
    except OSError as exc:
        found[str(target)] = type(exc).__name__
print("SNOOP", found)
