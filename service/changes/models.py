from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, utcnow, vocabulary
from service.vocabularies import ChangeOperation, EntityType


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
