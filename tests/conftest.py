"""Test fixtures: migrations once per run, each test inside a transaction rolled back at its
end (services' commits become SAVEPOINT releases), the same suite on SQLite and PostgreSQL.

TEST_DATABASE_URL picks the database; `make test` runs the suite once for each.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection, Engine, delete, event, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from service import create_app
from service.auth.models import ApiKey
from service.auth.services import NewKey, create_api_key
from service.changes.models import ChangeEvent
from service.core.config import Settings
from service.core.db import Database, make_engine
from service.core.vocabularies import EntityType, Role
from service.migrations import upgrade
from service.seeding.ledger import SEED_ACTOR
from service.seeding.loader import load_seeds
from service.speedups import fastdump
from tests.helpers import SEEDS

DEFAULT_TEST_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TEST_SECRET_KEY = "test-secret-key-not-for-production"
# The one origin `cors_app` lets browsers call from.
DASHBOARD = "https://dashboard.example.org"
# Whether the apps the suite builds have the speed-ups (service/speedups): SPEEDUPS=off runs
# the whole suite against the plain service (make test does, on SQLite). The speed-ups' own
# tests (tests/speedups, and the guards that count their statements) have them either way.
SPEEDUPS = Settings.from_env(
    {"SPEEDUPS": os.environ.get("SPEEDUPS", ""), "SECRET_KEY": TEST_SECRET_KEY}
).speedups
# Every response dumped by the compiled path is dumped by marshmallow too, and compared.
fastdump.VERIFY = True


TESTS = Path(__file__).resolve().parent
# The tests by level, each marked by its folder: `unit` (tests/unit: pure code, no database
# and no app), `api` (tests/api: through HTTP, the app's whole request cycle), `live`
# (tests/contract, tests/deployment: real processes, gunicorn, nginx, Chromium, Java). The
# other folders hold a slice's service tests, on the database (tests/<slice>/), and the
# tools' (tests/tooling). `-m "not live"` is the quick run, `-m unit` the quickest.
FOLDER_MARKERS = {
    "unit": pytest.mark.unit,
    "api": pytest.mark.api,
    "contract": pytest.mark.live,
    "deployment": pytest.mark.live,
}
# What a unit test may not ask for: the database, or an app on it.
DATABASE_FIXTURES = frozenset({"engine", "database_url", "connection", "app", "session"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        folder = item.path.relative_to(TESTS).parts[0]
        if folder in FOLDER_MARKERS:
            item.add_marker(FOLDER_MARKERS[folder])
        needs = DATABASE_FIXTURES & set(getattr(item, "fixturenames", ()))
        if folder == "unit" and needs:
            raise pytest.UsageError(
                f"{item.nodeid} is a unit test: it may not use {', '.join(sorted(needs))} "
                "(move it to its slice's folder, or to tests/api)"
            )


def _normalized(url: str) -> str:
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


@pytest.fixture(scope="session")
def database_url() -> str:
    return _normalized(os.environ.get("TEST_DATABASE_URL", DEFAULT_TEST_DATABASE_URL))


@pytest.fixture(scope="session")
def is_postgresql(database_url: str) -> bool:
    return database_url.startswith("postgresql")


def _reset(database_url: str) -> None:
    """Give the run an empty database: the migrations then build it from nothing."""
    if database_url.startswith("sqlite"):
        path = database_url.removeprefix("sqlite:///")
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)
        return
    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    except OperationalError as error:
        message = f"PostgreSQL at {database_url} is unreachable: {error.orig}"
        if os.environ.get("CI") == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    _reset(database_url)
    upgrade(database_url)
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def make_app(database_url: str, *, speedups: bool = SPEEDUPS) -> Flask:
    """The app the tests use, with its own engine and pool. No rate limits here:
    tests/api/test_ratelimit.py builds apps of its own to test them."""
    return create_app(
        Settings(
            database_url=database_url,
            secret_key=TEST_SECRET_KEY,
            testing=True,
            rate_limit_per_minute=0,
            anonymous_rate_limit_per_minute=0,
            speedups=speedups,
        )
    )


@pytest.fixture(scope="session")
def app(database_url: str, engine: Engine) -> Flask:
    return make_app(database_url)


@pytest.fixture(scope="session")
def app_with_speedups(database_url: str, engine: Engine) -> Flask:
    """The app with its speed-ups whatever SPEEDUPS says: a module whose tests are about
    them overrides `app` with it."""
    return make_app(database_url, speedups=True)


@pytest.fixture
def connection(engine: Engine, app: Flask) -> Iterator[Connection]:
    """One connection per test, in a transaction that is rolled back afterwards. The read
    cache starts empty: the rollback takes back changes whose `seq` a later test reuses."""
    if "read_cache" in app.extensions:
        app.extensions["read_cache"].clear()
    with engine.connect() as connection:
        transaction = connection.begin()
        app.extensions["database"].session_factory.configure(
            bind=connection, join_transaction_mode="create_savepoint"
        )
        yield connection
        transaction.rollback()


def app_on_connection(database_url: str, connection: Connection, **settings: Any) -> Flask:
    """An app of its own with these settings (and no rate limits unless they say), whose
    sessions join the test's transaction."""
    app = create_app(
        Settings(
            **{
                "database_url": database_url,
                "secret_key": TEST_SECRET_KEY,
                "testing": True,
                "rate_limit_per_minute": 0,
                "anonymous_rate_limit_per_minute": 0,
                "speedups": SPEEDUPS,
                **settings,
            }
        )
    )
    database = app.extensions["database"]
    database.engine.dispose()
    database.session_factory.configure(bind=connection, join_transaction_mode="create_savepoint")
    return app


