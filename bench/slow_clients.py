"""Slow-client load test against a server on 127.0.0.1 (bounded in count and time).

Phases, all against one host:port:
  1. find the change-feed head (GET /api/v1/changes, paging);
  2. open LONGPOLLS long polls: GET /api/v1/changes?after=<head>&wait=25 (each its own socket);
  3. open SLOWLORIS sockets: send 'GET / HTTP/1.1\r\nHost: x\r\n' then one header byte every
     SLOW_INTERVAL seconds, never finishing the headers;
  4. after SETTLE seconds: probe /healthz HEALTH_PROBES times (1 s apart), then SEQ sequential
     GET /api/v1/agreements/{slug} (new connection each) and report p50/p99/max;
  5. POST one theme (a write) and time how long each long poll takes to answer after it, and
     whether its answer holds the new change.
Everything has a deadline: the whole run stops by itself after at most ~60 s.

Usage: python -m bench.slow_clients --port 8000 --key-file KEYFILE ...
Prints a JSON summary on stdout (and a human summary on stderr).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from typing import Any, NotRequired, TypedDict

HOST = "127.0.0.1"


class PollRecord(TypedDict):
    """One long poll's outcome (kept in the order the polls were opened)."""

    i: int
    status: int | None
    items: int | None
    done_at: float | None
    error: str | None
    retry_after: str | None
    took: NotRequired[float]


class HealthProbe(TypedDict):
    """One /healthz probe, as it appears in the JSON summary."""

    status: int | None
    ms: float
    error: NotRequired[str]


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--key-file", default="/tmp/spike16/apikey")
    p.add_argument("--longpolls", type=int, default=100)
    p.add_argument("--slowloris", type=int, default=20)
    p.add_argument("--slow-interval", type=float, default=3.0)
    p.add_argument("--settle", type=float, default=2.0)
    p.add_argument("--health-probes", type=int, default=5)
    p.add_argument("--seq", type=int, default=200)
    p.add_argument("--slug", default="india-france-loi-defence-space-cooperation")
    p.add_argument("--wait", type=int, default=25)
    p.add_argument("--request-timeout", type=float, default=5.0)
    p.add_argument("--pids", default="", help="comma-separated pids whose RSS/threads to record")
    p.add_argument("--label", default="")
    p.add_argument("--no-write", action="store_true")
    p.add_argument("--reconnect", action="store_true", help="slow clients reconnect when cut")
    return p.parse_args()


async def http(
    method: str,
    path: str,
    port: int,
    *,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    timeout: float = 5.0,
) -> tuple[int, dict[str, str], bytes, float]:
    """One request on a new connection (Connection: close). Returns status, headers, body, secs."""
    started = time.perf_counter()
    reader, writer = await asyncio.wait_for(asyncio.open_connection(HOST, port), timeout)
    try:
        lines = [
            f"{method} {path} HTTP/1.1",
            f"Host: {HOST}:{port}",
            "Connection: close",
            "User-Agent: spike16-load",
        ]
        for k, v in (headers or {}).items():
            lines.append(f"{k}: {v}")
        if body or method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(body)}")
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        await writer.drain()
        raw = await asyncio.wait_for(reader.read(), timeout)
    finally:
        writer.close()
    elapsed = time.perf_counter() - started
    head, _, payload = raw.partition(b"\r\n\r\n")
    if not head:
        return 0, {}, b"", elapsed
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    status = int(status_line.split()[1])
    hdrs: dict[str, str] = {}
    for line in header_lines:
        k, _, v = line.partition(":")
        hdrs[k.strip().lower()] = v.strip()
    if hdrs.get("transfer-encoding") == "chunked":
        payload = dechunk(payload)
    return status, hdrs, payload, elapsed


def dechunk(data: bytes) -> bytes:
    out = b""
    while data:
        size_line, _, rest = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out += rest[:size]
        data = rest[size + 2 :]
    return out


async def head_seq(port: int) -> int:
    after, head = 0, 0
    for _ in range(100):  # bounded
        status, _, body, _ = await http("GET", f"/api/v1/changes?after={after}&page_size=200", port)
        if status != 200:
            raise SystemExit(f"head lookup: {status} {body[:200]!r}")
        items = json.loads(body)["items"]
        if not items:
            return head
        head = items[-1]["seq"]
        after = head
    return head


