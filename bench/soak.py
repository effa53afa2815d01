"""The soak: minutes of mixed load (reads, writes, statistics) on the benchmark's data, with
the workers' memory and the database connections sampled as it runs. It writes its figures
into docs/reliability.md, between the soak markers."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import click
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench.driver import ensure_wrk
from bench.run import (
    ROOT,
    gunicorn,
    make_context,
    service_env,
    settle,
    worker_pids,
    worker_rss_mb,
)

START, END = "<!-- soak:start -->", "<!-- soak:end -->"
SAMPLE_SECONDS = 15

# One request of the mix per call: 40 % reads of one record, 25 % pages, 15 % statistics,
# 20 % new assessments. Each thread counts its 5xx answers; done() adds them up.
MIX_SCRIPT = """
local threads = {}
function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end
function init(args)
  math.randomseed(os.time() + id)
  failures = 0
  answered = 0
end
local key = os.getenv("BENCH_KEY")
local body = '{"status": "advanced", "as_of": "2025-06", "assessor_kind": "independent", "source_ids": [1]}'
function request()
  local roll = math.random(100)
  local id = math.random({first}, {last})
  if roll <= 40 then
    return wrk.format("GET", "/api/v1/commitments/" .. id)
  elseif roll <= 65 then
    return wrk.format("GET", "/api/v1/commitments?status=advanced&page_size=50")
  elseif roll <= 80 then
    return wrk.format("GET", "/api/v1/stats/summary?agreement={slug}")
  end
  return wrk.format("POST", "/api/v1/commitments/" .. id .. "/assessments",
    {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. key}, body)
end
function response(status, headers, body)
  answered = answered + 1
  if status >= 500 then failures = failures + 1 end
end
function done(summary, latency, requests)
  local failed, total = 0, 0
  for _, thread in ipairs(threads) do
    failed = failed + thread:get("failures")
    total = total + thread:get("answered")
  end
  io.write(string.format("SOAK answered=%d five_hundreds=%d\\n", total, failed))
end
"""


def service_connections(database_url: str) -> int:
    """Connections to the benchmark's database other than this sampler's."""
    engine = create_engine(database_url)
    with engine.connect() as connection:
        count = connection.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = :name AND pid <> pg_backend_pid()"
            ),
            {"name": make_url(database_url).database},
        )
    engine.dispose()
    return int(count or 0)


def soak(database_url: str, secret_key: str, minutes: float, recycle: bool) -> dict[str, Any]:
    wrk = ensure_wrk()
    logs = ROOT / "var" / "bench"
    logs.mkdir(parents=True, exist_ok=True)
    env = {
        **service_env(database_url, secret_key),
        # Off by default: a worker that lives the whole run shows whether memory leaks;
        # replacing workers every 10,000 requests would hide it.
        "GUNICORN_MAX_REQUESTS": "10000" if recycle else "0",
    }
    samples: list[dict[str, Any]] = []
    with (
        gunicorn(
            "service.wsgi:app", env, ["--config", "service/gunicorn.conf.py"], logs / "soak.log"
        ) as (url, master),
        tempfile.TemporaryDirectory() as scripts,
    ):
        context = make_context(database_url, secret_key, url, deep_page=False)
        settle(url)
        script = Path(scripts) / "mix.lua"
        script.write_text(
            MIX_SCRIPT.replace("{first}", str(context["first_commitment_id"]))
            .replace("{last}", str(context["last_commitment_id"]))
            .replace("{slug}", context["agreement_slug"])
        )
        seconds = int(minutes * 60)
        load = subprocess.Popen(
            [
                wrk,
                "-t2",
                "-c16",
                f"-d{seconds}s",
                "--timeout",
                "10s",
                "--latency",
                "-s",
                str(script),
                url,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={"BENCH_KEY": context["key"], "PATH": "/usr/bin:/bin"},
        )
        started = time.monotonic()
        with click.progressbar(length=seconds, label="soaking", file=sys.stderr) as bar:
            while load.poll() is None:
                time.sleep(SAMPLE_SECONDS)
                elapsed = time.monotonic() - started
                if load.poll() is not None:
                    break
                samples.append(
                    {
                        "second": round(elapsed),
                        "pids": worker_pids(master),
                        "rss_mb": [round(size, 1) for size in worker_rss_mb(master)],
                        "connections": service_connections(database_url),
                    }
                )
                bar.update(SAMPLE_SECONDS)
        output = load.stdout.read() if load.stdout else ""
    found = re.search(r"SOAK answered=(\d+) five_hundreds=(\d+)", output)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if not (found and rate):
        raise click.ClickException(f"cannot read wrk's output:\n{output}")
    return {
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "minutes": minutes,
        "recycle": recycle,
        "answered": int(found.group(1)),
        "five_hundreds": int(found.group(2)),
        "requests_per_second": float(rate.group(1)),
        "samples": samples,
    }


def render(result: dict[str, Any]) -> str:
    samples = result["samples"]
    # The first minute warms caches and the statement cache: compare from there on.
    settled = [s for s in samples if s["second"] >= 60] or samples
    first = max(settled[0]["rss_mb"])
    peak = max(max(s["rss_mb"]) for s in settled)
    connections = [s["connections"] for s in samples]
    workers = len({pid for s in samples for pid in s.get("pids", [])})
    lines = [
        START,
        f"Run of {result['when']}: `python -m bench soak --minutes {result['minutes']:g}"
        f"{' --recycle' if result.get('recycle') else ''}` "
        f"against the benchmark's data ({result['minutes']:g} minutes, wrk -t2 -c16, 40 % reads "
        "of one commitment, 25 % pages of 50, 15 % statistics for one agreement, 20 % new "
        "assessments; 2 sync workers, production config).",
        "",
        f"- {result['answered']:,} answers, {result['requests_per_second']:,.0f} a second; "
        f"**{result['five_hundreds']} answered 5xx**.",
        f"- RSS of the largest worker: {first:.1f} MB after the first minute, at most "
        f"{peak:.1f} MB later ({(peak / first - 1) * 100:+.1f} %; flat within 10 %: "
        f"{'yes' if peak <= first * 1.1 else 'no'}). {workers} worker processes were "
        "sampled in all: "
        + (
            "gunicorn replaced each after 10,000 to 11,000 requests (`max_requests`)."
            if result.get("recycle")
            else "workers were not recycled (`GUNICORN_MAX_REQUESTS=0`), so each lived the "
            "whole run."
        ),
        f"- Connections to the database: between {min(connections)} and {max(connections)} "
        "over the run (each worker's pool holds at most 5 + 5 overflow).",
        "",
        "| second | RSS per worker (MB) | database connections |",
        "| ---: | --- | ---: |",
        *(
            f"| {s['second']} | {', '.join(str(size) for size in s['rss_mb'])} | {s['connections']} |"
            for s in samples
        ),
        END,
    ]
    return "\n".join(lines)


def write_into(document: Path, result: dict[str, Any]) -> None:
    current = document.read_text()
    section = render(result)
    if START in current:
        before, rest = current.split(START, 1)
        after = rest.split(END, 1)[1]
        document.write_text(before + section + after)
    else:
        document.write_text(current.rstrip() + "\n\n## Soak\n\n" + section + "\n")
    (ROOT / "var" / "bench" / "soak.json").write_text(json.dumps(result, indent=2))
