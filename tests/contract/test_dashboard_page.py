"""/dashboard in a real headless Chromium: it renders the seed data, draws one bar per
status, shows a timeline with its sources, logs no console error, and fetches only from
the service."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from service.core.vocabularies import ImplementationStatus
from tests.contract.test_docs_page import CHROMIUM_FLAGS

pytestmark = pytest.mark.postgres_only


def run_chromium(url: str, profile: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    """Headless Chromium on the page, with these flags (what to do with it)."""
    chromium = shutil.which("chromium")
    assert chromium, "Debian's chromium is needed: `make test` installs it"
    return subprocess.run(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *flags, url],
        capture_output=True,
        text=True,
        timeout=120,
    )


def render(url: str, profile: Path) -> subprocess.CompletedProcess[str]:
    """The page's DOM once its scripts have drawn it."""
    return run_chromium(url, profile, "--dump-dom")


def test_the_dashboard_renders_the_seed_data(live_server: str, tmp_path: Path) -> None:
    result = render(f"{live_server}/dashboard", tmp_path / "profile")
    assert result.returncode == 0, result.stderr[-2000:]
    dom = result.stdout
    assert "Letter of Intent on Defence Space Cooperation" in dom
    assert 'data-agreement="india-france-loi-defence-space-cooperation"' in dom
    bars = re.findall(r'<rect class="status-bar" data-status="([a-z_]+)" data-count="(\d+)"', dom)
    assert [status for status, _count in bars] == [status.value for status in ImplementationStatus]
    counts = dict(bars)
    # The seed's seven commitments of the letter are not assessed: no deliverable is reported.
    assert int(counts["not_assessed"]) >= 7
    assert dom.count('class="timeline-item"') >= 1
    assert 'class="timeline-source"' in dom
    assert "Could not load" not in dom
    console = [line for line in result.stderr.splitlines() if "CONSOLE" in line]
    assert console == [], console


def test_the_dashboard_loads_nothing_from_elsewhere(live_server: str) -> None:
    page = httpx.get(f"{live_server}/dashboard")
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    references = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert references and all(reference.startswith("/dashboard/") for reference in references)
    script = httpx.get(f"{live_server}/dashboard/static/dashboard.js").text
    assert "https://" not in script and "http://" not in script.replace(
        "http://www.w3.org/2000/svg", ""
    )
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
