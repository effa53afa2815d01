from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.core.db import Base, utcnow


class IdempotencyKey(Base):
    """A client's Idempotency-Key and the first response given for it.

    The row is claimed (committed, no response yet) before the request runs, so a concurrent
    request with the same key sees it and is refused; the response is stored when it is a
    success, and replayed for every later request with the key until `expires_at`.
    """

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("scope", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Whose key it is: clients cannot see or collide with each other's keys.
    scope: Mapped[str] = mapped_column(String(100), default="")
    key: Mapped[str] = mapped_column(String(255))
    # The method, path and body of the first request, hashed.
    fingerprint: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_headers: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary)
