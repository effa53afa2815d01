"""The database stops under a writing client, then comes back: while it is down every write
and /readyz answer 503 with Retry-After, promptly; once it is up the service recovers by
itself within 5 seconds; and the database holds exactly the writes that were answered 2xx.

The test makes a PostgreSQL cluster of its own (initdb on a free port) and stops that one,
never the shared server."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, select

from service.agreements.models import Agreement
from service.core.vocabularies import Role
from tests.contract.conftest import _migrate_and_seed, free_port, make_keys, start_gunicorn

pytestmark = pytest.mark.postgres_only


def _postgres_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        pytest.fail("PostgreSQL's server binaries (initdb, pg_ctl) are not installed")
    return Path(found[-1]).parent


def _as_postgres(*command: str) -> list[str]:
    # initdb and the server refuse to run as root: run them as the postgres user then.
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else list(command)


class Cluster:
    def __init__(self, root: Path, port: int) -> None:
        self.bin = _postgres_bin()
        self.data = root / "data"
        self.log = root / "server.log"
        self.port = port
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"

    def pg_ctl(self, *args: str) -> None:
        subprocess.run(
            _as_postgres(
                str(self.bin / "pg_ctl"),
                "--pgdata",
                str(self.data),
                "--log",
                str(self.log),
                "--wait",
                *args,
            ),
            check=True,
            capture_output=True,
        )

    def start(self) -> None:
        self.pg_ctl(
            "--options", f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1", "start"
        )

    def stop(self) -> None:
        self.pg_ctl("--mode", "fast", "stop")


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    root = Path(tempfile.mkdtemp(prefix="pt-outage-"))
    os.chmod(root, 0o755)
    made = Cluster(root, free_port())
    made.data.mkdir()
    if os.geteuid() == 0:
        shutil.chown(made.data, "postgres", "postgres")
        shutil.chown(root, "postgres", "postgres")
    subprocess.run(
        _as_postgres(
            str(made.bin / "initdb"), "-D", str(made.data), "-A", "trust", "-U", "postgres"
        ),
        check=True,
        capture_output=True,
    )
    made.start()
    try:
        yield made
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            made.stop()
        shutil.rmtree(root, ignore_errors=True)


def test_writes_fail_cleanly_during_an_outage_and_resume_after_it(
    cluster: Cluster, tmp_path_factory: pytest.TempPathFactory
) -> None:
    _migrate_and_seed(cluster.url)
    key = make_keys(cluster.url)[Role.EDITOR]
    outcomes: list[tuple[str, int, float, str | None]] = []  # slug, status, seconds, Retry-After
    writing = threading.Event()
    writing.set()

    with start_gunicorn(cluster.url, tmp_path_factory, {"RATE_LIMIT_PER_MINUTE": "0"}) as base_url:

        def write() -> None:
            with httpx.Client(
                base_url=f"{base_url}/api/v1",
                headers={"Authorization": f"Bearer {key}"},
                timeout=30,
            ) as client:
                while writing.is_set():
                    slug = f"outage-{uuid.uuid4().hex[:12]}"
                    started = time.monotonic()
                    response = client.post(
                        "/agreements", json={"slug": slug, "title": "Outage", "doc_type": "mou"}
                    )
                    outcomes.append(
                        (
                            slug,
                            response.status_code,
                            time.monotonic() - started,
                            response.headers.get("Retry-After"),
                        )
                    )
                    if response.status_code >= 500:
                        assert response.headers["Content-Type"] == "application/problem+json"
                    time.sleep(0.02)

        writer = threading.Thread(target=write)
        writer.start()
        time.sleep(1.5)
        cluster.stop()
        down_at = len(outcomes)
        time.sleep(2)
        ready = httpx.get(f"{base_url}/readyz", timeout=30)
        assert ready.status_code == 503 and ready.headers.get("Retry-After")
        assert ready.headers["Content-Type"] == "application/problem+json"
        cluster.start()
        back_at = time.monotonic()
        # Recovers by itself: a write succeeds within 5 seconds of the database's return.
        recovered = None
        while time.monotonic() - back_at < 10:
            recent = [o for o in outcomes[down_at:] if o[1] == 201]
            if recent:
                recovered = time.monotonic() - back_at
                break
            time.sleep(0.1)
        time.sleep(1)
        writing.clear()
        writer.join(timeout=60)
        assert httpx.get(f"{base_url}/readyz", timeout=10).status_code == 200

    statuses = {status for _slug, status, _seconds, _retry in outcomes}
    assert statuses <= {201, 503}, statuses  # never a 500
    during = [o for o in outcomes[down_at:] if o[1] == 503]
    assert during, "no write was refused while the database was down"
    assert all(retry for _slug, _status, _seconds, retry in during)
    assert max(seconds for _slug, _status, seconds, _retry in outcomes) < 10  # no hang
    assert recovered is not None and recovered <= 5, recovered
    engine = create_engine(cluster.url)
    with engine.connect() as connection:
        stored = set(
            connection.scalars(select(Agreement.slug).where(Agreement.slug.like("outage-%")))
        )
    engine.dispose()
    answered = {slug for slug, status, _seconds, _retry in outcomes if status == 201}
    refused = {slug for slug, status, _seconds, _retry in outcomes if status != 201}
    assert answered <= stored  # every write that got a 2xx is there
    assert not (refused & stored)  # and none that got an error
