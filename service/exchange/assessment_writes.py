"""Writing checked assessments in bulk (the assessment import's second half): the rows, their
sources, their `create` ChangeEvents, and the derived values they change, in one transaction.

On PostgreSQL the rows are copied in (COPY) and the derived values recomputed for all the
agreements touched at once (progress.bulk); elsewhere, or with COPY_ON_POSTGRESQL off, in
multi-row INSERTs and upkeep.refresh_progress an agreement at a time. Both end in the same
state with the same change events (tests/exchange/test_assessment_imports_bulk.py).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Integer,
    MetaData,
    String,
    Table,
    any_,
    bindparam,
    cast,
    func,
    insert,
    null,
    select,
    text,
)
from sqlalchemy import Enum as SQLEnum
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from service.agreements.models import Agreement
from service.assessments.models import StatusAssessment, assessment_sources
from service.changes.recording import json_value, record_shared_changes
from service.commitments.models import Commitment
from service.core import writes
from service.core.db import copy_rows, temporary_table
from service.core.vocabularies import ChangeOperation, EntityType
from service.exchange.csv_files import Progress
from service.progress import bulk, upkeep
from service.progress.rules import CommitmentState

# Rows inserted per statement: large enough to amortize the round trip, small enough to
# keep each statement's parameters bounded.
INSERT_BATCH = 5000
# The fast path: on PostgreSQL, COPY and the derived values recomputed set-wide. Off, the
# import takes the plain path of SQLite (the tests compare the two).
COPY_ON_POSTGRESQL = True
# New assessments a COPY stages, and recomputes at once: each statement of the bulk path
# stays well within a request's statement timeout (the command line's import runs under it).
COPY_CHUNK_ROWS = 50_000
# The columns the bulk path copies in (the others are derived or left empty).
COPIED_COLUMNS = (
    "id",
    "commitment_id",
    "status",
    "progress_pct",
    "as_of",
    "as_of_precision",
    "assessed_at",
    "assessor_kind",
    "assessor_organization_id",
    "confidence",
    "rationale",
    "meeting_id",
    "created_at",
)
# The bulk path's temporary tables: each different set of checked values (numbered), the
# sources each set cites, and the new rows of a chunk (an id, a commitment, a set's number).
_TEMPORARY = MetaData()
_CHECKED = Table(
    "checked_values",
    _TEMPORARY,
    Column("checked", Integer),
    # A vocabulary's text, without the table's CHECK (its values were checked).
    *(
        Column(name, String(32) if isinstance(column.type, SQLEnum) else column.type)
        for name, column in StatusAssessment.__table__.c.items()
        if name in COPIED_COLUMNS[2:]
    ),
    prefixes=["TEMPORARY"],
    postgresql_on_commit="DROP",
)
_CITED = Table(
    "cited_sources",
    _TEMPORARY,
    Column("checked", Integer),
    Column("source_id", Integer),
    prefixes=["TEMPORARY"],
    postgresql_on_commit="DROP",
)
_NEW_ROWS = Table(
    "new_rows",
    _TEMPORARY,
    Column("id", Integer),
    Column("commitment_id", Integer),
    Column("checked", Integer),
    prefixes=["TEMPORARY"],
    postgresql_on_commit="DROP",
)


def among(session: Session, column: Any, values: list[Any]) -> ColumnElement[bool]:
    """`column` IN `values`: on PostgreSQL as one array, where a parameter a value costs
    more to send and plan than the lookup itself."""
    if session.get_bind().dialect.name == "postgresql":
        condition: ColumnElement[bool] = column == any_(
            bindparam(None, values, type_=ARRAY(column.type))
        )
        return condition
    listed: ColumnElement[bool] = column.in_(values)
    return listed


def chunks(items: list[Any], size: int = 5000) -> Iterable[list[Any]]:
    """`items` in lists of `size` (a statement's worth of ids)."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def write_assessments(
    session: Session, rows: list[tuple[dict[str, Any], int]], on_row: Progress | None
) -> None:
    """Write the checked rows (each one's values and its commitment's id), their `create`
    events, and the derived values they change, in the session's transaction."""
    touched = {commitment_id for _, commitment_id in rows}
    # Lock the agreements first, in id order (as a single assessment's write does, one
    # agreement at a time): a concurrent writer waits for the import, never deadlocks with it.
    by_agreement: dict[int, set[int]] = defaultdict(set)
    for chunk in chunks(sorted(touched)):
        for commitment_id, agreement_id in session.execute(
            select(Commitment.id, Commitment.agreement_id).where(
                among(session, Commitment.id, chunk)
            )
        ):
            by_agreement[agreement_id].add(commitment_id)
    agreement_ids = list(
        session.scalars(
            select(Agreement.id)
            .where(Agreement.id.in_(sorted(by_agreement)))
            .order_by(Agreement.id)
            .with_for_update()
        )
    )
    if not rows:
        return
    created_at = datetime.now(UTC)
    ids = _new_ids(session, len(rows))
    if COPY_ON_POSTGRESQL and session.get_bind().dialect.name == "postgresql":
        states = _copy(session, rows, ids, created_at, on_row)
        _record_creations(session, rows, ids, created_at)
        bulk.refresh_agreements(session, agreement_ids, states)
        return
    for start in range(0, len(rows), INSERT_BATCH):
        batch, batch_ids = rows[start : start + INSERT_BATCH], ids[start : start + INSERT_BATCH]
        records = [
            {**_record(values, created_at), "id": new_id, "commitment_id": commitment_id}
            for new_id, (values, commitment_id) in zip(batch_ids, batch, strict=True)
        ]
        session.execute(insert(StatusAssessment), records)
        links = [
            {"assessment_id": new_id, "source_id": source_id}
            for new_id, (values, _) in zip(batch_ids, batch, strict=True)
            for source_id in values.get("source_ids", [])
        ]
        if links:
            session.execute(insert(assessment_sources), links)
        if on_row is not None:
            on_row(len(batch))
    _record_creations(session, rows, ids, created_at)
    agreement_of = {
        commitment_id: agreement_id
        for agreement_id, commitment_ids in by_agreement.items()
        for commitment_id in commitment_ids
    }
    new_ids: dict[int, list[int]] = defaultdict(list)
    for new_id, (_values, commitment_id) in zip(ids, rows, strict=True):
        new_ids[agreement_of[commitment_id]].append(new_id)
    for agreement_id in agreement_ids:
        upkeep.refresh_progress(
            session,
            agreement_id,
            reassessed_ids=by_agreement[agreement_id],
            new_assessment_ids=new_ids[agreement_id],
        )


