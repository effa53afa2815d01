"""The imports point one way (pyproject.toml, [tool.importlinter]; `make lint` runs
lint-imports over the tree): an upward import, added to a copy of the service, breaks the
contract that names its layer, and an import that closes a cycle breaks the one that forbids
cycles."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT

LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports_on_a_copy(
    tmp_path: Path, module: str, line: str
) -> subprocess.CompletedProcess[str]:
    """lint-imports over a copy of service/ whose `module` (a path under it) has `line` added."""
    shutil.copytree(
        ROOT / "service", tmp_path / "service", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    # The project's own contract type (tests/tooling/import_contracts.py), as lint-imports finds it.
    (tmp_path / "tests" / "tooling").mkdir(parents=True)
    for kept in ("__init__.py", "tooling/__init__.py", "tooling/import_contracts.py"):
        shutil.copy(ROOT / "tests" / kept, tmp_path / "tests" / kept)
    changed = tmp_path / "service" / module
    changed.write_text(changed.read_text() + f"\n{line}\n")
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("core/dates.py", "import service.http.resources", "The foundation imports nothing"),
        ("core/vocabularies.py", "import service.core.dates", "No module imports itself"),
        ("themes/models.py", "from service.themes import services", "Models and input types"),
        ("themes/inputs.py", "from service.themes import schemas", "Models and input types"),
        ("agreements/services.py", "from flask import request", "Services never see HTTP"),
        ("progress/rules.py", "import service.http.problems", "Services never see HTTP"),
        ("sources/schemas.py", "from service.http import api", "Schemas import no services"),
        ("core/writes.py", "from service.app import create_app", "Only the entry points import"),
        (
            "http/resources.py",
            "from service.speedups import readcache",
            "Only the app factory wires",
        ),
    ],
)
def test_an_upward_import_breaks_the_lint(
    tmp_path: Path, module: str, line: str, contract: str
) -> None:
    result = lint_imports_on_a_copy(tmp_path, module, line)
    assert result.returncode != 0, result.stdout
    broken = result.stdout[result.stdout.index("Broken contracts") :]
    assert contract in broken


def test_the_copy_itself_keeps_every_contract(tmp_path: Path) -> None:
    # The same copy with a harmless line: what fails above is the import, not the copying.
    result = lint_imports_on_a_copy(tmp_path, "core/dates.py", "import service.core.vocabularies")
    assert result.returncode == 0, result.stdout
    assert "0 broken" in result.stdout
