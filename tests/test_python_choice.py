"""make env's choice of Python (autograder/cli/python_choice.py), with fake interpreters: the first Python 3.11 that
other users can run, never one below a folder they cannot pass (a pyenv under /root, a private home)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from autograder.cli import python_choice


@pytest.fixture
def machine():
    """A folder every user can pass (pytest's tmp_path is below a 0700 one) holding fake interpreters."""
    top = Path(tempfile.mkdtemp(prefix="cnn-python-", dir="/tmp"))
    top.chmod(0o755)
    try:
        yield top
    finally:
        shutil.rmtree(top, ignore_errors=True)


def _python(folder: Path, mode: int = 0o755, folder_mode: int = 0o755) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(folder_mode)
    path = folder / "python3.11"
    path.write_text("#!/bin/sh\n")
    path.chmod(mode)
    return str(path)


def test_the_first_python_311_every_user_can_run_is_chosen_and_each_other_is_explained(machine):
    private = _python(machine / "root" / ".pyenv" / "bin", folder_mode=0o755)
    (machine / "root").chmod(0o700)
    old = _python(machine / "opt" / "py310" / "bin")
    owner_only = _python(machine / "opt" / "owner" / "bin", mode=0o750)
    shared = _python(machine / "usr" / "bin")
    versions = {private: (3, 11), old: (3, 10), owner_only: (3, 11), shared: (3, 11)}
    chosen, notes = python_choice.choose([private, old, owner_only, shared], version=versions.get)
    assert chosen == shared
    assert notes == [
        f"skipped {private}: {machine / 'root'} is not passable by other users, so they cannot run {private}",
        f"skipped {old}: Python 3.10, not 3.11",
        f"skipped {owner_only}: {owner_only} is not executable by other users",
        f"chose {shared}: Python 3.11, runnable by every user",
    ]


def test_a_link_is_judged_by_the_interpreter_it_leads_to(machine):
    private = _python(machine / "home" / "teach" / "bin", folder_mode=0o755)
    (machine / "home" / "teach").chmod(0o700)
    link = machine / "bin" / "python3.11"
    link.parent.mkdir()
    link.symlink_to(private)
    assert "is not passable" in python_choice.out_of_reach(str(link))


def test_without_a_shared_python_the_owners_is_chosen_with_a_warning_and_without_any_it_says_what_to_install(machine):
    private = _python(machine / "root" / "bin")
    (machine / "root").chmod(0o700)
    chosen, notes = python_choice.choose([private], version=lambda _: (3, 11))
    assert chosen == private and "serves its owner only" in notes[-1] and "PYTHON=" in notes[-1]
    with pytest.raises(SystemExit, match=r"no Python 3\.11 found .*apt-get install python3\.11"):
        python_choice.choose([private], version=lambda _: None)


def test_candidates_are_every_python311_on_path_in_order_then_the_system_ones(machine):
    first, second = _python(machine / "a"), _python(machine / "b")
    found = python_choice.candidates(f"{machine / 'a'}:{machine / 'missing'}:{machine / 'b'}:{machine / 'a'}")
    assert found[:2] == [first, second] and found.count(first) == 1
    assert all(f in python_choice.FALLBACKS for f in found[2:])