@pytest.fixture
def cors_app(database_url: str, connection: Connection) -> Flask:
    """An app that lets pages from DASHBOARD call it, in the test's transaction."""
    return app_on_connection(database_url, connection, cors_origins=(DASHBOARD,))


@pytest.fixture
def keys(app: Flask, connection: Connection) -> dict[Role, str]:
    """An API key of each role, made in the test's transaction."""
    made = {}
    for role in Role:
        with app.extensions["database"].session_factory() as session:
            made[role] = create_api_key(
                session, data={"name": f"test {role.value}", "role": role}
            ).key
    return made


@contextmanager
def committed_key(database: Database, name: str, role: Role) -> Iterator[NewKey]:
    """An API key committed for real, for an app on its own engine (as gunicorn runs it);
    removed afterwards with the keys' change events, and the app's pool closed."""
    with database.session_factory() as session:
        made = create_api_key(session, data={"name": name, "role": role})
    try:
        yield made
    finally:
        with database.session_factory() as cleaner:
            cleaner.execute(delete(ChangeEvent).where(ChangeEvent.entity == EntityType.API_KEY))
            cleaner.execute(delete(ApiKey).where(ApiKey.id == made.record.id))
            cleaner.commit()
        database.engine.dispose()


def client_with_key(app: Flask, key: str | None) -> FlaskClient:
    client = app.test_client()
    if key is not None:
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {key}"
    return client


@pytest.fixture
def client(app: Flask, keys: dict[Role, str]) -> FlaskClient:
    """A client with an admin key: it may do anything (tests/test_auth.py checks who may what)."""
    return client_with_key(app, keys[Role.ADMIN])


@pytest.fixture
def anonymous_client(app: Flask, connection: Connection) -> FlaskClient:
    return client_with_key(app, None)


@pytest.fixture
def session(app: Flask, connection: Connection) -> Iterator[Session]:
    """A session for service tests, on the test's connection."""
    session: Session = app.extensions["database"].session_factory()
    yield session
    session.close()


class StatementLog:
    """The SQL statements a block of code sends, for query-count and plan checks."""

    def __init__(self) -> None:
        self.statements: list[str] = []
        self.parameters: list[Any] = []
        self.active = False

    def __call__(
        self, _conn: Any, _cursor: Any, statement: str, parameters: Any, *_args: Any
    ) -> None:
        if self.active and not statement.lstrip().upper().startswith(
            ("SAVEPOINT", "RELEASE", "ROLLBACK")
        ):
            self.statements.append(statement)
            self.parameters.append(parameters)

    def __enter__(self) -> StatementLog:
        self.statements.clear()
        self.parameters.clear()
        self.active = True
        return self

    def __exit__(self, *_exc: Any) -> None:
        self.active = False

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def sql(connection: Connection) -> Iterator[StatementLog]:
    log = StatementLog()
    event.listen(connection, "before_cursor_execute", log)
    yield log
    event.remove(connection, "before_cursor_execute", log)


@pytest.fixture
def seeded(session: Session) -> Session:
    """The session, with the seed files loaded (as `flask seed` loads them)."""
    session.info["actor"] = SEED_ACTOR
    report = load_seeds(session, SEEDS)
    assert report.changed
    return session
