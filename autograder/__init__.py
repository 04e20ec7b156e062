"""Course tooling around nbgrader: ``python -m autograder <command>`` from the repository root."""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "source"
RELEASE = ROOT / "notebooks"


def assignments() -> list[str]:
    """The assignments, in teaching order: every folder of source/ holding a notebook."""
    return sorted(p.name for p in SOURCE.iterdir() if p.is_dir() and any(p.glob("*.ipynb")))


def tool_env() -> dict[str, str]:
    """The environment for running nbgrader: this Python's bin/ first on PATH.

    nbgrader runs helpers such as `alembic` by name, so they must come from the same environment
    even when it is not activated.
    """
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env
