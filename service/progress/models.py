"""What the progress engine keeps besides the commitments' own derived columns: the tallies
the statistics read instead of the commitments (progress.tallies keeps them)."""

from __future__ import annotations

from sqlalchemy import Float, ForeignKey, Index, Integer
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, vocabulary
from service.vocabularies import ImplementationStatus

# The theme key of a tally over every commitment of an agreement, whatever its themes.
EVERY_THEME = 0


class ProgressTally(Base):
    """An agreement's live commitments in one status, within one scope of its tree: all of
    them (theme_id = EVERY_THEME), or those filed under a theme or one below it. With the
    known weight and the weighted progress of those that are top commitments of the scope
    (their parent is not in it), so that a scope's progress is a sum over a few rows."""

    __tablename__ = "progress_tallies"
    # A scope of many agreements reads one theme key's rows across them.
    __table_args__ = (Index("ix_progress_tallies_theme_id", "theme_id"),)

    agreement_id: Mapped[int] = mapped_column(
        ForeignKey("agreements.id", ondelete="CASCADE"), primary_key=True
    )
    # No foreign key: EVERY_THEME is not a theme.
    theme_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[ImplementationStatus] = mapped_column(
        vocabulary(ImplementationStatus, "status"), primary_key=True
    )
    commitments: Mapped[int] = mapped_column(Integer)
    top_known_weight: Mapped[float] = mapped_column(Float)
    top_weighted_progress: Mapped[float] = mapped_column(Float)
