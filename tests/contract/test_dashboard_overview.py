"""/dashboard's overview and trend in a real headless Chromium, against a live service with
more agreements than a page shows: every agreement reachable page by page, the filters, the
sort and the page kept in the URL, the progress series with the meetings that reviewed it
marked, and screenshots at three widths saved for review (var/screenshots)."""

from __future__ import annotations

import re
import struct
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from service.core.vocabularies import Role
from tests.contract.conftest import ROOT, make_keys, provisioned_database, start_gunicorn
from tests.contract.test_dashboard_page import render, run_chromium

pytestmark = pytest.mark.postgres_only

SEEDED = 2  # agreements in the seed data
CREATED = 30
ROWS_PER_PAGE = 25
SCREENSHOTS = ROOT / "var" / "screenshots"
WIDTHS = (390, 1280, 1920)


@pytest.fixture(scope="module")
def dashboard_server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A service of its own: the seed data and 30 more agreements."""
    with provisioned_database(database_url, tmp_path_factory) as url:
        key = make_keys(url)[Role.EDITOR]
        with start_gunicorn(url, tmp_path_factory, {"RATE_LIMIT_PER_MINUTE": "0"}) as base:
            with httpx.Client(
                base_url=f"{base}/api/v1", headers={"Authorization": f"Bearer {key}"}
            ) as client:
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
