"""Print environment.yml's pip requirements, one a line, without the editable course itself (`-e .`).

The single-user image (Dockerfile) installs exactly these, with constraints.txt's versions."""

import sys

import yaml


def requirements(path: str) -> list[str]:
    with open(path) as f:
        env = yaml.safe_load(f)
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    return [r for r in pip if not r.startswith("-e")]


def python_version(path: str) -> str:
    with open(path) as f:
        env = yaml.safe_load(f)
    return next(d.split("=", 1)[1] for d in env["dependencies"] if isinstance(d, str) and d.startswith("python="))


if __name__ == "__main__":
    print("\n".join(r for r in requirements(sys.argv[1]) if not r.startswith("torch")))
