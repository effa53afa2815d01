"""One connection each worker holds of its own, beside its pool, for the one-row lookups that
come with requests: the change feed's head (the read cache) and an API key (api_keys.py).
Each is a statement prepared once and run through libpq directly (psycopg's `pq` layer), in
autocommit: one round trip, and no ORM session, no pool checkout, no cursor, no
transaction (bench/notes.md has what that saved). The answer is waited for
briefly without yielding (`answered_briefly`): a lookup is answered in well under that moment,
and a trip through gevent's hub for each one cost the cache hit much of its speed
(bench/notes.md). Past the moment, the wait goes on through psycopg's own, which under
gevent lets the worker's other greenlets run: a slow database holds up the lookup, not the
worker.

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
import select
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import psycopg
from psycopg import generators, pq, waiting
from psycopg.abc import PQGen
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from service.core.db import Database

CONNECTION_NAME = "policy-tracker lookups"
# How long a lookup's answer is waited for before the worker's other greenlets may run.
BLOCKING_WAIT_SECONDS = 0.002

Answer = TypeVar("Answer")


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

    def rows(
        self, name: bytes, params: Sequence[str | None] = ()
    ) -> list[tuple[str | None, ...]] | None:
        """The rows of the statement `name`, each value as PostgreSQL writes it in text
        (a boolean is "t" or "f"), or None when the caller must read through a session
        instead."""
        if not self.applies:
            return None
        with self._lock:
            try:
                pgconn = self._own_connection().pgconn
                # Sent, then waited for (answered_briefly); libpq's exec_prepared would block the
                # whole worker process for as long as the database takes to answer.
                pgconn.send_query_prepared(
                    name, [None if param is None else param.encode() for param in params]
                )
                socket = pgconn.socket
                [*_, result] = waiting.wait(
                    answered_briefly(generators.execute(pgconn), socket), socket
                )
                return _text_rows(_check(result, pq.ExecStatus.TUPLES_OK))
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


def answered_briefly(
    gen: PQGen[Answer], fileno: int, moment: float = BLOCKING_WAIT_SECONDS
) -> PQGen[Answer]:
    """psycopg's generator `gen`, its socket `fileno` first polled without yielding for at
    most `moment` seconds in all: what is left of it then is the caller's wait's (psycopg's,
    which yields under gevent), and none is left when the answer came within the moment."""
    deadline = time.monotonic() + moment
    try:
        wanted = next(gen)
        poller = _unpatched_poll()()
        poller.register(fileno, _POLL_EVENTS[wanted])
        while (left := deadline - time.monotonic()) > 0 and (
            events := poller.poll(max(1, round(left * 1000)))
        ):
            ready = _ready(events[0][1])
            if not ready:
                raise psycopg.OperationalError("the connection's socket was closed")
            wanted = gen.send(ready)
            poller.modify(fileno, _POLL_EVENTS[wanted])
    except StopIteration as done:
        answer: Answer = done.value
        return answer
    # psycopg's generators take a falsy 'ready' as 'not yet' at every step: sent None, `gen`
    # asks again for what it waits for.
    return (yield from gen)


_POLL_EVENTS = {
    waiting.Wait.R: select.POLLIN,
    waiting.Wait.W: select.POLLOUT,
    waiting.Wait.RW: select.POLLIN | select.POLLOUT,
}


def _ready(events: int) -> int:
    ready = waiting.Ready.R if events & select.POLLIN else waiting.Ready.NONE
    return ready | (waiting.Ready.W if events & select.POLLOUT else waiting.Ready.NONE)


def _unpatched_poll() -> Callable[[], Any]:
    """select.poll as the system has it: gevent's patched one would yield to the hub."""
    monkey = sys.modules.get("gevent.monkey")
    if monkey is not None and monkey.is_module_patched("select"):
        original: Callable[[], Any] = monkey.get_original("select", "poll")
        return original
    return select.poll


def _text_rows(result: pq.abc.PGresult) -> list[tuple[str | None, ...]]:
    return [
        tuple(
            None if value is None else value.decode()
            for value in (result.get_value(row, column) for column in range(result.nfields))
        )
        for row in range(result.ntuples)
    ]


def _check(result: pq.abc.PGresult, expected: pq.ExecStatus) -> pq.abc.PGresult:
    """libpq reports a failed statement in its result, not by raising: raise it here."""
    if result.status != expected:
        message = result.error_message.decode(errors="replace") or "no answer"
        raise psycopg.OperationalError(f"a lookup on the worker's own connection: {message}")
    return result
