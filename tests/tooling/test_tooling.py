"""The development tools' own configuration: pre-commit runs what `make lint` runs, with the
project's own tools only (nothing is fetched)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

from tests.helpers import ROOT

BIN = Path(sys.executable).parent


def lint_commands() -> list[str]:
    """The commands of the Makefile's `lint` recipe, without the $(BIN)/ prefix."""
    makefile = (ROOT / "Makefile").read_text()
    recipe = re.search(r"^lint:.*\n((?:\t.*\n)+)", makefile, re.MULTILINE)
    assert recipe is not None
    return [line.strip().removeprefix("$(BIN)/") for line in recipe.group(1).splitlines()]


def hook_entries() -> list[str]:
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    assert [repo["repo"] for repo in config["repos"]] == ["local"]
    return [hook["entry"] for repo in config["repos"] for hook in repo["hooks"]]


def test_the_pre_commit_configuration_is_valid() -> None:
    result = subprocess.run(
        [str(BIN / "pre-commit"), "validate-config", ".pre-commit-config.yaml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_pre_commit_runs_every_check_of_make_lint_with_the_project_s_tools() -> None:
    hooks = [entry.removeprefix(".venv/bin/") for entry in hook_entries()]
    for hook in hooks:
        assert (BIN / hook.split()[0]).exists(), hook
    for command in lint_commands():
        # The check itself, without the folders it is given (a hook is given the files).
        check = " ".join(word for word in command.split() if not (ROOT / word).is_dir())
        assert any(hook.startswith(check) for hook in hooks), f"no hook runs `{command}`"


def collected(*args: str) -> int:
    """How many tests pytest would run with these arguments (none: 0)."""
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    # 5: nothing collected, which is an answer here; anything else is a failure to collect.
    assert result.returncode in (0, 5), result.stdout + result.stderr
    found = re.search(r"(\d+)(?:/\d+)? tests? collected", result.stdout)
    return int(found.group(1)) if found else 0


def test_the_tests_that_start_processes_are_marked_live() -> None:
    live_folders = ["tests/contract", "tests/deployment"]
    assert collected("-m", "live", *live_folders) > 0
    assert collected("-m", "not live", *live_folders) == 0
    assert collected("-m", "live", "tests/progress") == 0


def test_each_level_is_marked_by_its_folder() -> None:
    for marker, folder in (("unit", "tests/unit"), ("api", "tests/api")):
        assert collected("-m", marker, folder) > 0
        assert collected("-m", f"not {marker}", folder) == 0
        assert collected("-m", marker, "tests/progress") == 0
