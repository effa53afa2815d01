"""The README's development map (its "Development" section) matches the tree: every module and
package at the root of service/ and every folder of tests/ is on it, and every file or folder
it names exists."""

from __future__ import annotations

import re
from pathlib import Path

from tests.helpers import ROOT


def _the_map() -> str:
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Development") :]
    return section[section.index("```\n") + 4 : section.index("\n```", section.index("```\n") + 4)]


def _named(text: str) -> set[str]:
    """The files (`name.py`, `gunicorn.conf.py`) and folders (`name/`) a part of the map names."""
    return set(re.findall(r"(?<![\w/])([\w.]+\.py|\w+/)", text))


def _entries(folder: Path) -> set[str]:
    return {
        path.name + ("/" if path.is_dir() else "")
        for path in folder.iterdir()
        if not path.name.startswith(("__", ".")) and (path.is_dir() or path.suffix == ".py")
    }


def test_every_root_module_and_package_of_the_service_is_on_the_map() -> None:
    service_part = _the_map().split("\ntests/")[0]
    assert _entries(ROOT / "service") <= _named(service_part)


def test_every_folder_of_the_tests_is_on_the_map() -> None:
    tests_part = _the_map().split("\ntests/")[1].split("\nbench/")[0]
    folders = {entry for entry in _entries(ROOT / "tests") if entry.endswith("/")}
    # `<slice>/` stands for a folder per slice of the service, named or not.
    slices = {entry for entry in folders if (ROOT / "service" / entry).is_dir()}
    assert folders - slices <= _named(tests_part)


def test_every_file_and_folder_the_map_names_exists() -> None:
    everything = {path.name + ("/" if path.is_dir() else "") for path in ROOT.rglob("*")}
    missing = {name for name in _named(_the_map()) if name not in everything}
    assert not missing, missing
