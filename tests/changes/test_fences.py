"""A bulk write on PostgreSQL holds the feed's lock only to reserve its block of `seq`s,
behind a fence; it inserts its events without the lock. Meanwhile other writes go on, and
every reader of the feed (a follower with `after`, the head watcher, the webhook fan-out,
the read cache) stops below the fence, so that none skips the block when it commits."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Engine, delete, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from service.changes.models import ChangeEvent, ChangeFeedFence
from service.changes.recording import BULK_CHANGES, RecordId, record_change, write_pending_changes
from service.changes.services import list_changes, read_head
from service.core.pagination import PageRequest
from service.core.vocabularies import ChangeOperation, EntityType
from service.webhooks.models import WebhookDelivery, WebhookSubscription
from service.webhooks.services import DeliverySettings, create_webhook, fan_out
from tests.conftest import make_app

pytestmark = pytest.mark.postgres_only

PROBE = {"probe": ["fences", "test"]}


@dataclass
class Feed:
    """An app on a pool of its own whose sessions commit for real (the events are removed
    at the end), and the head of the feed before the test wrote."""

    app: Flask
    factory: sessionmaker[Session]
    engine: Engine
    start: int

    def follow(self, session: Session | None = None) -> list[int]:
        """The seqs a follower with `after=start` is given now (one page)."""
        if session is not None:
            return [e.seq for e in _page(session, self.start)]
        with self.factory() as reader:
            return [e.seq for e in _page(reader, self.start)]

    def fences(self) -> list[int]:
        with self.factory() as reader:
            return list(reader.scalars(select(ChangeFeedFence.first_seq)))


def _page(session: Session, after: int) -> list[ChangeEvent]:
    return list(
        list_changes(session, page=PageRequest(after=after, size=100_000), filters={}).items
    )


@pytest.fixture
def feed(database_url: str, engine: Engine) -> Iterator[Feed]:
    app = make_app(database_url, speedups=True)
    database = app.extensions["database"]
    with database.session_factory() as session:
        start = session.scalar(select(func.coalesce(func.max(ChangeEvent.seq), 0)))
    yield Feed(app, database.session_factory, database.engine, start)
    with database.session_factory() as cleaner:
        cleaner.execute(delete(ChangeEvent).where(ChangeEvent.seq > start))
        cleaner.execute(delete(WebhookDelivery))
        cleaner.execute(delete(WebhookSubscription))
        cleaner.execute(delete(ChangeFeedFence))
        cleaner.commit()
    database.engine.dispose()


def _queue(session: Session, count: int, entity_id: int = 1) -> None:
    for _ in range(count):
        record_change(
            session, RecordId(entity_id), EntityType.AGREEMENT, ChangeOperation.UPDATE, PROBE
        )


def _small_write(feed: Feed, entity_id: int = 2) -> tuple[int, float]:
    """Commit one event from a thread of its own (a write that waited for a lock forever
    would hang the test); answer its seq and how long the commit took."""
    done: dict[str, Any] = {}

    def write() -> None:
        with feed.factory() as session:
            session.connection().execute(text("SET lock_timeout = '5s'"))
            _queue(session, 1, entity_id)
            started = time.monotonic()
            session.commit()
            done["took"] = time.monotonic() - started
            done["seq"] = session.scalar(
                select(func.max(ChangeEvent.seq)).where(ChangeEvent.entity_id == entity_id)
            )

    writer = threading.Thread(target=write)
    writer.start()
    writer.join(timeout=15)
    assert "seq" in done, "the small write did not commit"
    return done["seq"], done["took"]


def _fenced(feed: Feed, count: int) -> Session:
    """A session whose `count` events are in, behind their fence, not yet committed."""
    bulk = feed.factory()
    _queue(bulk, count)
    write_pending_changes(bulk)
    return bulk


def test_a_follower_sees_nothing_past_a_fence_until_the_bulk_write_commits(feed: Feed) -> None:
    reached = threading.Event()
    go_on = threading.Event()
    errors: list[BaseException] = []

    def bulk_write() -> None:
        # The real commit path: paused after the events are in, before the commit.
        try:
            with feed.factory() as bulk:
                _queue(bulk, BULK_CHANGES)
                write_pending_changes(bulk)
                reached.set()
                assert go_on.wait(30)
                bulk.commit()
        except BaseException as error:  # reported by the test's own thread
            errors.append(error)
            reached.set()

    writer = threading.Thread(target=bulk_write)
    writer.start()
    try:
        assert reached.wait(30) and not errors
        [fence] = feed.fences()
        small, _took = _small_write(feed)
        assert small == fence + BULK_CHANGES  # after the block
        assert feed.follow() == []
        assert read_head(feed.engine) == (feed.start or None)
    finally:
        go_on.set()
        writer.join(timeout=30)
    assert not errors
    assert feed.follow() == list(range(fence, small + 1))
    assert read_head(feed.engine) == small
    assert feed.fences() == []  # lifted with the commit


def test_a_snapshot_taken_before_the_bulk_commit_still_stops_at_the_fence(feed: Feed) -> None:
    bulk = _fenced(feed, BULK_CHANGES)
    [fence] = feed.fences()
    small, _took = _small_write(feed)
    with feed.factory() as reader:
        reader.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        reader.execute(select(1))  # the snapshot: the small write in, the block not
        bulk.commit()
        bulk.close()
        # The bulk write has committed, but not in this snapshot: a reader going by the
        # writer's status alone would be given the small write and skip the block.
        assert feed.follow(reader) == []
    assert feed.follow() == list(range(fence, small + 1))


def test_an_aborted_bulk_write_leaves_no_cap_and_the_next_fence_clears_its_own(
    feed: Feed,
) -> None:
    bulk = _fenced(feed, BULK_CHANGES)
    [dead] = feed.fences()
    small, _took = _small_write(feed)
    assert feed.follow() == []
    bulk.rollback()
    bulk.close()
    assert feed.follow() == [small]
    assert read_head(feed.engine) == small
    assert feed.fences() == [dead]  # dead, ignored, still there

    with feed.factory() as next_bulk:
        _queue(next_bulk, BULK_CHANGES)
        next_bulk.commit()
    assert feed.fences() == []
    seen = feed.follow()
    assert seen == [small, *range(small + 1, small + BULK_CHANGES + 1)]


def test_a_small_write_is_not_held_up_by_a_large_fenced_write(feed: Feed) -> None:
    reached = threading.Event()
    finished = threading.Event()
    errors: list[BaseException] = []
    took: list[float] = []

    def large_write() -> None:
        try:
            with feed.factory() as bulk:
                _queue(bulk, 200_000)
                reached.set()
                bulk.commit()
        except BaseException as error:
            errors.append(error)
        finally:
            reached.set()
            finished.set()

    writer = threading.Thread(target=large_write)
    writer.start()
    try:
        assert reached.wait(60)
        # Small writes one after the other for as long as the large one runs its commit.
        while not finished.is_set():
            _seq, commit_time = _small_write(feed, entity_id=3)
            took.append(commit_time)
    finally:
        writer.join(timeout=120)
    assert not errors
    assert took and max(took) < 1.0, took
    with feed.factory() as reader:
        seqs = list(
            reader.scalars(
                select(ChangeEvent.seq)
                .where(ChangeEvent.seq > feed.start)
                .order_by(ChangeEvent.seq)
            )
        )
    assert len(seqs) == 200_000 + len(took)
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))


def test_the_read_cache_keeps_no_answer_during_a_fence(feed: Feed) -> None:
    cache = feed.app.extensions["read_cache"]
    path = "/api/v1/stats/summary"
    with feed.app.test_client() as client:
        bulk = _fenced(feed, BULK_CHANGES)
        try:
            _small_write(feed)  # the head moves above the block
            assert client.get(path).status_code == 200
            assert len(cache) == 0
            bulk.commit()
        finally:
            bulk.close()
        assert client.get(path).status_code == 200
        assert len(cache) == 1


def test_the_webhook_fan_out_never_skips_a_fenced_block(feed: Feed) -> None:
    bulk = _fenced(feed, BULK_CHANGES)
    [fence] = feed.fences()
    try:
        small, _took = _small_write(feed)
        with feed.factory() as session:
            # Made during the fence, it starts below it: it hears of the block too.
            subscription = create_webhook(
                session,
                data={
                    "url": "http://127.0.0.1:9/policy",
                    "secret": "s" * 32,
                    "event_types": ["agreement.updated"],
                },
                settings=DeliverySettings(allow_private_targets=True),
            )
            assert subscription.last_seq == feed.start
        with feed.factory() as worker:
            assert fan_out(worker, batch=10_000) == 0
        bulk.commit()
    finally:
        bulk.close()
    with feed.factory() as worker:
        assert fan_out(worker, batch=10_000) == BULK_CHANGES + 1
        delivered = list(
            worker.scalars(select(WebhookDelivery.change_seq).order_by(WebhookDelivery.id))
        )
    assert delivered == list(range(fence, small + 1))
