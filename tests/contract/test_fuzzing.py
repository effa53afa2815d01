"""Schemathesis against the live service: every operation, all checks (server errors,
status codes, content types, headers, response schemas, positive and negative data), the
stateful phase following the spec's links, a fixed seed and a bounded number of examples."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.contract.conftest import LIVE_SECRET_KEY, ROOT

pytestmark = pytest.mark.postgres_only

HERE = Path(__file__).parent
SEED = 20240304
MAX_EXAMPLES = 10


def test_schemathesis_finds_no_failure(live_server: str, tmp_path: Path) -> None:
    command = [
        str(Path(sys.executable).parent / "schemathesis"),
        "--config-file",
        str(HERE / "schemathesis.toml"),
        "run",
        f"{live_server}/api/v1/openapi.json",
        "--checks",
        "all",
        "--mode",
        "all",
        "--seed",
        str(SEED),
        "--max-examples",
        str(MAX_EXAMPLES),
        "--workers",
        "2",
        "--request-timeout",
        "10",
        "--no-color",
        "--report",
        "junit",
        "--report-dir",
        str(tmp_path),
    ]
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "tests.contract.schemathesis_hooks",
        "LIVE_SECRET_KEY": LIVE_SECRET_KEY,
        "PYTHONPATH": str(ROOT),
    }
    result = subprocess.run(
        command, capture_output=True, text=True, env=env, cwd=ROOT, timeout=1800
    )
    # The whole report stays in var/ for reading; the assertion shows its summary.
    log = ROOT / "var" / "schemathesis.log"
    log.parent.mkdir(exist_ok=True)
    log.write_text(result.stdout + result.stderr)
    summary = result.stdout[result.stdout.rfind("SUMMARY") :]
    assert result.returncode == 0, f"{summary}\n(the whole report: {log})\n{result.stderr[-2000:]}"
    assert "Tested: 86" in summary, summary
