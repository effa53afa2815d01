"""/docs renders the interactive reference in a real headless Chromium, from assets the
service ships (the machine has no internet access, so a CDN would leave the page empty)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import httpx
import pytest

from tests.contract.conftest import ROOT

pytestmark = pytest.mark.postgres_only

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-logging=stderr",
    "--v=0",
    # Lets the page's scripts fetch the spec and render before the DOM is dumped.
    "--virtual-time-budget=20000",
]


def test_the_docs_page_lists_every_operation(live_server: str, tmp_path: Path) -> None:
    chromium = shutil.which("chromium")
    assert chromium, "Debian's chromium is needed: `make test` installs it"
    result = subprocess.run(
        [
            chromium,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={tmp_path / 'profile'}",
            "--dump-dom",
            f"{live_server}/docs",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    dom = result.stdout
    spec = json.loads((ROOT / "openapi" / "openapi.json").read_text())
    expected = Counter(
        method
        for item in spec["paths"].values()
        for method in item
        if method in {"get", "post", "patch", "delete"}
    )
    rendered = Counter(re.findall(r'class="opblock opblock-(get|post|patch|delete)', dom))
    assert rendered == expected
    for path in spec["paths"]:
        assert f'data-path="{path}"' in dom, path
    console_errors = [
        line for line in result.stderr.splitlines() if "CONSOLE" in line and "rror" in line
    ]
    assert console_errors == []


def test_the_docs_page_loads_nothing_from_elsewhere(live_server: str) -> None:
    page = httpx.get(f"{live_server}/docs").text
    for reference in re.findall(r'(?:src|href)="([^"]+)"', page):
        assert reference.startswith("/docs/"), reference
        assert httpx.get(f"{live_server}{reference}").status_code == 200, reference
    assert "validatorUrl: null" in httpx.get(f"{live_server}/docs/own/init.js").text
