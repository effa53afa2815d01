"""One benchmark run: the data, the service and the references (the ceiling, the bare write)
under gunicorn, every scenario measured with wrk in interleaved rounds (so a noisy minute
hurts all alike), the medians checked against the targets of issue 6, and docs/benchmarks.md
written from them."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import click
import httpx
from sqlalchemy import select

from bench.ceiling import DATABASE_URL_VARIABLE, prepare_bare_writes
from bench.cpu import cpu_used
from bench.dataset import CITED_SOURCE_ID
from bench.driver import Measurement, ensure_wrk, run_wrk

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "var" / "bench" / "results.json"
THREADS, CONNECTIONS = 2, 16
# gunicorn workers, of the service and of the ceiling alike (the setting).
WORKERS = 2


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    path: str
    # "ratio" (of the ceiling's requests/s), "p50" (ms), "deep" (p50 against list_first's)
    target_kind: str | None = None
    target: float | None = None
    post_body: dict[str, Any] | None = None
    # Sent with `Cache-Control: no-cache`: computed, not answered from the read cache.
    computed: bool = False
    # False for a read too slow to compute under load: `latencies` times it instead.
    compute_under_load: bool = True
    # The target of the computed variant (same kind), when it has one of its own.
    computed_target: float | None = None


COMPUTED = "_computed"


def scenarios(context: dict[str, Any]) -> list[Scenario]:
    """Every read twice: as a client repeating it between writes gets it (from the read
    cache), and computed, as the first read after a write is; then the create."""
    plan = []
    for scenario in _scenarios(context):
        plan.append(scenario)
        if scenario.post_body is None and scenario.compute_under_load:
            plan.append(
                replace(
                    scenario,
                    name=scenario.name + COMPUTED,
                    title=scenario.title + ", computed",
                    computed=True,
                    target_kind=scenario.target_kind if scenario.computed_target else None,
                    target=scenario.computed_target,
                )
            )
    return plan


def _scenarios(context: dict[str, Any]) -> list[Scenario]:
    slug, commitment = context["agreement_slug"], context["commitment_id"]
    return [
        Scenario("get_agreement", "get one agreement", f"/api/v1/agreements/{slug}", "ratio", 0.6),
        Scenario(
            "get_commitment",
            "get one commitment with its current status",
            f"/api/v1/commitments/{commitment}",
            "ratio",
            0.6,
            computed_target=0.35,
        ),
        Scenario(
            "list_status",
            "a page of 50 commitments, status filter",
            "/api/v1/commitments?status=advanced&page_size=50",
            "ratio",
            0.35,
            computed_target=0.2,
        ),
        Scenario(
            "list_first",
            "a page of 50 commitments, first page",
            "/api/v1/commitments?page_size=50",
            "ratio",
            0.35,
            computed_target=0.2,
        ),
        Scenario(
            "list_deep",
            "the same list, 2,000 pages deep",
            f"/api/v1/commitments?page_size=50&page_token={context['deep_token']}",
            "deep",
            1.2,
            computed_target=1.2,
        ),
        Scenario(
            "stats_agreement",
            "statistics for one agreement",
            f"/api/v1/stats/summary?agreement={slug}",
            "p50",
            10,
        ),
        Scenario("stats_all", "statistics for everything", "/api/v1/stats/summary", "p50", 100),
        Scenario(
            "progress_agreement",
            "progress over time, one agreement, 24 months",
            f"/api/v1/stats/progress?agreement={slug}&from=2021-01&to=2022-12",
        ),
        Scenario(
            "progress_all",
            "progress over time, everything, 24 months",
            PROGRESS_ALL,
            compute_under_load=False,
        ),
        Scenario(
            "create_assessment",
            "create an assessment (with its ChangeEvent, in one transaction)",
            "/api/v1/commitments/{id}/assessments",
            "ratio",
            0.25,
            post_body={
                "status": "advanced",
                "as_of": "2025-06",
                "assessor_kind": "independent",
                "source_ids": [CITED_SOURCE_ID],
            },
        ),
    ]


PROGRESS_ALL = "/api/v1/stats/progress?from=2021-01&to=2022-12"


@dataclass(frozen=True)
class Latency:
    """A computed read timed one request at a time: its latency with no queue in front of it
    (under wrk's 16 connections a p50 is mostly the wait for a worker)."""

    name: str
    title: str
    path: str
    target_ms: float | None = None


def latencies(context: dict[str, Any]) -> list[Latency]:
    slug = context["agreement_slug"]
    return [
        Latency("stats_all", "statistics for everything", "/api/v1/stats/summary", 20),
        Latency(
            "stats_agreement",
            "statistics for one agreement",
            f"/api/v1/stats/summary?agreement={slug}",
            5,
        ),
        Latency("progress_all", "progress over time, everything, 24 months", PROGRESS_ALL, 50),
        Latency(
            "progress_agreement",
            "progress over time, one agreement, 24 months",
            f"/api/v1/stats/progress?agreement={slug}&from=2021-01&to=2022-12",
        ),
    ]


# Requests a latency is the median of, within a time budget (a slow read gets fewer).
LATENCY_REQUESTS, LATENCY_BUDGET_SECONDS = 50, 30.0


def settle(base_url: str, limit_seconds: float = 120) -> None:
    """Wait until the service answers at once again: requests a scenario left queued when wrk
    stopped must not weigh on the next one. Two requests at a time, one for each worker: one
    alone is answered at once by an idle worker while the other is still busy (a slow
    request the scenario before left running)."""

    def answered_at_once(_number: int) -> bool:
        started = time.monotonic()
        with suppress(httpx.TransportError):
            httpx.get(base_url + "/healthz", timeout=limit_seconds)
        return time.monotonic() - started < 0.05

    deadline = time.monotonic() + limit_seconds
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        while time.monotonic() < deadline:
            if all(pool.map(answered_at_once, range(WORKERS))):
                return
    raise click.ClickException(f"the service at {base_url} stayed busy for {limit_seconds} s")


def prime(url: str) -> None:
    """One request for each of the two workers, at the same time (a sync worker takes one at
    a time, so each gets one): the cached scenarios measure the state between writes, and the
    create of the round before has retired every answer."""
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        statuses = list(pool.map(lambda _n: httpx.get(url, timeout=60).status_code, range(WORKERS)))
    if any(status != 200 for status in statuses):
        raise click.ClickException(f"{url} answered {statuses} while priming the cache")


def time_latencies(base_url: str, timed_reads: list[Latency]) -> dict[str, Any]:
    """Each computed read, one request at a time after one to warm up: up to
    LATENCY_REQUESTS of them, at least three, within LATENCY_BUDGET_SECONDS."""
    timed: dict[str, Any] = {}
    with httpx.Client(base_url=base_url, timeout=120) as client:
        for latency in timed_reads:
            client.get(latency.path, headers={"Cache-Control": "no-cache"})
            answers: list[dict[str, Any]] = []
            started_all = time.monotonic()
            while len(answers) < LATENCY_REQUESTS and (
                len(answers) < 3 or time.monotonic() - started_all < LATENCY_BUDGET_SECONDS
            ):
                started = time.monotonic()
                status = client.get(latency.path, headers={"Cache-Control": "no-cache"}).status_code
                answers.append({"status": status, "seconds": time.monotonic() - started})
            timed[latency.name] = asdict(latency) | {"answers": answers}
    return timed


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def gunicorn(
    app: str, env: dict[str, str], args: list[str], log: Path, *, checkout: Path = ROOT
) -> Iterator[tuple[str, int]]:
    """gunicorn serving `app` from `checkout` on a free port; yields its base URL and master
    pid."""
    port = free_port()
    env = {**os.environ, **env, "HOST": "127.0.0.1", "PORT": str(port)}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", *args, "--bind", f"127.0.0.1:{port}", app],
            cwd=checkout,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(url + "/", timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise click.ClickException(f"{app} did not start; see {log}") from None
                time.sleep(0.2)
        yield url, process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)


def worker_pids(master_pid: int) -> list[int]:
    return [
        int(pid)
        for pid in Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    ]


def worker_rss_mb(master_pid: int) -> list[float]:
    children = worker_pids(master_pid)
    sizes = []
    for pid in children:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                sizes.append(int(line.split()[1]) / 1024)
    return sizes


def make_context(
    database_url: str, secret_key: str, base_url: str, *, deep_page: bool = True
) -> dict[str, Any]:
    """What the scenarios name: an agreement in the middle, one of its commitments, the range
    of commitment ids, an editor key, and (`deep_page`) the token of the list's 2,000th page."""
    from service import create_app
    from service.auth.services import create_api_key
    from service.commitments.models import Commitment
    from service.core.config import Settings
    from service.core.vocabularies import Role

    app = create_app(Settings(database_url=database_url, secret_key=secret_key))
    with app.extensions["database"].session_factory() as session:
        commitment_id = session.scalar(
            select(Commitment.id).where(Commitment.external_id == "bench-00500-037")
        )
        ids = (
            session.execute(select(Commitment.id).where(Commitment.external_id.like("bench-%")))
            .scalars()
            .all()
        )
    with app.extensions["database"].session_factory() as session:
        key = create_api_key(session, data={"name": "bench load", "role": Role.EDITOR}).key
    context_without_token = {
        "agreement_slug": "bench-agreement-00500",
        "commitment_id": commitment_id,
        "first_commitment_id": min(ids),
        "last_commitment_id": max(ids),
        "key": key,
    }
    if not deep_page:
        return {**context_without_token, "deep_token": None}
    token, pages = None, 1
    with (
        httpx.Client(base_url=base_url, timeout=30) as client,
        click.progressbar(length=1999, label="walking to page 2,000", file=sys.stderr) as bar,
    ):
        while pages < 2000:
            params: dict[str, Any] = {"page_size": 50}
            if token:
                params["page_token"] = token
            token = client.get("/api/v1/commitments", params=params).json()["next_page_token"]
            if token is None:
                raise click.ClickException(f"the list has only {pages} pages")
            pages += 1
            bar.update(1)
    return {**context_without_token, "deep_token": token}


POST_SCRIPT = """
math.randomseed(os.time())
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_KEY")
wrk.body = [[{body}]]
request = function()
  local id = math.random({first}, {last})
  return wrk.format(nil, "{before}" .. id .. "{after}")
end
"""


def post_script(
    directory: Path, name: str, path: str, body: dict[str, Any], context: dict[str, Any]
) -> Path:
    """A wrk script posting `body` to `path` ("/.../{id}/..."), each time with the id of a
    random commitment."""
    before, after = path.split("{id}")
    script = directory / f"{name}.lua"
    script.write_text(
        POST_SCRIPT.replace("{body}", json.dumps(body))
        .replace("{first}", str(context["first_commitment_id"]))
        .replace("{last}", str(context["last_commitment_id"]))
        .replace("{before}", before)
        .replace("{after}", after)
    )
    return script


def measure(
    scenario: Scenario, base_url: str, context: dict[str, Any], seconds: int, scripts: Path
) -> Measurement:
    settle(base_url)
    if scenario.post_body is None:
        if not scenario.computed:
            prime(base_url + scenario.path)
        return run_wrk(
            base_url + scenario.path,
            seconds=seconds,
            threads=THREADS,
            connections=CONNECTIONS,
            headers={"Cache-Control": "no-cache"} if scenario.computed else {},
        )
    script = post_script(scripts, scenario.name, scenario.path, scenario.post_body, context)
    os.environ["BENCH_KEY"] = context["key"]
    return run_wrk(
        base_url, seconds=seconds, threads=THREADS, connections=CONNECTIONS, script=script
    )


def service_env(database_url: str, secret_key: str) -> dict[str, str]:
    """The service's environment under load: the production config's two workers, and no
    rate limits (one client from one address: the per-key and per-address limits would
    answer 429)."""
    return {
        "DATABASE_URL": database_url,
        "SECRET_KEY": secret_key,
        "WEB_CONCURRENCY": str(WORKERS),
        "RATE_LIMIT_PER_MINUTE": "0",
        "ANONYMOUS_RATE_LIMIT_PER_MINUTE": "0",
    }


# The bare Flask route every figure is a ratio of, served as the service is (2 sync workers),
# with the bare write beside it (bench/ceiling.py).
CEILING_APP = "bench.ceiling:app"
CEILING_CONFIG = ["--workers", str(WORKERS), "--worker-class", "sync"]
BARE_WRITE_PATH = "/write/{id}"


def measure_bare_write(
    ceiling_url: str, context: dict[str, Any], seconds: int, scripts: Path
) -> Measurement:
    """The bare write, loaded as the create is: the same body, a random commitment's id."""
    body = next(s.post_body for s in _scenarios(context) if s.post_body is not None)
    script = post_script(scripts, "bare_write", BARE_WRITE_PATH, body, context)
    return run_wrk(
        ceiling_url, seconds=seconds, threads=THREADS, connections=CONNECTIONS, script=script
    )


def run(
    database_url: str, *, runs: int, seconds: int, secret_key: str, counts: dict[str, int]
) -> dict[str, Any]:
    ensure_wrk()
    logs = ROOT / "var" / "bench"
    logs.mkdir(parents=True, exist_ok=True)
    results: dict[str, list[Measurement]] = {}
    prepare_bare_writes(database_url)
    with (
        gunicorn(
            "service.wsgi:app",
            service_env(database_url, secret_key),
            ["--config", "service/gunicorn.conf.py"],
            logs / "service.log",
        ) as (service_url, service_pid),
        gunicorn(
            CEILING_APP,
            {DATABASE_URL_VARIABLE: database_url},
            CEILING_CONFIG,
            logs / "ceiling.log",
        ) as (ceiling_url, _),
        tempfile.TemporaryDirectory() as scripts_dir,
    ):
        scripts = Path(scripts_dir)
        context = make_context(database_url, secret_key, service_url)
        plan = scenarios(context)
        click.echo("warming up", err=True)
        run_wrk(ceiling_url + "/one", seconds=2)
        measure_bare_write(ceiling_url, context, 2, scripts)
        for scenario in plan:
            measure(scenario, service_url, context, 2, scripts)
        total = runs * (len(plan) + 2)
        with click.progressbar(
            length=total, label="measuring", file=sys.stderr, show_pos=True
        ) as bar:
            for _ in range(runs):
                # The service must be idle while the ceiling is measured: the creates that end
                # each round leave work queued behind them.
                settle(service_url)
                results.setdefault("ceiling", []).append(
                    run_wrk(
                        ceiling_url + "/one",
                        seconds=seconds,
                        threads=THREADS,
                        connections=CONNECTIONS,
                    )
                )
                results.setdefault("bare_write", []).append(
                    measure_bare_write(ceiling_url, context, seconds, scripts)
                )
                bar.update(2)
                for scenario in plan:
                    results.setdefault(scenario.name, []).append(
                        measure(scenario, service_url, context, seconds, scripts)
                    )
                    bar.update(1)
        settle(service_url)
        single = time_latencies(service_url, latencies(context))
        rss = worker_rss_mb(service_pid)
    summary = {
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "runs": runs,
        "seconds": seconds,
        "threads": THREADS,
        "connections": CONNECTIONS,
        "counts": counts,
        "rss_mb": rss,
        "single_requests": single,
        "scenarios": [
            asdict(scenario) | {"path": scenario.path.replace(context["deep_token"], "<token>")}
            for scenario in plan
        ],
        "raw": {name: [asdict(m) for m in measured] for name, measured in results.items()},
        "median": {name: _median(measured) for name, measured in results.items()},
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(summary, indent=2))
    return summary


def compare(
    database_url: str,
    *,
    secret_key: str,
    before: Path,
    after: Path = ROOT,
    names: list[str],
    latency_names: Sequence[str] = (),
    rounds: int,
    seconds: int,
) -> list[tuple[str, str, Measurement]]:
    """Some scenarios against two checkouts (`before`, and `after`: this one unless named),
    served side by side and measured in turn, before then after, `rounds` times: a
    comparison on one machine in one sitting, where a full run of each would be an hour
    apart."""
    ensure_wrk()
    logs = ROOT / "var" / "bench"
    logs.mkdir(parents=True, exist_ok=True)
    env = service_env(database_url, secret_key)
    config = ["--config", "service/gunicorn.conf.py"]
    with (
        gunicorn("service.wsgi:app", env, config, logs / "before.log", checkout=before) as (
            before_url,
            before_pid,
        ),
        gunicorn("service.wsgi:app", env, config, logs / "after.log", checkout=after) as (
            after_url,
            after_pid,
        ),
        gunicorn(CEILING_APP, {}, CEILING_CONFIG, logs / "ceiling.log") as (ceiling_url, _),
        tempfile.TemporaryDirectory() as scripts_dir,
    ):
        context = make_context(database_url, secret_key, after_url, deep_page=False)
        plan = {scenario.name: scenario for scenario in scenarios(context)}
        unknown = sorted(set(names) - set(plan))
        if unknown:
            raise click.BadParameter(
                f"no such scenario: {', '.join(unknown)}; one of {sorted(plan)}"
            )
        timed = {latency.name: latency for latency in latencies(context)}
        unknown = sorted(set(latency_names) - set(timed))
        if unknown:
            raise click.BadParameter(
                f"no such latency: {', '.join(unknown)}; one of {sorted(timed)}"
            )
        measured = []
        for _ in range(rounds):
            # Each round starts with the ceiling, so that every figure has a ratio of its own
            # sitting.
            settle(before_url)
            settle(after_url)
            ceiling = run_wrk(
                ceiling_url + "/one", seconds=seconds, threads=THREADS, connections=CONNECTIONS
            )
            measured.append(("ceiling", "-", ceiling))
            click.echo(f"ceiling: {ceiling.requests_per_second:,.0f} req/s", err=True)
            served = (("before", before_url, before_pid), ("after", after_url, after_pid))
            for name in names:
                for label, url, pid in served:
                    # measure() settles the service first: an idle wait, counted in its CPU
                    # as next to nothing.
                    with cpu_used(pid) as cpu:
                        figures = measure(plan[name], url, context, seconds, Path(scripts_dir))
                    measured.append((name, label, figures))
                    click.echo(
                        f"{name} {label}: {figures.requests_per_second:,.0f} req/s "
                        f"({figures.requests_per_second / ceiling.requests_per_second:.2f}× "
                        f"the ceiling), p50 {figures.p50_ms:.1f} ms, p99 {figures.p99_ms:.1f} ms; "
                        f"{cpu.per_request(figures.requests)}",
                        err=True,
                    )
            for name in latency_names:
                for label, url in (("before", before_url), ("after", after_url)):
                    settle(url)
                    answers = time_latencies(url, [timed[name]])[name]["answers"]
                    milliseconds = sorted(answer["seconds"] * 1000 for answer in answers)
                    statuses = sorted({answer["status"] for answer in answers})
                    click.echo(
                        f"latency {name} {label}: p50 {statistics.median(milliseconds):.1f} ms, "
                        f"slowest {milliseconds[-1]:.1f} ms, {len(milliseconds)} requests one "
                        f"at a time, answered {statuses}",
                        err=True,
                    )
    return measured


def _median(measured: list[Measurement]) -> dict[str, float]:
    return {
        "requests_per_second": statistics.median(m.requests_per_second for m in measured),
        "p50_ms": statistics.median(m.p50_ms for m in measured),
        "p99_ms": statistics.median(m.p99_ms for m in measured),
        "errors": sum(m.errors for m in measured),
    }
