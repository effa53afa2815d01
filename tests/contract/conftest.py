"""A live service for the contract tests: gunicorn with the production config, on a free
port, against a database of its own (a scratch PostgreSQL database, or a SQLite file)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from service import create_app
from service.core.config import Settings
from service.core.vocabularies import Role
from service.migrations import upgrade
from tests.helpers import scratch_database

ROOT = Path(__file__).resolve().parents[2]
LIVE_SECRET_KEY = "contract-test-secret-key-0123456789"


def a_source_id(client: httpx.Client) -> int:
    """A source of the seed data the live database holds, for assessments to cite."""
    [source] = client.get("/sources", params={"page_size": 1}).json()["items"]
    return int(source["id"])


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


@contextmanager
def provisioned_database(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A database of its own beside the test database (a scratch PostgreSQL database, or a
    SQLite file), migrated and holding the seed data, so that fuzzed reads find records."""
    if database_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path_factory.mktemp('live') / 'live.db'}"
        _migrate_and_seed(url)
        yield url
        return
    with scratch_database(database_url, "pt_live") as url:
        _migrate_and_seed(url)
        yield url


@pytest.fixture(scope="session")
def live_database_url(
    database_url: str, engine: object, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    with provisioned_database(database_url, tmp_path_factory) as url:
        yield url


def launch_gunicorn(
    database_url: str, extra_env: dict[str, str], log_path: Path
) -> tuple[subprocess.Popen[bytes], str]:
    """gunicorn with the production config on a free port, once it answers /readyz: its
    process and base URL. The caller stops it (start_gunicorn does)."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": LIVE_SECRET_KEY,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WEB_CONCURRENCY": "2",
        "GUNICORN_ACCESS_LOG": "",
        **extra_env,
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
    wait_until_answering(process, f"{base_url}/readyz", "gunicorn", log_path, timeout=30)
    return process, base_url


def wait_until_answering(
    process: subprocess.Popen[bytes], url: str, what: str, log_path: Path, *, timeout: float
) -> None:
    """Return once `url` answers 200; fail the test with the process's log (having killed
    it) when it exits first or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            process.wait(timeout=10)
            pytest.fail(f"{what} did not start:\n{log_path.read_text()}", pytrace=False)
        time.sleep(0.1)


@contextmanager
def start_gunicorn(
    database_url: str,
    tmp_path_factory: pytest.TempPathFactory,
    extra_env: dict[str, str],
    log_path: Path | None = None,
) -> Iterator[str]:
    """gunicorn with the production config on a free port; yields its base URL. What it
    prints goes to `log_path` (a file of its own when not given)."""
    log_path = log_path or tmp_path_factory.mktemp("gunicorn") / "gunicorn.log"
    process, base_url = launch_gunicorn(database_url, extra_env, log_path)
    try:
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="session")
def live_server(live_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    # The fuzzer and the SDK story make thousands of requests: no rate limits here
    # (tests/contract/test_ratelimit_shared.py runs servers with them).
    with start_gunicorn(
        live_database_url,
        tmp_path_factory,
        {
            "RATE_LIMIT_PER_MINUTE": "0",
            "ANONYMOUS_RATE_LIMIT_PER_MINUTE": "0",
            # The webhook tests' receiver listens on 127.0.0.1.
            "WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
        },
    ) as base_url:
        yield base_url


@pytest.fixture(scope="session")
def live_keys(live_database_url: str) -> dict[Role, str]:
    return make_keys(live_database_url)


def make_keys(database_url: str) -> dict[Role, str]:
    """An API key of each role, made with the CLI as an operator would."""
    app = create_app(Settings(database_url=database_url, secret_key=LIVE_SECRET_KEY))
    made = {}
    for role in Role:
        result = app.test_cli_runner().invoke(
            args=["create-api-key", f"live {role.value}", "--role", role.value]
        )
        assert result.exit_code == 0, result.output
        made[role] = result.stdout.strip()
    app.extensions["database"].engine.dispose()
    return made


@pytest.fixture(scope="session")
def python_client_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding the package openapi-python-client makes from the committed spec,
    `policy_tracker_client`, as the README makes it (with no warning), and the helpers the
    README puts beside it (openapi/python/policy_tracker_helpers.py)."""
    out = tmp_path_factory.mktemp("python-client")
    bin_dir = Path(sys.executable).parent
    result = subprocess.run(
        [
            str(bin_dir / "openapi-python-client"),
            "generate",
            "--path",
            str(ROOT / "openapi" / "openapi.json"),
            "--meta",
            "none",
            "--config",
            str(ROOT / "openapi" / "python" / "openapi-python-client.yaml"),
            "--output-path",
            str(out / "policy_tracker_client"),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"},
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "warning" not in output.lower(), output
    helpers = ROOT / "openapi" / "python" / "policy_tracker_helpers.py"
    (out / helpers.name).write_text(helpers.read_text(encoding="utf-8"), encoding="utf-8")
    return out


# Warnings of openapi-generator that are not about the spec's validity: the one 7.x prints
# for every spec, however small (a two-line spec with one schema gets it), and the note that
# a name the target language reserves was renamed (the `from` of /stats/progress, as the
# issue names it).
GENERATOR_NOISE = re.compile(
    r"WARN\s+o\.o\.codegen\.utils\.ModelUtils - Failed to get the schema name: null"
    r"|WARN\s+o\.o\.c\.l\.\w+Codegen - \w+ \(reserved word\) cannot be used as model name"
)


def generate(generator: str, out: Path, *extra: str) -> str:
    """A client of openapi-generator (Java, from the openapi-generator-cli package) made from
    the committed spec, with no error and no warning about the spec."""
    command = [
        str(Path(sys.executable).parent / "openapi-generator-cli"),
        "generate",
        "-i",
        str(ROOT / "openapi" / "openapi.json"),
        "-g",
        generator,
        "-o",
        str(out),
        *extra,
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "issues with the specification" not in output, output
    problems = [
        line
        for line in output.splitlines()
        if re.search(r"\b(WARN|ERROR)\b", line) and not GENERATOR_NOISE.search(line)
    ]
    assert problems == [], "\n".join(problems)
    return output