def _copy(
    session: Session,
    rows: list[tuple[dict[str, Any], int]],
    ids: list[int],
    created_at: datetime,
    on_row: Progress | None,
) -> dict[int, CommitmentState]:
    """The bulk path's writes; the new state of each commitment. Each set of checked values
    is copied in once (rows with the same cells share one), each row as its id, its
    commitment and the number of its values; then, a chunk of commitments at a time, the
    rows are joined with their values into the history (bulk.append_assessments), and
    with their sources."""
    connection = session.connection()
    # Room for the sorts of a chunk's statements (a chunk's history, its new rows in id
    # order), which the default spills to disk; for this transaction only.
    connection.execute(text("SET LOCAL work_mem = '64MB'"))
    numbers: dict[int, int] = {}
    shared: list[dict[str, Any]] = []
    for values, _ in rows:
        if id(values) not in numbers:
            numbers[id(values)] = len(shared)
            shared.append(values)
    checked = temporary_table(connection, _CHECKED)
    copy_rows(
        connection,
        checked.name,
        ("checked", *COPIED_COLUMNS[2:]),
        ((number, *_copied(values, created_at)) for number, values in enumerate(shared)),
    )
    cited = temporary_table(connection, _CITED)
    copy_rows(
        connection,
        cited.name,
        ("checked", "source_id"),
        (
            (number, source_id)
            for number, values in enumerate(shared)
            for source_id in values.get("source_ids", [])
        ),
    )
    new_rows = _NEW_ROWS
    new = select(
        new_rows.c.id,
        new_rows.c.commitment_id,
        *(checked.c[name] for name in COPIED_COLUMNS[2:]),
        cast(null(), Integer).label("supersedes_id"),
    ).join_from(new_rows, checked, checked.c.checked == new_rows.c.checked)
    states: dict[int, CommitmentState] = {}
    for chunk in _by_commitment(rows):
        temporary_table(connection, new_rows)
        copy_rows(
            connection,
            new_rows.name,
            ("id", "commitment_id", "checked"),
            ((ids[index], rows[index][1], numbers[id(rows[index][0])]) for index in chunk),
        )
        commitment_ids = sorted({rows[index][1] for index in chunk})
        states.update(bulk.append_assessments(connection, new, commitment_ids))
        connection.execute(
            insert(assessment_sources).from_select(
                ["assessment_id", "source_id"],
                select(new_rows.c.id, cited.c.source_id).join_from(
                    new_rows, cited, cited.c.checked == new_rows.c.checked
                ),
            )
        )
        if on_row is not None:
            on_row(len(chunk))
    return states


