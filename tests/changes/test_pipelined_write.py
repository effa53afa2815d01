"""The change events go to PostgreSQL with the feed's lock in one round trip (a pipeline):
a failure there is still SQLAlchemy's error, so a duplicate is a 409 and an outage a 503."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, insert
from sqlalchemy.exc import IntegrityError

from service.changes.recording import CHANGE_EVENTS
from service.core.db import pipelined, utcnow
from service.core.vocabularies import ChangeOperation, EntityType

EVENT = {
    "seq": 987_654_321,
    "occurred_at": utcnow(),
    "entity": EntityType.AGREEMENT,
    "entity_id": 1,
    "op": ChangeOperation.UPDATE,
    "changes": {},
}


def test_a_failure_in_a_pipeline_is_sqlalchemys_error(connection: Connection) -> None:
    savepoint = connection.begin_nested()
    with pytest.raises(IntegrityError), pipelined(connection):
        connection.execute(insert(CHANGE_EVENTS).inline(), [EVENT])
        connection.execute(insert(CHANGE_EVENTS).inline(), [EVENT])  # the same seq
    savepoint.rollback()


def test_what_a_pipeline_sends_is_written(connection: Connection) -> None:
    savepoint = connection.begin_nested()
    with pipelined(connection):
        connection.execute(insert(CHANGE_EVENTS).inline(), [EVENT])
    written = connection.execute(
        CHANGE_EVENTS.select().where(CHANGE_EVENTS.c.seq == EVENT["seq"])
    ).all()
    savepoint.rollback()
    assert len(written) == 1
