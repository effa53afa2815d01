"""Where a scenario's CPU goes: the service's gunicorn workers and PostgreSQL's processes,
read from /proc (Linux) before and after a measurement and shared out per request. A
request's wall time under load hides which side got slower; this says it (bench/notes.md,
"where a create's CPU goes")."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")


@dataclass(frozen=True)
class CpuTicks:
    workers: int
    database: int


@dataclass
class CpuUsed:
    """Clock ticks the workers and PostgreSQL spent during a block (None: no /proc)."""

    workers: int | None = None
    database: int | None = None

    def per_request(self, requests: int) -> str:
        if self.workers is None or self.database is None or requests <= 0:
            return "CPU not measured"
        tick_ms = 1000 / os.sysconf("SC_CLK_TCK")
        return (
            f"CPU a request: workers {self.workers * tick_ms / requests:.2f} ms, "
            f"PostgreSQL {self.database * tick_ms / requests:.2f} ms"
        )


def process_ticks(pid: int) -> int:
    """User and system time of a process and of its children it waited for, in clock
    ticks (0 if it is gone)."""
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return 0
    # The command name, in parentheses, may hold spaces: the fields follow its last ")".
    fields = stat.rsplit(")", 1)[1].split()
    return sum(int(value) for value in fields[11:15])  # utime, stime, cutime, cstime


def children(pid: int) -> list[int]:
    try:
        listed = (PROC / str(pid) / "task" / str(pid) / "children").read_text()
    except OSError:
        return []
    return [int(child) for child in listed.split()]


def database_pids() -> list[int]:
    """Every PostgreSQL process on the machine (the server runs here, beside the bench)."""
    found = []
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            try:
                name = (entry / "comm").read_text().strip()
            except OSError:
                continue
            if name.startswith("postgres"):
                found.append(int(entry.name))
    return found


def sample(master_pid: int) -> CpuTicks:
    return CpuTicks(
        workers=sum(process_ticks(pid) for pid in children(master_pid)),
        database=sum(process_ticks(pid) for pid in database_pids()),
    )


@contextmanager
def cpu_used(master_pid: int) -> Iterator[CpuUsed]:
    """CPU the workers of gunicorn `master_pid` and PostgreSQL spend during the block."""
    used = CpuUsed()
    if not PROC.is_dir():
        yield used
        return
    before = sample(master_pid)
    yield used
    after = sample(master_pid)
    used.workers = after.workers - before.workers
    used.database = after.database - before.database
