"""Running wrk and reading what it prints."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


@dataclass(frozen=True)
class Measurement:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int  # non-2xx/3xx answers, and socket errors


def ensure_wrk() -> str:
    """wrk's path; installed from Debian's packages when missing."""
    found = shutil.which("wrk")
    if found:
        return found
    sudo = [] if _is_root() else ["sudo"]
    env = ["env", "DEBIAN_FRONTEND=noninteractive"]
    subprocess.run([*sudo, *env, "apt-get", "update", "-qq"], check=True)
    subprocess.run([*sudo, *env, "apt-get", "install", "-y", "-qq", "wrk"], check=True)
    found = shutil.which("wrk")
    if not found:
        raise RuntimeError("wrk is not installed and could not be installed")
    return found


def _is_root() -> bool:
    import os

    return os.geteuid() == 0


def run_wrk(
    url: str,
    *,
    seconds: int,
    threads: int = 2,
    connections: int = 16,
    script: Path | None = None,
    headers: dict[str, str] | None = None,
) -> Measurement:
    command = [
        ensure_wrk(),
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "--latency",
    ]
    if script is not None:
        command += ["-s", str(script)]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    return parse(output)


def parse(output: str) -> Measurement:
    """The figures of one wrk run (with --latency)."""
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p50 = re.search(r"^\s+50%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.MULTILINE)
    total = re.search(r"(\d+) requests in", output)
    if not (rate and p50 and p99 and total):
        raise ValueError(f"cannot read wrk's output:\n{output}")
    if int(total.group(1)) == 0:
        raise ValueError(f"no request was answered:\n{output}")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    socket = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    errors = int(non_2xx.group(1)) if non_2xx else 0
    if socket:
        errors += sum(int(group) for group in socket.groups())
    return Measurement(
        requests_per_second=float(rate.group(1)),
        p50_ms=float(p50.group(1)) * UNITS[p50.group(2)],
        p99_ms=float(p99.group(1)) * UNITS[p99.group(2)],
        requests=int(total.group(1)),
        errors=errors,
    )
