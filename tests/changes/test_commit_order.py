"""On PostgreSQL a change's `seq` is taken under a lock held to commit (or, for a bulk write,
behind a fence that readers stop at): a writer that commits later can never hold a lower
`seq` than one a reader has already seen."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import delete, select

from service.changes.models import ChangeEvent
from service.changes.recording import BULK_CHANGES, RecordId, record_change, write_pending_changes
from service.core.vocabularies import ChangeOperation, EntityType
from tests.conftest import make_app


@pytest.mark.postgres_only
@pytest.mark.parametrize("events", [1, BULK_CHANGES], ids=["small", "bulk"])
def test_a_writer_that_commits_later_gets_a_later_seq(
    database_url: str, engine: object, events: int
) -> None:
    # Sessions on a pool of their own, committing for real (the rows are removed at the end).
    app = make_app(database_url)
    factory = app.extensions["database"].session_factory
    first, second = factory(), factory()
    marker = {"probe": ["commit-order", "test"]}
    try:
        for _ in range(events):
            record_change(first, RecordId(1), EntityType.AGREEMENT, ChangeOperation.UPDATE, marker)
        write_pending_changes(first)  # its events are in, its seq taken; not committed yet
        committed = threading.Event()

        def commit_second() -> None:
            record_change(second, RecordId(2), EntityType.AGREEMENT, ChangeOperation.UPDATE, marker)
            second.commit()
            committed.set()

        writer = threading.Thread(target=commit_second)
        writer.start()
        if events == 1:
            # The second writer waits for the first to commit: a reader could not see its
            # seq and later find the first's lower one appear behind it.
            assert not committed.wait(1.5)
        else:
            # A bulk write fenced its block and holds no lock: the second commits at once,
            # after the block, and readers stop below the fence meanwhile
            # (tests/changes/test_fences.py).
            assert committed.wait(10)
        first.commit()
        assert committed.wait(10)
        writer.join(timeout=10)
        with factory() as reader:
            seqs = reader.execute(
                select(ChangeEvent.entity_id, ChangeEvent.seq)
                .where(ChangeEvent.changes["probe"].is_not(None))
                .order_by(ChangeEvent.seq)
            ).all()
        assert [entity_id for entity_id, _seq in seqs] == [1] * events + [2]
    finally:
        first.close()
        second.close()
        with factory() as cleaner:
            cleaner.execute(delete(ChangeEvent).where(ChangeEvent.changes["probe"].is_not(None)))
            cleaner.commit()
        app.extensions["database"].engine.dispose()
