"""The setup a newcomer runs: README's two commands, pinned versions, conda file, CI script."""

from __future__ import annotations

import re
import tomllib

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.version import Version

from conftest import ROOT, assignments


def _pyproject_requirements() -> dict[str, Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = project["dependencies"] + project["optional-dependencies"]["test"]
    return {Requirement(r).name: Requirement(r) for r in reqs}


def _constraints() -> dict[str, Version]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, version = line.split("==")
            pins[name.lower().replace("_", "-")] = Version(version)
    return pins


def test_environment_yml_matches_pyproject():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    deps = env["dependencies"]
    assert "python=3.11" in deps
    pip_section = next(d["pip"] for d in deps if isinstance(d, dict) and "pip" in d)
    conda_reqs = {Requirement(r).name: Requirement(r) for r in pip_section if not r.startswith("-")}
    pyproject = _pyproject_requirements()
    assert set(conda_reqs) == set(pyproject), (
        f"environment.yml and pyproject.toml list different packages: only in environment.yml "
        f"{sorted(set(conda_reqs) - set(pyproject))}, "
        f"only in pyproject.toml {sorted(set(pyproject) - set(conda_reqs))}"
    )
    for name, req in pyproject.items():
        assert conda_reqs[name].specifier == req.specifier, (
            f"{name}: environment.yml says {conda_reqs[name].specifier}, pyproject.toml says {req.specifier}"
        )
    assert "-e ." in pip_section, "environment.yml must install course_utils itself (-e .)"


def test_constraints_pin_every_requirement_inside_its_range():
    pins = _constraints()
    assert pins["torch"] == Version("2.13.0"), "make must install the CPU torch 2.13.0 wheel"
    for name, req in _pyproject_requirements().items():
        key = name.lower().replace("_", "-")
        assert key in pins, f"{name} is not pinned in constraints.txt"
        assert pins[key] in req.specifier, (
            f"constraints.txt pins {name}=={pins[key]}, outside pyproject's {req.specifier}"
        )
    assert not any(name.startswith("nvidia-") for name in pins), "a CUDA build of torch slipped into constraints.txt"


def test_readme_opens_with_the_two_commands_and_ci_runs_them():
    readme = (ROOT / "README.md").read_text()
    first_block = re.search(r"```(?:sh|bash|console)?\n(.*?)```", readme, re.S)
    assert first_block, "README.md must open with a code block"
    commands = [line.split("#")[0].strip() for line in first_block.group(1).splitlines() if line.split("#")[0].strip()]
    assert commands == ["make lab", "make test"]
    ci = (ROOT / ".ci" / "run").read_text()
    ci_commands = [
        line.strip()
        for line in ci.splitlines()
        if line.strip() and not line.strip().startswith("#") and not line.startswith(("set ", "cd "))
    ]
    assert ci_commands == ["make test"], f".ci/run must run README's test command and nothing else, runs {ci_commands}"


def test_readme_topic_table_gives_each_assignments_points():
    import nbformat

    readme = (ROOT / "README.md").read_text()
    for name in assignments():
        nb = nbformat.read(ROOT / "source" / name / f"{name}.ipynb", as_version=4)
        points = sum(
            c.metadata["nbgrader"].get("points", 0) for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")
        )
        row = re.search(rf"^\|\s*`?{name}`?\s*\|.*\|\s*(\d+)\s*\|\s*$", readme, re.M)
        assert row, f"README's topic table has no row for {name}"
        assert int(row.group(1)) == points, f"README gives {name} {row.group(1)} points; the notebook has {points}"


def test_nbgrader_config_names_the_course_and_releases_into_notebooks():
    namespace: dict = {}
    from traitlets.config import Config

    exec(
        (ROOT / "nbgrader_config.py").read_text(),
        {"get_config": lambda: namespace.setdefault("c", Config())},
        namespace,
    )
    c = namespace["c"]
    assert c.CourseDirectory.course_id == "cnn-course"
    assert c.CourseDirectory.release_directory == "notebooks"
    assert c.Execute.kernel_name == "cnn-course"
    assert namespace["ASSIGNMENTS"] == [
        "01_convolution",
        "02_padding_stride",
        "03_pooling",
        "04_losses",
        "05_backprop",
        "06_lenet",
    ]
    assert set(assignments()) <= set(namespace["ASSIGNMENTS"])


def test_jupyterlab_offers_the_course_kernel_but_never_the_grading_kernels():
    """The grading kernels are found only by the grading step (autograder.hooks.execute.SplitExecute, from its own spec
    folder; that they are found and used there, tests/test_training.py and tests/test_attacks.py show)."""
    import json
    import subprocess
    import sys

    from autograder import tool_env

    env = {k: v for k, v in tool_env().items() if k != "JUPYTER_PATH"}
    listing = subprocess.run(
        [sys.executable, "-m", "jupyter", "kernelspec", "list", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    specs = json.loads(listing.stdout)["kernelspecs"]
    assert "cnn-course" in specs, sorted(specs)
    assert "cnn-course-sandbox" not in specs and "cnn-course-grader" not in specs, sorted(specs)


def test_nbgrader_state_stays_out_of_git():
    ignored = (ROOT / ".gitignore").read_text().split()
    for entry in ("submitted/", "autograded/", "feedback/", "gradebook.db", ".venv/"):
        assert entry in ignored, f"{entry} must be in .gitignore"


def test_no_cuda_build_of_torch_is_installed():
    """make env installs PyTorch's CPU build: no NVIDIA libraries, no Triton (a CUDA build's 2.7 GB)."""
    from importlib.metadata import distributions

    names = sorted({(d.metadata["Name"] or "").lower() for d in distributions()})
    assert "torch" in names
    cuda = [n for n in names if n.startswith("nvidia-") or n == "triton" or n.startswith("triton-")]
    assert cuda == [], f"CUDA packages in this environment: {cuda}"


def test_every_installed_distribution_supports_debians_python_3_11_2():
    """README promises Debian 12's own python3.11 (3.11.2): every pinned package must accept it
    (soupsieve 4.x asks for >= 3.11.5 and broke `make env` there)."""
    from importlib.metadata import distributions

    from packaging.specifiers import SpecifierSet

    refusing = sorted(
        f"{d.metadata['Name']}=={d.version} (Requires-Python {d.metadata['Requires-Python']})"
        for d in distributions()
        if d.metadata["Requires-Python"] and not SpecifierSet(d.metadata["Requires-Python"]).contains("3.11.2")
    )
    assert refusing == []


def test_the_version_is_pyprojects():
    import course_utils

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert course_utils.__version__ == project["version"]


def test_pre_commit_runs_the_pinned_ruff():
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    ruff = next(repo for repo in config["repos"] if repo["repo"].endswith("/ruff-pre-commit"))
    assert ruff["rev"] == f"v{_constraints()['ruff']}"
    assert [hook["id"] for hook in ruff["hooks"]] == ["ruff-check", "ruff-format"]


def _make(tmp_path, *args: str, missing: tuple[str, ...] = (), uid: int = 0) -> tuple[str, list[str]]:
    """Run `make ARGS`, as root, on a copy of the Makefile whose .venv and hub proxy are up to date, with
    stand-ins for dpkg-query (every package installed but `missing`, which was removed with its configuration
    kept), apt-get, npm, and .venv's python and ruff, each logging its calls. Returns make's output and the calls."""
    import os
    import shutil
    import subprocess

    if shutil.which("make") is None:
        pytest.skip("needs make")
    server_config = "autograder/jupyter/jupyter_server_config.d/cnn-course.json"
    for name in ("Makefile", "pyproject.toml", "constraints.txt", server_config):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
    log = tmp_path / "calls.log"
    removed = "|".join(missing) or "-"
    stand_ins = {
        "fake-bin/dpkg-query": f"""echo dpkg-query "$@" >> {log}
case "$3" in {removed}) printf 'deinstall ok config-files';; *) printf 'install ok installed';; esac""",
        "fake-bin/apt-get": f'echo apt-get "$@" >> {log}',
        "fake-bin/npm": f'echo npm "$@" >> {log}',
        "fake-bin/id": f"echo {uid}",
        ".venv/bin/python": f'echo python "$@" >> {log}',
        ".venv/bin/ruff": f'echo ruff "$@" >> {log}',
    }
    for name, body in stand_ins.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"#!/bin/sh\n{body}\n")
        path.chmod(0o755)
    hub = tmp_path / "deploy" / "jupyterhub"
    hub.mkdir(parents=True)
    shutil.copy(ROOT / "deploy" / "jupyterhub" / "package-lock.json", hub / "package-lock.json")
    proxy = hub / "node_modules" / ".bin" / "configurable-http-proxy"
    proxy.parent.mkdir(parents=True)
    proxy.write_text("#!/bin/sh\n")
    proxy.chmod(0o755)  # newer than the lock file: the proxy is installed
    (tmp_path / ".venv" / ".installed").touch()  # newer than the copies: the environment is up to date
    # not the settings of a `make` this test may run under (its command-line variables reach the environment)
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "PYTEST_ARGS", "PYTHON", "VENV", "LAB_ARGS")
    }
    env["PATH"] = f"{tmp_path / 'fake-bin'}:{env['PATH']}"
    result = subprocess.run(["make", *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout, log.read_text().splitlines() if log.exists() else []


def test_make_test_with_everything_installed_runs_lint_and_the_suite_without_apt_get_or_pip(tmp_path):
    out, calls = _make(tmp_path, "test")
    assert "system-deps: dataset-fashion-mnist chromium bubblewrap already installed" in out
    assert [c for c in calls if not c.startswith("dpkg-query")] == [
        "ruff check .",
        "ruff format --check .",
        "python -m pytest -n 2 --dist loadgroup",
    ]


@pytest.mark.slow  # starts pytest with two workers
def test_xdist_keeps_a_group_on_one_worker(tmp_path):
    """make test relies on --dist loadgroup: each class of submissions (tests marked with one xdist_group) is
    graded once, on one worker. pytest 9.2 with xdist 3.8 silently ignores the mark (pytest-xdist#1386)."""
    import os
    import subprocess
    import sys

    (tmp_path / "test_group.py").write_text(
        "import pytest\n"
        "@pytest.mark.xdist_group('class')\n"
        "@pytest.mark.parametrize('i', range(4))\n"
        "def test_grouped(i):\n"
        "    pass\n"
        "@pytest.mark.parametrize('i', range(4))\n"
        "def test_free(i):\n"
        "    pass\n"
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-n",
            "2",
            "--dist",
            "loadgroup",
            "-v",
            "-p",
            "no:cacheprovider",
            "-c",
            os.devnull,
            "--rootdir",
            str(tmp_path),
            str(tmp_path),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    workers = set(re.findall(r"\[(gw\d)\] \[[ \d%]+\] PASSED \S*test_grouped", result.stdout))
    assert len(workers) == 1, result.stdout[-3000:]


def test_make_test_fast_selects_the_unit_tests(tmp_path):
    _, calls = _make(tmp_path, "test-fast")
    assert calls == ["python -m pytest -n 2 -m not slow and not browser"]


def test_system_deps_installs_only_what_is_missing(tmp_path):
    out, calls = _make(tmp_path, "system-deps", missing=("chromium", "bubblewrap"))
    assert "system-deps: installing chromium bubblewrap with apt-get" in out
    assert [c for c in calls if c.startswith("apt-get")] == [
        "apt-get update -qq",
        "apt-get install -y -qq chromium bubblewrap",
    ]


def test_system_deps_without_root_says_how_to_grade_without_bubblewrap(tmp_path):
    out, calls = _make(tmp_path, "system-deps", missing=("bubblewrap",), uid=1000)
    assert "not installing bubblewrap (needs apt-get and root)" in out
    assert "CNN_COURSE_NO_SANDBOX=1" in out
    assert [c for c in calls if c.startswith("apt-get")] == []


def test_make_work_copies_each_missing_topic_once_and_never_overwrites(tmp_path):
    """`make lab` works in work/ (ignored by git): each topic of notebooks/ not there yet is copied; a topic the
    learner already has is left alone, edits and all, and notebooks/ never changes."""
    import shutil
    import subprocess

    if shutil.which("make") is None:
        pytest.skip("needs make")
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    for topic in ("01_a", "02_b"):
        (tmp_path / "notebooks" / topic).mkdir(parents=True)
        (tmp_path / "notebooks" / topic / f"{topic}.ipynb").write_text("released")
    (tmp_path / "work" / "01_a").mkdir(parents=True)
    (tmp_path / "work" / "01_a" / "01_a.ipynb").write_text("my edits")
    env = {k: v for k, v in __import__("os").environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    for _ in range(2):
        result = subprocess.run(["make", "work"], cwd=tmp_path, capture_output=True, text=True, env=env, timeout=60)
        assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "work" / "01_a" / "01_a.ipynb").read_text() == "my edits"
    assert (tmp_path / "work" / "02_b" / "02_b.ipynb").read_text() == "released"
    assert (tmp_path / "notebooks" / "01_a" / "01_a.ipynb").read_text() == "released"
    assert "work/" in (ROOT / ".gitignore").read_text().split()
    makefile = (ROOT / "Makefile").read_text()
    assert "--ServerApp.root_dir=work" in makefile and "--ServerApp.root_dir=notebooks" not in makefile


def test_the_exchange_root_is_set_and_overridable(monkeypatch):
    from traitlets.config import Config

    def exchange_root():
        namespace: dict = {}
        exec(
            (ROOT / "nbgrader_config.py").read_text(),
            {"get_config": lambda: namespace.setdefault("c", Config())},
            namespace,
        )
        return namespace["c"].Exchange.root

    monkeypatch.delenv("CNN_COURSE_EXCHANGE", raising=False)
    assert exchange_root() == "/srv/nbgrader/exchange"
    monkeypatch.setenv("CNN_COURSE_EXCHANGE", "/home/teach/exchange")
    assert exchange_root() == "/home/teach/exchange"


def test_make_reset_gives_a_fresh_copy_and_keeps_the_learners(tmp_path):
    """`make reset TOPIC=...`: work/<topic>/ becomes notebooks/<topic>/ again; the learner's copy, edits and all,
    is moved to work/backups/, not deleted; without TOPIC or with an unknown one nothing changes."""
    import filecmp
    import shutil
    import subprocess

    if shutil.which("make") is None:
        pytest.skip("needs make")
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    name = "01_convolution"
    shutil.copytree(ROOT / "notebooks" / name, tmp_path / "notebooks" / name)
    mine = tmp_path / "work" / name
    shutil.copytree(ROOT / "notebooks" / name, mine)
    (mine / f"{name}.ipynb").write_text('{"my": "work"}')
    (mine / "notes.txt").write_text("mine")
    env = {k: v for k, v in __import__("os").environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "TOPIC")}

    def make(*args):
        return subprocess.run(
            ["make", "reset", *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
        )

    for args in ((), ("TOPIC=07_nothing",)):
        result = make(*args)
        assert result.returncode == 2 and name in result.stdout, result.stdout + result.stderr
        assert (mine / "notes.txt").read_text() == "mine"
    result = make(f"TOPIC={name}")
    assert result.returncode == 0, result.stdout + result.stderr
    (backup,) = (tmp_path / "work" / "backups").iterdir()
    assert backup.name.startswith(f"{name}-") and str(backup.relative_to(tmp_path)) in result.stdout
    assert (backup / "notes.txt").read_text() == "mine" and (backup / f"{name}.ipynb").read_text() == '{"my": "work"}'
    fresh = filecmp.dircmp(tmp_path / "notebooks" / name, mine)
    assert not (fresh.left_only or fresh.right_only or fresh.diff_files), (fresh.left_only, fresh.right_only)


@pytest.mark.slow
def test_make_labs_jupyterlab_has_validate_and_none_of_the_instructors_tools(tmp_path):
    """`make lab`'s server (JUPYTER_CONFIG_PATH=deploy/learner, as the Makefile starts it): the Validate button's
    handler answers; the Formgrader (whose Edit opens the solutions), the course list and the Assignments tab (no
    exchange to fetch from) are off, on the server and in JupyterLab's page."""
    import json
    import re
    import shutil
    import urllib.error
    import urllib.request

    from servers import jupyter_server

    assert "JUPYTER_CONFIG_PATH=$(abspath deploy/learner)" in (ROOT / "Makefile").read_text()
    work = tmp_path / "work"
    shutil.copytree(ROOT / "notebooks" / "04_losses", work / "04_losses")
    env = {"JUPYTER_CONFIG_PATH": str(ROOT / "deploy" / "learner")}
    with jupyter_server(work, tmp_path / "server", "lab", env=env) as server:

        def status(path: str, data: bytes | None = None) -> int:
            sep = "&" if "?" in path else "?"
            request = urllib.request.Request(f"{server['base']}{path}{sep}token={server['token']}", data=data)
            try:
                with urllib.request.urlopen(request, timeout=60) as response:
                    return response.status
            except urllib.error.HTTPError as error:
                return error.code

        assert status("/nbgrader_version?version=0") != 404  # what the Validate button asks first
        assert status("/formgrader") == 404 and status("/formgrader/api/assignments") == 404
        assert status("/assignments?course_id=cnn-course") == 404 and status("/courses") == 404
        with urllib.request.urlopen(f"{server['base']}/lab?token={server['token']}", timeout=60) as response:
            page = response.read().decode()
    config = json.loads(re.search(r'id="jupyter-config-data"[^>]*>(.*?)</script>', page, re.S).group(1))
    disabled = set(config["disabledExtensions"])
    assert {
        f"@jupyter/nbgrader:{p}" for p in ("formgrader", "create-assignment", "course-list", "assignment-list")
    } <= (disabled)
    assert "@jupyter/nbgrader:validate-assignment" not in disabled
