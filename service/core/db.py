"""Engine, sessions and the declarative base shared by every model."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import psycopg
from sqlalchemy import (
    Connection,
    DateTime,
    Engine,
    Enum,
    Index,
    MetaData,
    Table,
    create_engine,
    event,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.schema import CreateTable
from sqlalchemy.types import TypeDecorator

# Named constraints make Alembic migrations reversible and diffs stable on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always timezone-aware UTC, SQLite included (which drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass an aware UTC datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}


class RecordColumns:
    """Columns every addressable record has: an id, its timestamps and a soft-delete mark."""

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)


# Execution option of a connection that will write: on SQLite it begins with BEGIN IMMEDIATE.
WRITE_TRANSACTION = "policy_tracker_write"


def begin_write(session: Any) -> None:
    """Start the session's transaction as a write: on SQLite it takes the write lock at once,
    so that what it reads cannot change before it writes. A no-op on PostgreSQL, and when the
    session's transaction has already begun."""
    if not session.in_transaction():
        session.connection(execution_options={WRITE_TRANSACTION: True})


@contextmanager
def pipelined(connection: Connection) -> Iterator[None]:
    """On PostgreSQL, send the block's statements without waiting for each one's answer
    (psycopg's pipeline mode): they cost one round trip together. Only for statements whose
    results are not read: SQLAlchemy sees no rows from a query sent in a pipeline. A failure
    surfaces at the end of the block at the latest, as SQLAlchemy's error (an
    IntegrityError, an OperationalError), as it would without the pipeline."""
    if connection.dialect.name != "postgresql":
        yield
        return
    driver = connection.connection.driver_connection
    try:
        with driver.pipeline():  # type: ignore[union-attr]
            yield
    except psycopg.Error as error:
        raise DBAPIError.instance(None, None, error, psycopg.Error) from error


def copy_rows(
    connection: Connection, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """COPY `rows` (values in the order of `columns`) into `table`, on PostgreSQL, in the
    connection's transaction: one statement, where an INSERT of many rows is a statement a
    row on the wire (psycopg's executemany). A failure is SQLAlchemy's error, as any other
    statement's would be (an outage then answers 503, not 500)."""
    driver = connection.connection.driver_connection
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    try:
        with driver.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[union-attr]
            for row in rows:
                copy.write_row(row)
    except psycopg.Error as error:
        raise DBAPIError.instance(None, None, error, psycopg.Error) from error


def temporary_table(connection: Connection, table: Table) -> Table:
    """`table`, declared TEMPORARY (ON COMMIT DROP on PostgreSQL), created empty in the
    connection's transaction, or emptied when the transaction has it already (a second
    import in a test's transaction)."""
    made = connection.scalar(text("SELECT to_regclass(:name)"), {"name": f"pg_temp.{table.name}"})
    if made is None:
        connection.execute(CreateTable(table))
    else:
        connection.execute(text(f"TRUNCATE {table.name}"))
    return table


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # Let SQLAlchemy emit BEGIN itself so that SAVEPOINTs work (pysqlite otherwise
        # manages transactions on its own and breaks nested ones).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Any) -> None:
        # A write takes SQLite's write lock up front: two writers that both began by reading
        # would otherwise deadlock, and SQLite fails one at once instead of waiting.
        immediate = connection.get_execution_options().get(WRITE_TRANSACTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_engine(url: str, *, statement_timeout_ms: int = 0) -> Engine:
    # A statement's parameters are the clients' data: an error's text (and so the log)
    # names the statement, never them.
    if url.startswith("sqlite"):
        engine = create_engine(url, hide_parameters=True)
        _configure_sqlite(engine)
        return engine
    # No JIT compilation: the statistics' statements look costly to the planner (it cannot
    # know how many months a span covers), and compiling them took seconds where running
    # them took a fraction of one (docs/benchmarks.md). The service runs no query that JIT
    # would pay off for.
    options = ["-c jit=off"]
    if statement_timeout_ms:
        options.append(f"-c statement_timeout={statement_timeout_ms}")
    connect_args: dict[str, Any] = {"options": " ".join(options)}
    return create_engine(
        url,
        hide_parameters=True,
        connect_args=connect_args,
        pool_size=5,
        max_overflow=5,
        pool_timeout=10,
        # No ping before each checkout: it cost a round trip on every request, a cached
        # read's included. A connection a database restart broke fails its request with a
        # 503 (Retry-After) instead, and SQLAlchemy then discards the connections of the pool
        # opened before the failure rather than failing on each in turn
        # (tests/contract/test_database_outage.py).
        pool_pre_ping=False,
    )


class Database:
    """The engine and the session factory of one application."""

    def __init__(self, url: str, *, statement_timeout_ms: int = 0) -> None:
        self.engine = make_engine(url, statement_timeout_ms=statement_timeout_ms)
        self.session_factory = sessionmaker(bind=self.engine, expire_on_commit=False)

    @property
    def is_postgresql(self) -> bool:
        return self.engine.dialect.name == "postgresql"


def read_in_autocommit(session: Session) -> None:
    """On PostgreSQL, run a session's statements in autocommit, each reading committed data
    (or writing at once): no BEGIN and no ROLLBACK round trips. And no ROLLBACK at all,
    which matters more: psycopg forgets every statement it prepared on the connection at a
    rollback, so a read that ended in one left its pooled connection to parse and plan every
    statement again (docs/benchmarks.md). Once the session has begun, it stays as it is.
    (The pool restores the isolation level when the connection goes back. A session bound
    to a connection, as in the tests, keeps that connection's transaction.)"""
    bind = session.bind
    if (
        isinstance(bind, Engine)
        and bind.dialect.name == "postgresql"
        and not session.in_transaction()
    ):
        session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


def vocabulary(enum_class: type[Any], name: str) -> Enum:
    """A column type for a closed vocabulary: stored as its string value, checked by the database."""
    return Enum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


def live_unique_index(table_name: str, *columns: str) -> Index:
    """A unique index over the rows that are not soft-deleted, so a deleted slug can be reused."""
    live = text("deleted_at IS NULL")
    return Index(
        f"uq_{table_name}_{'_'.join(columns)}_live",
        *columns,
        unique=True,
        postgresql_where=live,
        sqlite_where=live,
    )
