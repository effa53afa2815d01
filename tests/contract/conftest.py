"""A live service for the contract tests: gunicorn with the production config, on a free
port, against a database of its own (a scratch PostgreSQL database, or a SQLite file)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from service import create_app
from service.config import Settings
from service.db import make_engine
from service.migrations import upgrade

ROOT = Path(__file__).resolve().parents[2]
LIVE_SECRET_KEY = "contract-test-secret-key-0123456789"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _migrate_and_seed(url: str) -> None:
    upgrade(url)
    app = create_app(Settings(database_url=url, secret_key=LIVE_SECRET_KEY))
    result = app.test_cli_runner().invoke(args=["seed"])
    app.extensions["database"].engine.dispose()
    assert result.exit_code == 0, result.output


@pytest.fixture(scope="session")
def live_database_url(
    database_url: str, engine: object, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    if database_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path_factory.mktemp('live') / 'live.db'}"
        upgrade(url)
        yield url
        return
    name = f"pt_live_{uuid.uuid4().hex[:8]}"
    admin = make_engine(database_url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(database_url).set(database=name).render_as_string(hide_password=False)
    try:
        _migrate_and_seed(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def live_server(live_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    log_path = tmp_path_factory.mktemp("gunicorn") / "gunicorn.log"
    env = {
        **os.environ,
        "DATABASE_URL": live_database_url,
        "SECRET_KEY": LIVE_SECRET_KEY,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WEB_CONCURRENCY": "2",
        "GUNICORN_ACCESS_LOG": "",
    }
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--config",
                "service/gunicorn.conf.py",
                "service.wsgi:app",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{base_url}/readyz", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"gunicorn did not start:\n{log_path.read_text()}", pytrace=False)
        time.sleep(0.2)
    yield base_url
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
