"""The benchmark's own parts: reading wrk's output, the report's verdicts, and the data
generator, which at a small scale runs here through the same service paths as `make bench`."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from bench.dataset import HISTORY, Scale
from bench.driver import parse
from bench.generate import generate
from bench.report import render
from service.assessments.models import StatusAssessment
from service.commitments.models import Commitment
from tests import helpers

WRK_OUTPUT = """Running 8s test @ http://127.0.0.1:40001/api/v1/commitments/1
  2 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    12.31ms    3.10ms  61.20ms   80.00%
    Req/Sec   650.10     60.00   800.00     70.00%
  Latency Distribution
     50%   11.90ms
     75%   13.20ms
     90%   15.00ms
     99%  950.00us
  10402 requests in 8.01s, 9.12MB read
  Non-2xx or 3xx responses: 7
  Socket errors: connect 0, read 2, write 0, timeout 1
Requests/sec:   1298.60
Transfer/sec:      1.14MB
"""


def test_wrk_output_is_read_with_its_units_and_its_errors() -> None:
    measured = parse(WRK_OUTPUT)
    assert measured.requests_per_second == 1298.60
    assert measured.p50_ms == pytest.approx(11.9)
    assert measured.p99_ms == pytest.approx(0.95)  # microseconds read as such
    assert measured.requests == 10402
    assert measured.errors == 7 + 2 + 1


def test_output_without_figures_is_refused() -> None:
    with pytest.raises(ValueError, match="cannot read"):
        parse("unable to connect to 127.0.0.1:1 Connection refused")


def _figures(rate: float, p50: float, p99: float) -> dict[str, float]:
    return {"requests_per_second": rate, "p50_ms": p50, "p99_ms": p99, "errors": 0}


def test_the_report_states_each_target_and_by_how_much_it_is_missed() -> None:
    summary: dict[str, Any] = {
        "when": "2026-11-26 03:00 UTC",
        "runs": 5,
        "seconds": 8,
        "threads": 2,
        "connections": 16,
        "counts": {"agreements": 1001, "commitments": 100008, "assessments": 1000007},
        "rss_mb": [80.0, 130.0],
        "scenarios": [
            {
                "name": "get_agreement",
                "title": "get one agreement",
                "path": "/a",
                "target_kind": "ratio",
                "target": 0.6,
            },
            {
                "name": "list_first",
                "title": "first page",
                "path": "/l",
                "target_kind": "ratio",
                "target": 0.35,
            },
            {
                "name": "list_deep",
                "title": "deep page",
                "path": "/d",
                "target_kind": "deep",
                "target": 1.2,
            },
            {
                "name": "list_deep_computed",
                "title": "deep page, computed",
                "path": "/d",
                "target_kind": "deep",
                "target": 1.2,
            },
            {
                "name": "stats_all",
                "title": "statistics",
                "path": "/s",
                "target_kind": "p50",
                "target": 100,
            },
        ],
        "median": {
            "ceiling": _figures(3000, 5, 9),
            "get_agreement": _figures(1500, 10, 50),  # 0.5x: missed by 17 %; p99 5x p50
            "list_first": _figures(1200, 12, 20),
            "list_deep": _figures(1100, 13, 22),
            # Against the computed first page, not the cached one: 30 / 20.
            "list_first_computed": _figures(500, 20, 40),
            "list_deep_computed": _figures(450, 30, 60),
            "stats_all": _figures(100, 150, 200),
        },
    }
    text = render(summary, {"CPU": "test"})
    assert "| get one agreement (`/a`) | 1,500 | 10.00 ms | 50.00 ms | 0.50 |" in text
    assert "≥ 0.6× ceiling: missed by 17 %" in text
    assert "≥ 0.35× ceiling: met" in text
    assert "(1.08×): met" in text
    assert "(1.50×): missed" in text
    assert "p50 ≤ 100 ms: missed (1.5× the target)" in text
    assert "missed by get_agreement (5.0×)" in text
    assert "80 MB, 130 MB (target ≤ 120 MB: missed)" in text
    assert "1,000,007 assessments" in text
    assert "| bare write" not in text  # this run did not measure it
    summary["median"]["bare_write"] = _figures(900, 16, 30)
    text = render(summary, {"CPU": "test"})
    assert "| bare write (a reference) (`/write/{id}`) | 900 | 16.00 ms | 30.00 ms | 0.30 |" in text


def test_the_bare_write_inserts_the_body_and_answers_the_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bench import ceiling

    url = f"sqlite:///{tmp_path / 'bare.db'}"
    ceiling.prepare_bare_writes(url)
    monkeypatch.setenv(ceiling.DATABASE_URL_VARIABLE, url)
    ceiling._engine.cache_clear()
    body = {"status": "advanced", "as_of": "2025-06", "assessor_kind": "independent"}
    try:
        client = ceiling.app.test_client()
        first = client.post("/write/42", json=body)
        second = client.post("/write/43", json=body)
    finally:
        ceiling._engine().dispose()
        ceiling._engine.cache_clear()
    assert first.status_code == second.status_code == 201
    assert first.get_json() == {"id": 1, "commitment_id": 42, **body} | {
        "created_at": first.get_json()["created_at"]
    }
    engine = create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(
            select(ceiling.BARE_WRITES.c.commitment_id, ceiling.BARE_WRITES.c.status)
        ).all()
    engine.dispose()
    assert rows == [(42, "advanced"), (43, "advanced")]


def test_a_post_script_sends_each_request_to_a_random_commitment(tmp_path: Path) -> None:
    from bench.run import post_script

    context = {"first_commitment_id": 7, "last_commitment_id": 99}
    script = post_script(tmp_path, "x", "/api/v1/commitments/{id}/assessments", {"a": 1}, context)
    text = script.read_text()
    assert "math.random(7, 99)" in text
    assert 'wrk.format(nil, "/api/v1/commitments/" .. id .. "/assessments")' in text
    assert 'wrk.body = [[{"a": 1}]]' in text


def test_a_history_walks_the_status_scale_and_states_progress_where_it_must() -> None:
    for status, pct in HISTORY:
        assert (pct is not None) == (status == "partially_completed")


@pytest.fixture
def scratch_database(database_url: str) -> Iterator[str]:
    """A database of the generator's own (it creates it), dropped afterwards."""
    with helpers.scratch_database(database_url, "bench", create=False) as url:
        yield url


