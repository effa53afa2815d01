"""Schemathesis against the live service: every operation, all checks (server errors,
status codes, content types, headers, response schemas, positive and negative data), the
stateful phase following the spec's links, a fixed seed and a bounded number of examples."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from service.core.vocabularies import Role
from tests.contract.conftest import (
    LIVE_SECRET_KEY,
    ROOT,
    make_keys,
    provisioned_database,
    start_gunicorn,
)

pytestmark = pytest.mark.postgres_only

HERE = Path(__file__).parent
METHODS = {"get", "post", "patch", "delete"}
SEED = 20240304
MAX_EXAMPLES = 10


@pytest.fixture(scope="module")
def fuzzed_server(
    database_url: str, engine: object, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, dict[Role, str]]]:
    """A server and database of the fuzzer's own: it deletes and revokes whatever it finds,
    and the other live tests must not find their data gone."""
    with (
        provisioned_database(database_url, tmp_path_factory) as url,
        start_gunicorn(
            url,
            tmp_path_factory,
            {"RATE_LIMIT_PER_MINUTE": "0", "ANONYMOUS_RATE_LIMIT_PER_MINUTE": "0"},
        ) as base_url,
    ):
        yield base_url, make_keys(url)


def test_schemathesis_finds_no_failure(
    fuzzed_server: tuple[str, dict[Role, str]], tmp_path: Path
) -> None:
    live_server, live_keys = fuzzed_server
    command = [
        str(Path(sys.executable).parent / "schemathesis"),
        "--config-file",
        str(HERE / "schemathesis.toml"),
        "run",
        f"{live_server}/api/v1/openapi.json",
        # An admin key may call every operation (it cannot revoke or demote itself).
        "--header",
        f"Authorization: Bearer {live_keys[Role.ADMIN]}",
        "--checks",
        "all",
        "--mode",
        "all",
        "--seed",
        str(SEED),
        "--max-examples",
        str(MAX_EXAMPLES),
        # One worker: with two threads, CPython 3.11's ast.parse (which hypothesis calls to
        # describe strategies) can fail with "AST constructor recursion depth mismatch".
        "--workers",
        "1",
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
    spec = json.loads((ROOT / "openapi" / "openapi.json").read_text())
    operations = sum(1 for item in spec["paths"].values() for method in item if method in METHODS)
    assert f"Tested: {operations}" in summary, summary
