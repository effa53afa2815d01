from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from service.core.db import Base, utcnow, vocabulary
from service.core.vocabularies import EntityType


class SeedRecord(Base):
    """Which record the seed loader made for one record of the seed files.

    The key names the record as the files do (`agreement/<slug>`,
    `commitment/<external_id>/assessment/<as_of>`), so the record is found again after a
    user renamed it, and a correction to the files reaches the record it was made from.
    Its rows also say that this database has been seeded: a later start writes nothing.
    """

    __tablename__ = "seed_records"
    __table_args__ = (Index("ix_seed_records_entity_entity_id", "entity", "entity_id"),)

    seed_key: Mapped[str] = mapped_column(String(500), primary_key=True)
    entity: Mapped[EntityType] = mapped_column(vocabulary(EntityType, "entity"))
    entity_id: Mapped[int] = mapped_column()
    seeded_at: Mapped[datetime] = mapped_column(default=utcnow)
