from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from service.core.db import Base, utcnow, vocabulary
from service.core.vocabularies import Role


class ApiKey(Base):
    """A key a client presents as `Authorization: Bearer <key>`.

    Only a hash of the key is stored; the key itself is shown once, when it is made. The
    prefix is not secret: it tells keys apart in lists and logs, and finds the row.
    """

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    role: Mapped[Role] = mapped_column(vocabulary(Role, "role"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
