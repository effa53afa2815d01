"""openapi-generator (Java, from the openapi-generator-cli package) makes `python` and
`typescript-fetch` clients from the committed spec with no errors and no validation warnings."""

from __future__ import annotations

import compileall
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.contract.conftest import ROOT

SPEC = ROOT / "openapi" / "openapi.json"
# Warnings that are not about the spec's validity: the one openapi-generator 7.x prints for
# every spec, however small (a two-line spec with one schema gets it), and the note that a
# name the target language reserves was renamed (the `from` of /stats/progress, as the
# issue names it).
GENERATOR_NOISE = re.compile(
    r"WARN\s+o\.o\.codegen\.utils\.ModelUtils - Failed to get the schema name: null"
    r"|WARN\s+o\.o\.c\.l\.\w+Codegen - \w+ \(reserved word\) cannot be used as model name"
)


def generate(generator: str, out: Path, *extra: str) -> str:
    command = [
        str(Path(sys.executable).parent / "openapi-generator-cli"),
        "generate",
        "-i",
        str(SPEC),
        "-g",
        generator,
        "-o",
        str(out),
        *extra,
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "issues with the specification" not in output, output
    problems = [
        line
        for line in output.splitlines()
        if re.search(r"\b(WARN|ERROR)\b", line) and not GENERATOR_NOISE.search(line)
    ]
    assert problems == [], "\n".join(problems)
    return output


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
