"""One connection each worker holds of its own, beside its pool, for the one-row lookups that
come with requests: the change feed's head (service/readcache.py) and an API key
(service/auth). Each is a statement prepared once and run through libpq directly (psycopg's
`pq` layer), in autocommit: one round trip, and no ORM session, no pool checkout, no
cursor, no transaction (bench/notes.md has what that saved). The answer is waited for
through psycopg's own wait, which under gevent lets the worker's other greenlets run.

The connection is opened on first use in each process (gunicorn forks the preloaded app)
and shared by the process's threads or greenlets, one lookup at a time behind a lock: one
connection a thread would open hundreds under a threaded or async worker
(docs/serving-model.md). When it fails (a database restart), it is dropped and the lookup
answers None: the caller then reads through a session, which answers a database
still down with the usual 503, and the next lookup connects again. It serves PostgreSQL on
a pooled engine only: a session bound to a connection (the tests' transaction) sees its own
uncommitted writes, which this connection would not.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import psycopg
from psycopg import generators, pq, waiting
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from service.db import Database

CONNECTION_NAME = "policy-tracker lookups"


class Lookups:
    """The worker's own connection and the statements it runs, by name."""

    def __init__(self, database: Database, statements: Mapping[bytes, str]) -> None:
        self.database = database
        self.statements = dict(statements)
        # (the process id, the connection): a forked worker must not use its parent's.
        self._held: tuple[int, Any] | None = None
        # libpq runs one statement at a time on a connection.
        self._lock = threading.Lock()

    @property
    def applies(self) -> bool:
        bind = self.database.session_factory.kw.get("bind")
        return self.database.is_postgresql and isinstance(bind, Engine)

    def run(self, name: bytes, params: Sequence[bytes | None] = ()) -> pq.abc.PGresult | None:
        """The rows of the statement `name` (as text), or None when the caller must read
        through a session instead."""
        if not self.applies:
            return None
        with self._lock:
            try:
                pgconn = self._own_connection().pgconn
                # Sent, then waited for through psycopg's own wait, which yields to other
                # greenlets under gevent; libpq's exec_prepared would block the whole worker
                # process while the database answers.
                pgconn.send_query_prepared(name, list(params))
                [*_, result] = waiting.wait(generators.execute(pgconn), pgconn.socket)
                return _check(result, pq.ExecStatus.TUPLES_OK)
            except (psycopg.Error, SQLAlchemyError, OSError):
                self._drop_own_connection()
                return None

    def _own_connection(self) -> Any:
        held = self._held
        if held is not None and held[0] == os.getpid():
            return held[1]
        pooled = self.database.engine.raw_connection()
        connection = pooled.driver_connection
        assert connection is not None, "a connection just taken from the pool is open"
        # Out of the pool for good: this worker keeps it for its lookups alone.
        pooled.detach()
        connection.autocommit = True
        # Named, so that an operator sees in pg_stat_activity what this idle connection is.
        connection.execute(f"SET application_name = '{CONNECTION_NAME}'")
        pgconn = connection.pgconn
        for name, statement in self.statements.items():
            _check(pgconn.prepare(name, statement.encode()), pq.ExecStatus.COMMAND_OK)
        self._held = (os.getpid(), connection)
        return connection

    def _drop_own_connection(self) -> None:
        held, self._held = self._held, None
        if held is not None and held[0] == os.getpid():
            with contextlib.suppress(Exception):
                held[1].close()


def _check(result: pq.abc.PGresult, expected: pq.ExecStatus) -> pq.abc.PGresult:
    """libpq reports a failed statement in its result, not by raising: raise it here."""
    if result.status != expected:
        message = result.error_message.decode(errors="replace") or "no answer"
        raise psycopg.OperationalError(f"a lookup on the worker's own connection: {message}")
    return result
