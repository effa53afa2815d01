"""/dashboard's overview and trend in a real headless Chromium, against a live service with
more agreements than a page shows: every agreement reachable page by page, the filters, the
sort and the page kept in the URL, the progress series with the meetings that reviewed it
marked, screenshots at three widths saved for review (var/screenshots), WCAG 2.1 AA as
axe-core checks it, and the keyboard alone enough to sort and filter (tests/browser drives
the page with playwright-core)."""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from service.core.vocabularies import Role
from tests.contract.conftest import (
    ROOT,
    a_source_id,
    make_keys,
    provisioned_database,
    start_gunicorn,
)
from tests.contract.test_dashboard_page import render, run_chromium

pytestmark = pytest.mark.postgres_only

SEEDED = 2  # agreements in the seed data
CREATED = 30
ROWS_PER_PAGE = 25
SCREENSHOTS = ROOT / "var" / "screenshots"
WIDTHS = (390, 1280, 1920)


EDITOR_KEYS: dict[str, str] = {}  # by the dashboard server's URL


@pytest.fixture(scope="module")
def dashboard_server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A service of its own: the seed data and 30 more agreements. No rate limit: the
    tests load the page many times a minute."""
    with provisioned_database(database_url, tmp_path_factory) as url:
        key = make_keys(url)[Role.EDITOR]
        no_limits = {"RATE_LIMIT_PER_MINUTE": "0", "ANONYMOUS_RATE_LIMIT_PER_MINUTE": "0"}
        with start_gunicorn(url, tmp_path_factory, no_limits) as base:
            EDITOR_KEYS[base] = key
            with httpx.Client(
                base_url=f"{base}/api/v1", headers={"Authorization": f"Bearer {key}"}
            ) as client:
                # On the letter: a commitment overdue since mid-2025, and a source that
                # names one of its commitments otherwise than the record does.
                letter = "/agreements/india-france-loi-defence-space-cooperation"
                late = client.post(
                    f"{letter}/commitments",
                    json={"title": "Joint exercise in orbit", "due_date": "2025-06"},
                )
                assert late.status_code == 201, late.text
                training = next(
                    item
                    for item in client.get(f"{letter}/commitments").json()["items"]
                    if item["title"] == "Training"
                )
                cited = client.post(
                    "/citations",
                    json={
                        "source_id": a_source_id(client),
                        "entity_type": "commitment",
                        "entity_id": training["id"],
                        "field": "title",
                        "claimed_value": "Training of space officers",
                        "quote": "the training of space officers",
                    },
                )
                assert cited.status_code == 201, cited.text
                for number in range(CREATED):
                    created = client.post(
                        "/agreements",
                        json={
                            "slug": f"agreement-{number:02d}",
                            "title": f"Agreement {number:02d} on space cooperation",
                            "doc_type": "mou",
                        },
                    )
                    assert created.status_code == 201, created.text
            yield base


def dom_of(url: str, tmp_path: Path) -> str:
    result = render(url, tmp_path / "profile")
    assert result.returncode == 0, result.stderr[-2000:]
    console = [line for line in result.stderr.splitlines() if "CONSOLE" in line]
    assert console == [], console
    assert 'data-ready="true"' in result.stdout, "the page did not finish drawing"
    assert "Could not load" not in result.stdout
    return result.stdout


def rows_of(dom: str) -> list[str]:
    return re.findall(r'<tr class="agreement" data-agreement="([^"]+)"', dom)


def test_every_agreement_is_reachable_a_page_at_a_time(
    dashboard_server: str, tmp_path: Path
) -> None:
    first = dom_of(f"{dashboard_server}/dashboard", tmp_path)
    assert len(rows_of(first)) == ROWS_PER_PAGE
    assert f"{SEEDED + CREATED} agreements" in first
    assert "Page 1 of 2" in first
    second = dom_of(f"{dashboard_server}/dashboard?page=2", tmp_path)
    assert len(rows_of(second)) == SEEDED + CREATED - ROWS_PER_PAGE
    assert set(rows_of(first)).isdisjoint(rows_of(second))
    # In title order: "Agreement 00…" first, the seed's letter and memorandum last.
    titles = re.findall(r'class="agreement-title">([^<]+)<', first + second)
    assert titles == sorted(titles)
    # Each row says how its commitments stand and how many are overdue.
    letter = re.search(
        r'data-agreement="india-france-loi-defence-space-cooperation".*?</tr>', second, re.S
    )
    assert letter is not None
    assert re.search(r'<li data-status="not_assessed">not assessed (\d+)</li>', letter.group(0))
    assert re.search(r'class="overdue-count" data-overdue="\d+"', letter.group(0))


def test_the_url_keeps_the_filters_and_the_sort(dashboard_server: str, tmp_path: Path) -> None:
    signed = dom_of(f"{dashboard_server}/dashboard?lifecycle_status=signed", tmp_path)
    assert rows_of(signed) == ["india-france-loi-defence-space-cooperation"]
    assert "1 agreement matches the filters" in signed
    # A party's agreements include those of the bodies under it (the Defence Space Agency's).
    party = dom_of(f"{dashboard_server}/dashboard?party=india-ministry-of-defence", tmp_path)
    assert rows_of(party) == [
        "india-france-loi-defence-space-cooperation",
        "india-france-draft-mou-space-surveillance-information",
    ]
    backwards = dom_of(f"{dashboard_server}/dashboard?sort=title&dir=desc", tmp_path)
    titles = re.findall(r'class="agreement-title">([^<]+)<', backwards)
    assert titles == sorted(titles, reverse=True)
    assert 'aria-sort="descending"' in backwards


def test_the_trend_marks_the_meetings_that_reviewed_it(
    dashboard_server: str, tmp_path: Path
) -> None:
    dom = dom_of(
        f"{dashboard_server}/dashboard?agreement=india-france-loi-defence-space-cooperation"
        "&months=120",
        tmp_path,
    )
    meetings = httpx.get(
        f"{dashboard_server}/api/v1/meetings",
        params={"agreement": "india-france-loi-defence-space-cooperation"},
    ).json()["items"]
    assert meetings, "the seed links meetings to the letter"
    marked = re.findall(r'<line class="trend-meeting" data-meeting="(\d+)"', dom)
    assert sorted(int(found) for found in marked) == sorted(meeting["id"] for meeting in meetings)
    assert len(re.findall(r'<circle class="trend-point"', dom)) <= 120
    assert "Letter of Intent on Defence Space Cooperation:" in dom  # the scope is named


def test_screenshots_at_three_widths(dashboard_server: str, tmp_path: Path) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for width in WIDTHS:
        path = SCREENSHOTS / f"dashboard-{width}.png"
        path.unlink(missing_ok=True)
        result = run_chromium(
            f"{dashboard_server}/dashboard?months=60",
            tmp_path / f"profile-{width}",
            "--hide-scrollbars",
            f"--window-size={width},1400",
            f"--screenshot={path}",
        )
        assert result.returncode == 0, result.stderr[-2000:]
        header = path.read_bytes()[:24]
        assert header[:8] == b"\x89PNG\r\n\x1a\n"
        assert struct.unpack(">I", header[16:20])[0] == width


BROWSER_TOOLS = ROOT / "tests" / "browser"


def drive(base_url: str, scenario: str, **env: str) -> dict[str, Any]:
    """What tests/browser/dashboard.mjs found in the scenario (playwright-core on Debian's
    Chromium), as its JSON; `env`: the scenario's settings."""
    node = shutil.which("node")
    installed = (BROWSER_TOOLS / "node_modules" / "playwright-core").is_dir()
    if node is None or not installed:
        message = "Node.js and tests/browser's packages are needed: `make test` installs them"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    result = subprocess.run(
        [node, "dashboard.mjs", base_url, scenario],
        cwd=BROWSER_TOOLS,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    found: dict[str, Any] = json.loads(result.stdout)
    return found


def test_axe_core_finds_no_wcag_21_aa_violation(dashboard_server: str) -> None:
    found = drive(dashboard_server, "axe")
    for width, checked in found.items():
        assert checked["errors"] == [], (width, checked["errors"])
        assert checked["violations"] == [], (width, checked["violations"])
        assert checked["passes"] > 10, width  # axe ran its rules


def test_the_keyboard_alone_sorts_and_filters(dashboard_server: str) -> None:
    found = drive(dashboard_server, "keyboard")
    assert found["errors"] == []
    assert found["titles"] == sorted(found["titles"], reverse=True)
    assert "dir=desc" in found["url"] and "lifecycle_status=proposed" in found["url"]
    assert found["focused"] == "filter-lifecycle"


def test_every_panel_shows_the_state_on_the_date_asked(
    dashboard_server: str, tmp_path: Path
) -> None:
    letter = "india-france-loi-defence-space-cooperation"
    before = dom_of(
        f"{dashboard_server}/dashboard?as_of=2024-01-25&agreement={letter}&page=2", tmp_path
    )
    assert '<strong id="as-of-date">2024-01-25</strong>' in before
    row = re.search(rf'<tr class="agreement" data-agreement="{letter}".*?</tr>', before, re.S)
    assert row is not None
    assert '<td data-label="Status" class="lifecycle">unknown</td>' in row.group(0)
    assert "as they stood on 2024-01-25" in before
    # Nothing was assessed yet; the trend ends with the date's month.
    assert 'class="timeline-item"' not in before and "Not assessed by 2024-01-25." in before
    assert (
        re.findall(r'<text class="chart-label"[^>]*>(\d{4}-\d{2})</text>', before)[-1] <= "2024-01"
    )
    after = dom_of(
        f"{dashboard_server}/dashboard?as_of=2024-03-05&agreement={letter}&page=2", tmp_path
    )
    row = re.search(rf'<tr class="agreement" data-agreement="{letter}".*?</tr>', after, re.S)
    assert row is not None and ">signed</td>" in row.group(0)
    dates = re.findall(r'<span class="timeline-when">([0-9-]+)</span>', after)
    assert dates and all(found <= "2024-03-05" for found in dates)


def test_an_agreements_tree_shows_what_is_late_and_its_evidence(
    dashboard_server: str, tmp_path: Path
) -> None:
    letter = "india-france-loi-defence-space-cooperation"
    commitments = httpx.get(f"{dashboard_server}/api/v1/agreements/{letter}/commitments").json()[
        "items"
    ]
    ids = {item["title"]: item["id"] for item in commitments}
    dom = dom_of(
        f"{dashboard_server}/dashboard?agreement={letter}&commitment={ids['Training']}&page=2",
        tmp_path,
    )
    items = re.findall(r'<li class="tree-item" data-commitment="(\d+)"', dom)
    assert sorted(int(found) for found in items) == sorted(ids.values())
    late = re.search(
        rf'<li class="tree-item" data-commitment="{ids["Joint exercise in orbit"]}"[^>]*>', dom
    )
    assert late is not None and 'data-overdue="true"' in late.group(0)
    assert '<span class="badge overdue">overdue</span>' in dom
    assert f"{len(ids)} commitments, 1 overdue" in dom
    # The commitment the URL names is open: the record's title beside the source's claim.
    opened = re.search(rf'<li class="tree-item" data-commitment="{ids["Training"]}"[^>]*>', dom)
    assert opened is not None and 'aria-current="true"' in opened.group(0)
    claim = re.search(r'<li class="claim".*?</li>', dom, re.S)
    assert claim is not None
    assert "<strong>Training</strong>" in claim.group(0)
    assert "<strong>Training of space officers</strong>" in claim.group(0)
    assert "reliability" in claim.group(0)


def test_a_write_shows_without_a_reload_and_one_request_at_a_time(
    dashboard_server: str,
) -> None:
    """The page follows the change feed: an assessment posted through the API moves the
    agreement's counts in the open page, with no reload, and never more than one request
    to the feed open at once."""
    letter = "india-france-loi-defence-space-cooperation"
    api = f"{dashboard_server}/api/v1"
    commitment = next(
        item
        for item in httpx.get(f"{api}/agreements/{letter}/commitments").json()["items"]
        if item["title"] == "Space exchanges"
    )
    source = httpx.get(f"{api}/sources", params={"page_size": 1}).json()["items"][0]["id"]
    found = drive(
        dashboard_server,
        "live",
        LIVE_PATH=f"/dashboard?agreement={letter}&page=2",
        LIVE_AGREEMENT=letter,
        LIVE_COMMITMENT=str(commitment["id"]),
        LIVE_SOURCE=str(source),
        EDITOR_KEY=EDITOR_KEYS[dashboard_server],
    )
    assert found["errors"] == []
    assert "initiated" not in found["before"] and "initiated 1" in found["after"]
    assert found["reloaded"] is False
    assert found["mostOpen"] == 1
    assert found["live"].startswith("Updated at")