def _by_commitment(rows: list[tuple[dict[str, Any], int]]) -> Iterable[list[int]]:
    """The rows' indexes in chunks of about COPY_CHUNK_ROWS, a commitment's rows all in one
    chunk (its effective progress runs through all its assessments)."""
    order = sorted(range(len(rows)), key=lambda index: rows[index][1])
    chunk: list[int] = []
    for index in order:
        if len(chunk) >= COPY_CHUNK_ROWS and rows[chunk[-1]][1] != rows[index][1]:
            yield chunk
            chunk = []
        chunk.append(index)
    if chunk:
        yield chunk


def _copied(values: dict[str, Any], created_at: datetime) -> tuple[Any, ...]:
    """The columns of an assessment its checked values give (COPIED_COLUMNS after id and
    commitment_id), as COPY takes them."""
    record = _record(values, created_at)
    return tuple(_plain(record.get(_ATTRIBUTES.get(name, name))) for name in COPIED_COLUMNS[2:])


# The mapped attribute of each copied column whose name differs.
_ATTRIBUTES = {"as_of": "as_of_value"}


def _plain(value: Any) -> Any:
    """A value as COPY takes it: a vocabulary's member as its text."""
    return value.value if isinstance(value, Enum) else value


def _record_creations(
    session: Session, rows: list[tuple[dict[str, Any], int]], ids: list[int], created_at: datetime
) -> None:
    """Queue the API's `create` event (the record's fields and its sources) for each new
    assessment, in the file's order. The fields of rows with the same cells differ only in
    the ids: each set is built once, and each event is its ids and the set's number."""
    numbers: dict[int, int] = {}
    shared: list[dict[str, Any]] = []
    events: list[tuple[int, int, tuple[int, ...]]] = []
    for new_id, (values, commitment_id) in zip(ids, rows, strict=True):
        number = numbers.get(id(values))
        if number is None:
            number = numbers[id(values)] = len(shared)
            record = {**_record(values, created_at), "as_of": values["as_of"]}
            shared.append(
                {
                    **writes.row_snapshot(StatusAssessment, record),
                    "source_ids": json_value(values.get("source_ids", [])),
                }
            )
        events.append((new_id, number, (new_id, commitment_id)))
    record_shared_changes(
        session,
        EntityType.ASSESSMENT,
        ChangeOperation.CREATE,
        shared=shared,
        varying=("id", "commitment_id"),
        events=events,
    )


def _new_ids(session: Session, count: int) -> list[int]:
    """Ids for `count` new assessments, taken before the INSERT: an INSERT ... RETURNING of
    thousands of rows, in parameter order, costs SQLAlchemy more than the insert itself."""
    if session.get_bind().dialect.name == "postgresql":
        return list(
            session.scalars(
                # The sequence looked up once (a function a row would look it up a row).
                text(
                    "WITH sequence AS MATERIALIZED (SELECT"
                    " pg_get_serial_sequence('status_assessments', 'id')::regclass AS id)"
                    " SELECT nextval(sequence.id) FROM sequence, generate_series(1, :count)"
                ),
                {"count": count},
            )
        )
    # SQLite: a write transaction holds the database's write lock, so no one else takes these.
    last = session.scalar(select(func.max(StatusAssessment.id))) or 0
    return list(range(last + 1, last + 1 + count))


def _record(values: dict[str, Any], created_at: datetime) -> dict[str, Any]:
    """The row to insert: the mapped attributes of a StatusAssessment."""
    record = {
        key: value
        for key, value in values.items()
        if key not in {"as_of", "source_ids", "supersedes_id"}
    }
    record["as_of_value"] = values["as_of"].value
    record["as_of_precision"] = values["as_of"].precision
    record["created_at"] = created_at
    record.setdefault("assessed_at", created_at)
    return record