async def long_poll(
    port: int, after: int, wait: int, results: list[PollRecord], idx: int, deadline: float
) -> None:
    started = time.monotonic()
    rec: PollRecord = {
        "i": idx,
        "status": None,
        "items": None,
        "done_at": None,
        "error": None,
        "retry_after": None,
    }
    results.append(rec)
    try:
        status, hdrs, body, _ = await http(
            "GET",
            f"/api/v1/changes?after={after}&wait={wait}",
            port,
            timeout=max(1.0, deadline - time.monotonic()),
        )
        rec["status"] = status
        rec["retry_after"] = hdrs.get("retry-after")
        if status == 200:
            rec["items"] = len(json.loads(body)["items"])
    except Exception as e:
        rec["error"] = type(e).__name__
    done_at = time.monotonic()
    rec["done_at"] = done_at
    rec["took"] = done_at - started


async def slowloris(
    port: int, interval: float, stop: asyncio.Event, stats: dict[str, int], reconnect: bool = False
) -> None:
    """One slow client; with reconnect, it opens a new slow connection each time the server
    closes one (until the run stops, at most 50 times)."""
    for _ in range(50 if reconnect else 1):
        if stop.is_set():
            return
        await _slowloris_once(port, interval, stop, stats)
        stats["reconnects"] = stats.get("reconnects", 0) + (1 if reconnect else 0)


async def _slowloris_once(
    port: int, interval: float, stop: asyncio.Event, stats: dict[str, int]
) -> None:
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(HOST, port), 5)
    except Exception:
        stats["connect_failed"] += 1
        return
    stats["open"] += 1
    try:
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n")
        await writer.drain()
        header = b"X-Slow-Header-" * 100  # far more bytes than the run lasts
        for byte in header:
            try:
                await asyncio.wait_for(stop.wait(), interval)
                break
            except TimeoutError:
                pass
            if reader.at_eof():
                stats["closed_by_server"] += 1
                return
            writer.write(bytes([byte]))
            await writer.drain()
            stats["bytes"] += 1
    except (ConnectionError, OSError):
        stats["closed_by_server"] += 1
    finally:
        writer.close()


def proc_stats(pids: list[int]) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as f:
                fields = dict(line.split(":", 1) for line in f)
            out.append(
                {
                    "pid": pid,
                    "rss_mb": round(int(fields["VmRSS"].split()[0]) / 1024, 1),
                    "threads": int(fields["Threads"]),
                }
            )
        except OSError:
            out.append({"pid": pid, "gone": True})
    return out


def children(pid: int) -> list[int]:
    kids: list[int] = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                kids += [int(x) for x in f.read().split()]
    except OSError:
        pass
    return kids


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    k = max(0, min(len(s) - 1, round(q * len(s) + 0.5) - 1))
    return s[k]