@pytest.mark.postgres_only
def test_the_generator_fills_a_database_through_the_service_and_only_once(
    scratch_database: str,
) -> None:
    scale = Scale(agreements=3)
    counts = generate(scratch_database, scale, fresh=False, secret_key="k" * 40)
    engine = create_engine(scratch_database)
    with engine.connect() as connection:
        bench_commitments = connection.scalar(
            select(func.count()).where(Commitment.external_id.like("bench-%"))
        )
        assessed = connection.scalar(
            select(func.count(func.distinct(StatusAssessment.commitment_id)))
        )
        statuses = set(connection.scalars(select(Commitment.current_status).distinct()))
        events = connection.scalar(
            text("SELECT count(*) FROM change_events WHERE entity = 'assessment'")
        )
    engine.dispose()
    assert bench_commitments == scale.commitments == 300
    assert counts["assessments"] >= scale.assessments == 3000
    assert events == counts["assessments"]  # each through the change feed
    assert assessed >= 300
    assert len(statuses) > 2  # the histories end at different steps
    again = generate(scratch_database, scale, fresh=False, secret_key="k" * 40)
    assert again == counts


def test_the_soak_section_says_whether_memory_stayed_flat_and_counts_5xx() -> None:
    from bench.soak import END, START, render

    result = {
        "when": "2026-11-26 03:00 UTC",
        "minutes": 5.0,
        "answered": 120000,
        "five_hundreds": 2,
        "requests_per_second": 400.0,
        "samples": [
            {"second": 15, "pids": [1, 2], "rss_mb": [70.0, 71.0], "connections": 3},
            {"second": 60, "pids": [1, 2], "rss_mb": [80.0, 79.0], "connections": 4},
            {"second": 300, "pids": [3, 2], "rss_mb": [90.0, 85.0], "connections": 4},
        ],
    }
    section = render(result)
    assert section.startswith(START) and section.endswith(END)
    assert "**2 answered 5xx**" in section
    # From the first minute on: 80 MB, then 90 MB, is 12.5 % more: not flat.
    assert (
        "80.0 MB after the first minute, at most 90.0 MB later (+12.5 %; flat within 10 %: no)"
        in section
    )
    assert "between 3 and 4" in section
    assert "3 worker processes were sampled" in section


