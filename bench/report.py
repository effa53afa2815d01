"""docs/benchmarks.md, written from one run's figures (bench/notes.md adds the reading)."""

from __future__ import annotations

import platform
import statistics
import subprocess
from importlib.metadata import version
from pathlib import Path
from typing import Any

NOTES = Path(__file__).with_name("notes.md")


def machine(database_url: str) -> dict[str, str]:
    from sqlalchemy import create_engine, text

    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    memory_kb = int(
        next(
            line.split()[1]
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
    )
    engine = create_engine(database_url)
    with engine.connect() as connection:
        postgres = str(connection.scalar(text("SHOW server_version")))
    engine.dispose()
    wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True)
    return {
        "CPU": f"{cpu}, {_cores()} cores",
        "memory": f"{memory_kb / 1024 / 1024:.0f} GiB",
        "OS": platform.platform(),
        "PostgreSQL": postgres + " (local, default settings)",
        "Python": platform.python_version(),
        "packages": ", ".join(
            f"{name} {version(name)}"
            for name in (
                "flask",
                "flask-smorest",
                "marshmallow",
                "sqlalchemy",
                "psycopg",
                "gunicorn",
            )
        ),
        "load driver": (wrk.stdout or wrk.stderr).splitlines()[0].strip(),
    }


def _cores() -> int:
    import os

    return os.cpu_count() or 0


def _verdict(scenario: dict[str, Any], medians: dict[str, Any], ceiling: float) -> str:
    kind, target = scenario["target_kind"], scenario["target"]
    median = medians[scenario["name"]]
    if kind is None:
        return "–"
    if kind == "ratio":
        ratio = median["requests_per_second"] / ceiling
        met = ratio >= target
        return f"≥ {target}× ceiling: {'met' if met else f'missed by {(1 - ratio / target) * 100:.0f} %'}"
    if kind == "p50":
        met = median["p50_ms"] <= target
        over = median["p50_ms"] / target
        return f"p50 ≤ {target:g} ms: {'met' if met else f'missed ({over:.1f}× the target)'}"
    # The deep page against the first page measured the same way (cached or computed).
    first_p50 = medians[scenario["name"].replace("list_deep", "list_first")]["p50_ms"]
    ratio = median["p50_ms"] / first_p50
    met = ratio <= target
    return f"p50 ≤ {target}× the first page's ({ratio:.2f}×): {'met' if met else 'missed'}"


