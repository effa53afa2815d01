"""API keys read on the worker's own connection (service/speedups/lookups.py) are read as a session
reads them. As gunicorn runs it: an app on its own engine, committing for real (the key is
removed at the end)."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from service.auth import services
from service.auth.models import ApiKey
from service.core.db import utcnow
from service.core.vocabularies import Role
from service.speedups.readcache import HEAD_STATEMENT
from tests.conftest import committed_key, make_app

pytestmark = pytest.mark.postgres_only


def test_a_key_reads_the_same_on_the_workers_connection_as_through_a_session(
    database_url: str, engine: object
) -> None:
    app = make_app(database_url, speedups=True)
    database, lookups = app.extensions["database"], app.extensions["lookups"]
    reader = app.extensions[services.STORED_KEY_READER]
    with committed_key(database, "lookup probe", Role.EDITOR) as made:
        prefix = services._split(made.key)
        assert prefix is not None and lookups.applies
        for last_used in (None, utcnow() - timedelta(seconds=90)):
            with database.session_factory() as session:
                session.execute(
                    update(ApiKey).where(ApiKey.id == made.record.id).values(last_used_at=last_used)
                )
                session.commit()
            with database.session_factory() as session:
                by_session = services.stored_key(session, prefix)
                by_lookup = services.stored_key(session, prefix, reader)
            assert by_session is not None and by_lookup is not None
            # The time comes as seconds since the epoch: a float, within a microsecond.
            if last_used is None:
                assert by_lookup.last_used_at is by_session.last_used_at is None
            else:
                assert by_lookup.last_used_at is not None and by_session.last_used_at is not None
                gap = abs(by_lookup.last_used_at - by_session.last_used_at)
                assert gap <= timedelta(microseconds=1)
            assert replace(by_lookup, last_used_at=None) == replace(by_session, last_used_at=None)
            assert by_lookup.active is True
        with database.session_factory() as session:
            assert services.stored_key(session, "00000000", reader) is None
            services.revoke_api_key(session, api_key_id=made.record.id, check=lambda _r: None)
        with database.session_factory() as session:
            revoked = services.stored_key(session, prefix, reader)
            assert revoked is not None and revoked.active is False
            assert services.authenticate(session, made.key, read_stored_key=reader) is None


def test_the_threads_of_a_worker_share_its_one_lookups_connection(
    database_url: str, engine: object
) -> None:
    """Under a threaded or async worker, one connection a thread would be hundreds: the
    process keeps one, and its lookups take turns on it."""
    app = make_app(database_url, speedups=True)
    lookups = app.extensions["lookups"]
    backends: list[int] = []

    def look_up() -> None:
        for _ in range(5):
            assert lookups.rows(HEAD_STATEMENT) is not None
        backends.append(lookups._held[1].info.backend_pid)

    threads = [threading.Thread(target=look_up) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(backends) == 8 and len(set(backends)) == 1
    app.extensions["database"].engine.dispose()


GEVENT_LOOKUP = """
from gevent import monkey

monkey.patch_all()

import sys
import time

import gevent

from service.core.db import Database
from service.speedups.lookups import Lookups

lookups = Lookups(Database(sys.argv[1]), {b"slow": "SELECT pg_sleep(0.5)"})
ticks = []


def tick():
    while True:
        ticks.append(time.monotonic())
        gevent.sleep(0.05)


gevent.spawn(tick)
gevent.sleep(0.1)
before = len(ticks)
assert lookups.rows(b"slow") is not None
print(len(ticks) - before)
"""


def test_a_lookup_lets_the_other_greenlets_of_a_gevent_worker_run(
    database_url: str, engine: object
) -> None:
    """Patched as service/gunicorn.conf.py patches: while the database answers a lookup, the
    worker's other greenlets (other requests, /healthz) go on."""
    import subprocess
    import sys

    from tests.contract.conftest import ROOT

    run = subprocess.run(
        [sys.executable, "-c", GEVENT_LOOKUP, database_url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    # A tick every 0.05 s through a 0.5 s lookup: about 10, none when it blocked the hub.
    assert int(run.stdout.split()[-1]) >= 5, run.stdout


def test_a_quick_answer_is_waited_for_without_yielding_and_a_slow_one_through_psycopgs_wait(
    database_url: str, engine: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A lookup answered within the brief moment asks psycopg's wait (under gevent, a trip
    through the hub) for nothing; one that takes longer is handed to it midway, and answers."""
    from psycopg import waiting

    from service.speedups import lookups as module

    asked: list[object] = []
    psycopgs_wait = waiting.wait

    def counted(gen: Any) -> Any:
        try:
            wanted = next(gen)
            while True:
                asked.append(wanted)
                wanted = gen.send((yield wanted))
        except StopIteration as done:
            return done.value

    def counted_wait(gen: Any, fileno: int, **options: Any) -> Any:
        return psycopgs_wait(counted(gen), fileno, **options)

    monkeypatch.setattr(waiting, "wait", counted_wait)
    app = make_app(database_url, speedups=True)
    lookups = module.Lookups(
        app.extensions["database"],
        {b"quick": "SELECT 41 + 1", b"slow": "SELECT pg_sleep(0.05), 7"},
    )
    try:
        lookups.rows(b"quick")  # connects and prepares: not what is timed
        asked.clear()
        for _ in range(20):
            quick = lookups.rows(b"quick")
            assert quick == [("42",)]
        assert asked == []
        slow = lookups.rows(b"slow")
        assert slow is not None and slow[0][1] == "7"
        assert asked
    finally:
        lookups._drop_own_connection()
        app.extensions["database"].engine.dispose()