def test_the_http_import_summary_states_each_part_and_the_rows_added() -> None:
    from bench.http_import import Outcome

    outcome = Outcome(
        job_id=4,
        state="failed",
        rows_done=500_000,
        rows_total=1_000_000,
        megabytes=59.04,
        upload_seconds=2.2,
        queue_seconds=0.5,
        run_seconds=None,
        total_seconds=70.0,
        assessments_before=1_000_007,
        assessments_after=1_000_007,
        result=None,
        error="canceling statement due to statement timeout",
    )
    assert outcome.summary(1_000_000) == (
        "http-import: job 4 failed, 500,000 of 1,000,000 rows; upload 59.0 MB in 2.2 s, "
        "queued 0.5 s, ran -, total 70.0 s; assessments 1,000,007 -> 1,000,007 (+0, "
        "expected +1,000,000); error: canceling statement due to statement timeout"
    )
    waited = replace(outcome, error=None, write_seconds=(0.02, 1.25, 0.04))
    assert waited.summary(1_000_000).endswith(
        "; writes elsewhere meanwhile: 3, slowest 1.25 s, median 0.040 s, not created 0"
    )
    refused = replace(waited, write_failures=(503, 503))
    assert refused.summary(1_000_000).endswith("not created 2 [503]")


@pytest.mark.postgres_only
def test_the_scratch_copy_is_refused_while_the_source_is_in_use_and_always_dropped(
    scratch_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import click

    from bench import http_import

    monkeypatch.setattr(http_import, "QUIET_SECONDS", 0.0)
    admin = create_engine(
        make_url(scratch_database).set(database="postgres"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{make_url(scratch_database).database}"'))

    def databases() -> set[str]:
        with admin.connect() as connection:
            return set(connection.scalars(text("SELECT datname FROM pg_database")))

    before = databases()
    source = create_engine(scratch_database)
    with (
        source.connect(),
        pytest.raises(click.ClickException, match="1 session"),
        http_import.scratch_copy(scratch_database),
    ):
        pass  # pragma: no cover
    source.dispose()
    with (
        pytest.raises(RuntimeError, match="stopped"),
        http_import.scratch_copy(scratch_database) as copy,
    ):
        assert make_url(copy).database in databases()
        raise RuntimeError("stopped")
    assert databases() == before
    admin.dispose()


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc (Linux)")
def test_cpu_used_counts_the_cpu_of_a_masters_workers() -> None:
    import os
    import subprocess
    import sys
    import time

    from bench.cpu import children, cpu_used

    # A "master" whose child burns 0.4 s of CPU, then stays alive, as a gunicorn worker.
    worker = "import time\nend = time.process_time() + 0.4\nwhile time.process_time() < end: pass\ntime.sleep(5)\n"
    master = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import subprocess, sys; subprocess.run([sys.executable, '-c', {worker!r}])",
        ]
    )
    try:
        time.sleep(0.05)
        with cpu_used(master.pid) as used:
            time.sleep(1.5)
    finally:
        for child in children(master.pid):
            os.kill(child, 9)
        master.kill()
        master.wait()
    ticks_a_second = os.sysconf("SC_CLK_TCK")
    assert used.workers is not None and 0.2 * ticks_a_second <= used.workers <= 0.6 * ticks_a_second
    assert used.database is not None and used.database >= 0
    assert used.per_request(0) == "CPU not measured"
    assert used.per_request(2).startswith("CPU a request: workers ")
