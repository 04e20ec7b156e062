"""Regenerate notebooks/ (the student copies) from source/ with nbgrader's own generate_assignment."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from autograder import RELEASE, ROOT, assignments, tool_env
from autograder.hooks.privacy import PUBLIC_RELEASE


def generate(release_dir: Path, names: list[str] | None = None) -> list[Path]:
    """Run `nbgrader generate_assignment` for each assignment, writing into `release_dir`.

    A throwaway gradebook is used, so releasing never touches the instructor's gradebook.db.
    Returns the released notebooks.
    """
    names = names or assignments()
    with tempfile.TemporaryDirectory() as tmp:
        db = f"sqlite:///{Path(tmp) / 'release.db'}"
        for name in names:
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "nbgrader",
                    "generate_assignment",
                    name,
                    "--force",
                    "--quiet",
                    f"--db={db}",
                    f"--CourseDirectory.release_directory={release_dir}",
                ],
                cwd=ROOT,
                check=True,
                env={**tool_env(), PUBLIC_RELEASE: "1"},  # public output, private throwaway gradebook
            )
    return sorted(path for name in names for path in (release_dir / name).glob("*.ipynb"))


def main(argv: list[str]) -> int:
    """`python -m autograder release [assignment ...]`: rewrite notebooks/<assignment>/."""
    names = argv or assignments()
    for name in names:
        target = RELEASE / name
        if target.exists():
            shutil.rmtree(target)
    for path in generate(RELEASE, names):
        print(f"released {path.relative_to(ROOT)}")
    return 0