async def main() -> dict[str, Any]:
    a = parse_args()
    t0 = time.monotonic()
    hard_deadline = t0 + a.wait + 35  # the whole run ends by then, whatever happens
    with open(a.key_file) as key_file:
        key = key_file.read().strip()
    master_pids = [int(x) for x in a.pids.split(",") if x]
    worker_pids = [c for m in master_pids for c in children(m)] or master_pids

    summary: dict[str, Any] = {"label": a.label, "longpolls": a.longpolls, "slowloris": a.slowloris}
    summary["rss_before"] = proc_stats(worker_pids)
    head = await head_seq(a.port)
    summary["head"] = head

    polls: list[PollRecord] = []
    poll_tasks = [
        asyncio.create_task(long_poll(a.port, head, a.wait, polls, i, hard_deadline))
        for i in range(a.longpolls)
    ]
    stop = asyncio.Event()
    slow_stats: dict[str, int] = {"open": 0, "connect_failed": 0, "closed_by_server": 0, "bytes": 0}
    slow_tasks = [
        asyncio.create_task(slowloris(a.port, a.slow_interval, stop, slow_stats, a.reconnect))
        for _ in range(a.slowloris)
    ]
    await asyncio.sleep(a.settle)

    # /healthz while the slow clients hold their sockets.
    health: list[HealthProbe] = []
    for _ in range(a.health_probes):
        try:
            status, _, _, secs = await http("GET", "/healthz", a.port, timeout=a.request_timeout)
            health.append({"status": status, "ms": round(secs * 1000, 1)})
        except Exception as e:
            health.append(
                {
                    "status": None,
                    "error": type(e).__name__,
                    "ms": round(a.request_timeout * 1000, 1),
                }
            )
        await asyncio.sleep(max(0.0, 1.0 - (health[-1]["ms"] / 1000)))
    summary["healthz"] = health
    summary["healthz_max_ms"] = max(h["ms"] for h in health)

    # Sequential reads.
    lat: list[float] = []
    statuses: dict[str, int] = {}
    seq_started = time.monotonic()
    for _ in range(a.seq):
        if time.monotonic() > seq_started + 15:  # bounded in time as well as count
            break
        try:
            status, _, _, secs = await http(
                "GET", f"/api/v1/agreements/{a.slug}", a.port, timeout=a.request_timeout
            )
            outcome_key = str(status)
        except Exception as e:
            outcome_key, secs = type(e).__name__, a.request_timeout
        statuses[outcome_key] = statuses.get(outcome_key, 0) + 1
        lat.append(secs * 1000)
    summary["seq"] = {
        "n": len(lat),
        "statuses": statuses,
        "secs": round(time.monotonic() - seq_started, 2),
        "p50_ms": round(pct(lat, 0.50), 1),
        "p99_ms": round(pct(lat, 0.99), 1),
        "max_ms": round(max(lat), 1) if lat else None,
    }
    summary["rss_during"] = proc_stats(worker_pids)
    summary["slowloris_stats_before_write"] = dict(slow_stats)

    # A write: every long poll still open should answer with it.
    in_flight_at_write = sum(1 for p in polls if p["done_at"] is None)
    answered_before_write: dict[str, int] = {}
    for p in polls:
        if p["done_at"] is not None:
            k = f"{p['status']}" + (f" ({p['error']})" if p["error"] else "")
            answered_before_write[k] = answered_before_write.get(k, 0) + 1
    summary["polls_answered_before_write"] = answered_before_write
    write_at: float | None = None
    if not a.no_write:
        slug = f"spike-{int(time.time() * 1000)}"
        try:
            status, _, _, secs = await http(
                "POST",
                "/api/v1/themes",
                a.port,
                body=json.dumps({"slug": slug, "name": "spike"}).encode(),
                headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
                timeout=10,
            )
            write_at = time.monotonic() - secs / 2
            summary["write"] = {"status": status, "ms": round(secs * 1000, 1)}
        except Exception as e:
            summary["write"] = {"error": type(e).__name__}
    summary["polls_in_flight_at_write"] = in_flight_at_write

    remaining = max(1.0, hard_deadline - time.monotonic())
    await asyncio.wait(poll_tasks, timeout=remaining)
    stop.set()
    await asyncio.wait(slow_tasks, timeout=5)
    for t in poll_tasks + slow_tasks:
        t.cancel()

    outcome: dict[str, int] = {}
    after_write: list[PollRecord] = []
    for p in polls:
        if write_at is not None and p["done_at"] is not None and p["done_at"] >= write_at:
            after_write.append(p)
        k = (
            f"{p['status']}"
            + (f" items={p['items']}" if p["items"] is not None else "")
            + (f" error={p['error']}" if p["error"] else "")
            + (f" retry-after={p['retry_after']}" if p["retry_after"] else "")
        )
        outcome[k] = outcome.get(k, 0) + 1
    summary["polls_outcome"] = outcome
    with_change = [p for p in after_write if p["items"]]
    summary["polls_answered_with_change"] = len(with_change)
    # Only polls answered after the write are in with_change: write_at and done_at are set.
    if with_change and write_at is not None:
        delays = [(p["done_at"] - write_at) * 1000 for p in with_change if p["done_at"] is not None]
        summary["write_to_answer_ms"] = {
            "p50": round(statistics.median(delays), 1),
            "max": round(max(delays), 1),
        }
    summary["slowloris_stats"] = slow_stats
    summary["total_secs"] = round(time.monotonic() - t0, 1)
    return summary


if __name__ == "__main__":
    result = asyncio.run(main())
    print(json.dumps(result))
    s = result
    print(
        f"[{s['label']}] healthz max {s['healthz_max_ms']} ms {[h['status'] for h in s['healthz']]}; "
        f"seq n={s['seq']['n']} {s['seq']['statuses']} p50 {s['seq']['p50_ms']} p99 "
        f"{s['seq']['p99_ms']} max {s['seq']['max_ms']}; polls {s['polls_outcome']}; "
        f"with change {s['polls_answered_with_change']}/{s['longpolls']} "
        f"{s.get('write_to_answer_ms')}; rss {s['rss_during']}",
        file=sys.stderr,
    )
