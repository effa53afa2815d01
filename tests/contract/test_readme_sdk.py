"""The README's Python story ("Use the API from code") is run as it is written: type-checked
with `mypy --strict` beside the client openapi-python-client makes from the committed spec
and the helpers the README ships, then run against the live service."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from service.core.vocabularies import Role
from tests.contract.conftest import ROOT

pytestmark = pytest.mark.postgres_only


def readme_story(language: str) -> str:
    """The first block in `language` of the README's "Use the API from code" section."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### Use the API from code") :]
    section = section[: section.index("\n### ", 1)]
    found = re.search(rf"```{language}\n(.*?)```", section, re.DOTALL)
    assert found, f"the section shows no {language} story"
    return found.group(1)


def check_story_output(first: list[str], again: list[str]) -> None:
    """What the README's stories print, run twice against the live service."""
    assert first[0].startswith("Letter of Intent on Defence Space Cooperation")
    # Every commitment of the seeded agreement, past the first page of five.
    listed = [line for line in first if "on 31 January 2024:" in line]
    assert len(listed) > 5
    assert listed == [line for line in again if "on 31 January 2024:" in line]
    # The create and its retry with the same Idempotency-Key: one source.
    [created] = [line for line in first if line.startswith("source ")]
    assert created in again
    assert first[-1] == again[-1] == "412 Precondition Failed"


@pytest.fixture(scope="module")
def story(python_client_dir: Path) -> Path:
    path = python_client_dir / "readme_story.py"
    path.write_text(readme_story("python"), encoding="utf-8")
    return path


def test_the_readme_story_type_checks_strictly(story: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-incremental",
            story.name,
            "policy_tracker_helpers.py",
        ],
        cwd=story.parent,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success: no issues found" in result.stdout


def test_the_readme_story_runs_against_the_live_service(
    story: Path, live_server: str, live_keys: dict[Role, str]
) -> None:
    run_story_twice([sys.executable, story.name], story.parent, live_server, live_keys)


def run_story_twice(
    command: list[str], cwd: Path, live_server: str, live_keys: dict[Role, str]
) -> None:
    """Run a README story twice against the live service, with an editor's key, and check
    what it prints (check_story_output)."""
    env = {
        **os.environ,
        "POLICY_TRACKER_URL": live_server,
        "POLICY_TRACKER_KEY": live_keys[Role.EDITOR],
    }
    runs = [
        subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
        for _ in range(2)
    ]
    for result in runs:
        assert result.returncode == 0, result.stdout + result.stderr
    first, again = (result.stdout.splitlines() for result in runs)
    check_story_output(first, again)
