"""A write queuing many change events (a bulk import) takes its block of `seq`s behind a
fence on PostgreSQL and COPYs them without the feed's lock: the rows stored are the ones the
single INSERT of a small write stores, in queue order, with contiguous `seq`s. SQLite keeps
the single INSERT. (tests/changes/test_fences.py: what readers see meanwhile.)"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Text, cast, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.changes import recording as changes
from service.changes.models import ChangeEvent
from service.changes.recording import BULK_CHANGES, RecordId, record_change
from service.core.dates import PartialDate
from service.core.vocabularies import ChangeOperation, EntityType, ImplementationStatus
from tests.conftest import StatementLog

# Values whose JSON encoding could differ between two encoders: non-ASCII text, quotes and
# a backslash, a float, nesting, a null, and values json_value turns into strings.
CHANGES: dict[str, Any] = {
    "status": ImplementationStatus.ADVANCED,
    "as_of": PartialDate.parse("2025-06"),
    "summary": 'Coopération « franco-indienne » — "quoted" \\ back\tslash',
    "progress_pct": 37.5,
    "source_ids": [1, 2],
    "nested": {"a": [None, True]},
}


def _write(session: Session, count: int) -> list[tuple[Any, ...]]:
    """Queue `count` events (entity ids 1..count) in one transaction; return what is stored."""
    head = session.scalar(select(func.coalesce(func.max(ChangeEvent.seq), 0)))
    session.info.update(
        actor="bulk writer",
        actor_key_id=7,
        request_id="client-request",
        service_request_id="service-request",
    )
    for entity_id in range(1, count + 1):
        record_change(
            session, RecordId(entity_id), EntityType.ASSESSMENT, ChangeOperation.CREATE, CHANGES
        )
    session.commit()
    return list(
        session.execute(
            select(
                ChangeEvent.seq,
                ChangeEvent.occurred_at,
                ChangeEvent.actor,
                ChangeEvent.actor_key_id,
                ChangeEvent.entity,
                ChangeEvent.entity_id,
                ChangeEvent.op,
                ChangeEvent.changes,
                # What the database holds, byte for byte (PostgreSQL's json keeps the text).
                cast(ChangeEvent.changes, Text).label("stored_changes"),
                ChangeEvent.request_id,
                ChangeEvent.service_request_id,
            )
            .where(ChangeEvent.seq > head)
            .order_by(ChangeEvent.seq)
        )
    )


def _content(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """A stored event without its seq, its time and its entity id."""
    return (*row[2:5], *row[6:])


# A bulk write fences its block; one in a transaction that took the feed's lock for a
# small write before (a caller's savepoints) takes its block directly.
@pytest.mark.parametrize("small_first", [False, True], ids=["fenced", "under-the-lock"])
def test_a_bulk_write_stores_what_a_small_write_stores(
    session: Session, sql: StatementLog, is_postgresql: bool, small_first: bool
) -> None:
    if small_first:
        small = _write(session, 2)
    with sql:
        bulk = _write(session, BULK_CHANGES + 3)
    if not small_first:
        small = _write(session, 2)

    assert len(bulk) == BULK_CHANGES + 3
    first = bulk[0][0]
    assert [row[0] for row in bulk] == list(range(first, first + len(bulk)))
    assert [row[5] for row in bulk] == list(range(1, len(bulk) + 1))
    assert all(_content(row) == _content(small[0]) for row in bulk)
    assert _content(small[1]) == _content(small[0])
    assert _content(small[0]) == (
        "bulk writer",
        7,
        EntityType.ASSESSMENT,
        ChangeOperation.CREATE,
        {
            "status": "advanced",
            "as_of": "2025-06",
            "summary": CHANGES["summary"],
            "progress_pct": 37.5,
            "source_ids": [1, 2],
            "nested": {"a": [None, True]},
        },
        small[0][8],
        "client-request",
        "service-request",
    )
    assert len({row[1] for row in bulk}) == 1
    assert bulk[0][1].utcoffset() is not None
    # On PostgreSQL the events go by COPY (which the log does not see), and the write lifts
    # its fence in its own transaction; SQLite keeps the single INSERT.
    inserts = [s for s in sql.statements if s.startswith("INSERT INTO change_events")]
    lifted = [s for s in sql.statements if s.startswith("DELETE FROM change_feed_fences")]
    if is_postgresql:
        assert (len(inserts), len(lifted)) == (0, 0 if small_first else 1)
    else:
        assert inserts and not lifted


def test_seqs_go_on_after_a_bulk_write(session: Session, sql: StatementLog) -> None:
    written = _write(session, BULK_CHANGES) + _write(session, BULK_CHANGES) + _write(session, 1)

    first = written[0][0]
    assert [row[0] for row in written] == list(range(first, first + 2 * BULK_CHANGES + 1))


def test_a_small_write_keeps_the_single_insert(session: Session, sql: StatementLog) -> None:
    with sql:
        _write(session, BULK_CHANGES - 1)

    inserts = [s for s in sql.statements if s.startswith("INSERT INTO change_events")]
    assert len(inserts) == 1
    assert not inserts[0].startswith("INSERT INTO change_events (seq,")
    assert not any("change_feed_fences" in s for s in sql.statements)


@pytest.mark.postgres_only
def test_a_failed_copy_is_sqlalchemys_error(session: Session) -> None:
    for entity_id in [*range(1, BULK_CHANGES), None]:
        record_change(
            session, RecordId(entity_id), EntityType.ASSESSMENT, ChangeOperation.CREATE, {}
        )
    with pytest.raises(IntegrityError):
        session.commit()
    session.rollback()


def test_a_bulk_write_copies_in_chunks(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(changes, "_COPY_CHUNK", 300)
    written = _write(session, BULK_CHANGES + 1)

    first = written[0][0]
    assert [row[0] for row in written] == list(range(first, first + BULK_CHANGES + 1))
    assert [row[5] for row in written] == list(range(1, BULK_CHANGES + 2))
