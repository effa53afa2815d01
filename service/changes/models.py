from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String, func
from sqlalchemy.dialects.postgresql.base import ischema_names
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import UserDefinedType

from service.core.db import Base, utcnow, vocabulary
from service.core.vocabularies import ChangeOperation, EntityType


class ChangeEvent(Base):
    """One committed change. Written in the same transaction as the change itself: it is the
    audit trail, the `/changes` feed and the webhook outbox."""

    __tablename__ = "change_events"
    __table_args__ = (Index("ix_change_events_entity_entity_id", "entity", "entity_id"),)

    # BIGINT on PostgreSQL; SQLite only autoincrements an INTEGER PRIMARY KEY.
    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Who made the change: the API key's name and id ("seed" and null for the seed loader).
    actor: Mapped[str | None] = mapped_column(String(200))
    actor_key_id: Mapped[int | None] = mapped_column(index=True)
    entity: Mapped[EntityType] = mapped_column(vocabulary(EntityType, "entity"))
    entity_id: Mapped[int] = mapped_column()
    op: Mapped[ChangeOperation] = mapped_column(vocabulary(ChangeOperation, "op"))
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The id the request went by (the client's X-Request-ID, when well-formed), and the one
    # the service gave it: a client may reuse an id, the service never does.
    request_id: Mapped[str | None] = mapped_column(String(100))
    service_request_id: Mapped[str | None] = mapped_column(String(100))


# A fence is live while its bulk write may still commit, as seen by the statement that asks:
# its writer has not aborted, and its commit (if any) is not in the statement's snapshot.
# `pg_xact_status` alone will not do: it tells of a commit after the snapshot was taken,
# and a reader trusting it would skip the block it cannot yet see. Evaluated in the same
# statement as the events it guards, so that both are read under one snapshot.
LIVE_FENCE = (
    "NOT pg_visible_in_snapshot(xid, pg_current_snapshot())"
    " AND pg_xact_status(xid) IS DISTINCT FROM 'aborted'"
)


class XID8(UserDefinedType[int]):
    """PostgreSQL's 64-bit transaction id (`pg_current_xact_id()`)."""

    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        return "XID8"


# So that reflecting the table (autogenerate's comparison) knows the type.
ischema_names.setdefault("xid8", XID8)


class ChangeFeedFence(Base):
    """A block of `seq`s reserved by a bulk write still in progress (PostgreSQL only; on
    SQLite one writer at a time already keeps `seq` order commit order, and the table stays
    empty). The block is taken, and this row committed, in a short transaction of its own
    under the feed's lock; the bulk write then inserts its events without the lock and
    deletes this row in its own transaction, so the row disappears exactly when the events
    appear. Until then readers of the feed stop below `first_seq` (service/changes)."""

    __tablename__ = "change_feed_fences"

    first_seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    last_seq: Mapped[int] = mapped_column(BigInteger)
    # The bulk write's transaction: once it has aborted, its fence is dead.
    xid: Mapped[int] = mapped_column(XID8().with_variant(BigInteger(), "sqlite"))
    created_at: Mapped[datetime] = mapped_column(server_default=func.current_timestamp())
