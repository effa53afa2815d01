"""openapi-generator (Java, from the openapi-generator-cli package) makes `python` and
`typescript-fetch` clients from the committed spec with no errors and no validation warnings."""

from __future__ import annotations

import compileall
import subprocess
import sys
from pathlib import Path

import pytest

from tests.contract.conftest import ROOT, generate

SPEC = ROOT / "openapi" / "openapi.json"


@pytest.mark.parametrize("generator", ["python", "typescript-fetch"])
def test_the_generator_accepts_the_spec_without_warnings(generator: str, tmp_path: Path) -> None:
    extra = (
        ("--additional-properties=packageName=policy_tracker_client",)
        if generator == "python"
        else ()
    )
    generate(generator, tmp_path, *extra)
    if generator == "python":
        package = tmp_path / "policy_tracker_client"
        assert (package / "api" / "agreements_api.py").exists()
        assert compileall.compile_dir(str(package), quiet=1)
    else:
        assert (tmp_path / "apis" / "AgreementsApi.ts").exists()
        assert (tmp_path / "models" / "Commitment.ts").exists()


def test_the_generator_validator_has_no_recommendations() -> None:
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "openapi-generator-cli"),
            "validate",
            "-i",
            str(SPEC),
            "--recommend",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No validation issues detected." in result.stdout, result.stdout