def render(summary: dict[str, Any], info: dict[str, str]) -> str:
    median = summary["median"]
    ceiling = median["ceiling"]["requests_per_second"]
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`python -m bench run`) from the run below; the raw figures of",
        "each round are in `var/bench/results.json`. Figures are medians of "
        f"{summary['runs']} rounds of {summary['seconds']} s per scenario, measured in interleaved",
        "rounds (each round measures the ceiling, then every scenario), so that the machine's",
        "noise falls on all alike. These machines are shared: compare ratios from one run, not",
        "figures across runs.",
        "",
        "## Machine",
        "",
        "| | |",
        "| --- | --- |",
        *(f"| {key} | {value} |" for key, value in info.items()),
        "",
        "## Data",
        "",
        f"{summary['counts']['agreements']:,} agreements, {summary['counts']['commitments']:,} "
        f"commitments and {summary['counts']['assessments']:,} assessments on PostgreSQL, made by",
        "`python -m bench generate` through the service's own paths: agreements through the API,",
        "commitments through `POST /api/v1/imports/commitments` and assessments through",
        "`POST /api/v1/imports/assessments` (the seed data is there too).",
        "",
        "## How it was run",
        "",
        "- The service: `gunicorn --config service/gunicorn.conf.py service.wsgi:app`, its",
        "  production config (2 gevent workers, the read cache on), with `RATE_LIMIT_PER_MINUTE=0`",
        "  and `ANONYMOUS_RATE_LIMIT_PER_MINUTE=0`: the load comes from one address and one key.",
        "- The ceiling: `gunicorn --workers 2 --worker-class sync bench.ceiling:app`, a bare Flask",
        "  route answering a fixed row of twelve columns (`bench/ceiling.py`).",
        "- The bare write, served beside the ceiling by the same app: `POST /write/<id>` reads",
        "  the create's JSON body, inserts it with one `INSERT ... RETURNING` through SQLAlchemy",
        "  Core into a table with no index but its key, commits, and answers the row. No",
        "  validation, key, lock, derived value or change event: the least a durable write costs",
        "  in this stack, which a create cannot beat. It is loaded as the create is.",
        f"- The load: `wrk -t{summary['threads']} -c{summary['connections']} "
        f"-d{summary['seconds']}s --latency URL`; the create",
        "  scenario posts to a random commitment each time (`bench/run.py`).",
        "- Reads are anonymous (public reads are on by default); the create uses an editor key.",
        "- Every read is measured twice. As is: a client repeating a read between writes, answered",
        "  from the read cache (`service/speedups/readcache.py`) after one check of the change feed's head;",
        "  one request for each worker primes it first, since the create of the round before",
        "  retired every answer. And *computed*, sent with `Cache-Control: no-cache`: what the",
        "  first read after a write costs.",
        "",
        f"## Results ({summary['when']})",
        "",
        "| scenario | requests/s | p50 | p99 | × ceiling | p99 / p50 | target |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
        _row("bare Flask ceiling", "/one", median["ceiling"], ceiling, "–"),
    ]
    if "bare_write" in median:  # runs before it was measured have none
        lines.append(
            _row("bare write (a reference)", "/write/{id}", median["bare_write"], ceiling, "–")
        )
    for scenario in summary["scenarios"]:
        measured = median[scenario["name"]]
        lines.append(
            _row(
                scenario["title"],
                scenario["path"],
                measured,
                ceiling,
                _verdict(scenario, median, ceiling),
            )
        )
    errors = {name: m["errors"] for name, m in median.items() if m["errors"]}
    rss = summary["rss_mb"]
    lines += [
        "",
        "Every answer was a 2xx or 3xx."
        if not errors
        else f"Answers other than 2xx/3xx, or socket errors: {errors}.",
        "",
        f"p99 ≤ 4× p50 everywhere: {_tails(summary)}.",
        "",
        *_latency_lines(summary.get("single_requests", {})),
        f"RSS per worker after the run: {', '.join(f'{size:.0f} MB' for size in rss)} "
        f"(target ≤ 120 MB: {'met' if rss and max(rss) <= 120 else 'missed'}).",
        "",
    ]
    if NOTES.exists():
        lines += [NOTES.read_text().rstrip(), ""]
    return "\n".join(lines)


def _latency_lines(timed: dict[str, Any]) -> list[str]:
    """The computed reads timed one request at a time (bench.run.time_latencies)."""
    if not timed:
        return []
    lines = [
        "### Computed, one request at a time",
        "",
        "Each read sent with `Cache-Control: no-cache`, one after another on one connection,",
        "after one to warm up: the latency with no queue in front of it (under 16 connections a",
        "p50 is mostly the wait for a worker).",
        "",
        "| read | requests | p50 | p90 | slowest | target |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for item in timed.values():
        seconds = sorted(answer["seconds"] * 1000 for answer in item["answers"])
        statuses = {answer["status"] for answer in item["answers"]}
        p50 = statistics.median(seconds)
        p90 = seconds[min(len(seconds) - 1, int(len(seconds) * 0.9))]
        target = item.get("target_ms")
        verdict = "–"
        if statuses != {200}:
            verdict = f"answered {sorted(statuses)}"
        elif target is not None:
            verdict = f"p50 ≤ {target:g} ms: " + (
                "met" if p50 <= target else f"missed ({p50 / target:.1f}× the target)"
            )
        lines.append(
            f"| {item['title']} (`{_short(item['path'])}`) | {len(seconds)} | {p50:.1f} ms | "
            f"{p90:.1f} ms | {seconds[-1]:.1f} ms | {verdict} |"
        )
    return [*lines, ""]


def _tails(summary: dict[str, Any]) -> str:
    wide = [
        f"{name} ({m['p99_ms'] / m['p50_ms']:.1f}×)"
        for name, m in summary["median"].items()
        if m["p50_ms"] and m["p99_ms"] > 4 * m["p50_ms"]
    ]
    return "met" if not wide else "missed by " + ", ".join(wide)


def _row(title: str, path: str, measured: dict[str, Any], ceiling: float, verdict: str) -> str:
    rate = measured["requests_per_second"]
    return (
        f"| {title} (`{_short(path)}`) | {rate:,.0f} | {measured['p50_ms']:.2f} ms | "
        f"{measured['p99_ms']:.2f} ms | {rate / ceiling:.2f} | "
        f"{measured['p99_ms'] / measured['p50_ms']:.1f} | {verdict} |"
    )


def _short(path: str) -> str:
    return path if len(path) <= 70 else path[:67] + "..."
