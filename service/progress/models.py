"""What the progress engine keeps besides the commitments' own derived columns: the tallies
the statistics read instead of the commitments, and the monthly snapshots the series reads
instead of the history (progress.tallies and progress.month_rows keep them)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, Float, ForeignKey, Index, Integer
from sqlalchemy.orm import Mapped, mapped_column

from service.core.db import Base, vocabulary
from service.core.vocabularies import ImplementationStatus

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


class ProgressMonth(Base):
    """One scope of an agreement's tree (as a tally's: EVERY_THEME or a theme) at the end of
    one month: its live commitments by the status they were in then (a column a status: one
    row a month, not eleven), how many were overdue then, and the top commitments whose
    progress counted, their weight and their weighted progress. Kept for every month from
    the agreement's first assessment's to its last's (progress.months says why no others)."""

    __tablename__ = "progress_months"
    # A series reads one theme key's rows over a range of months, across agreements.
    __table_args__ = (Index("ix_progress_months_theme_id_month", "theme_id", "month"),)

    agreement_id: Mapped[int] = mapped_column(
        ForeignKey("agreements.id", ondelete="CASCADE"), primary_key=True
    )
    theme_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The month's first day.
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    not_assessed: Mapped[int] = mapped_column(Integer)
    not_started: Mapped[int] = mapped_column(Integer)
    initiated: Mapped[int] = mapped_column(Integer)
    advanced: Mapped[int] = mapped_column(Integer)
    completed: Mapped[int] = mapped_column(Integer)
    partially_completed: Mapped[int] = mapped_column(Integer)
    stalled: Mapped[int] = mapped_column(Integer)
    suspended: Mapped[int] = mapped_column(Integer)
    not_fulfilled: Mapped[int] = mapped_column(Integer)
    superseded: Mapped[int] = mapped_column(Integer)
    cancelled: Mapped[int] = mapped_column(Integer)
    overdue: Mapped[int] = mapped_column(Integer)
    # How many top commitments' progress counted: whether the scope had a progress that
    # month, exactly (the weights below are kept by adding changes, so a sum that should be
    # 0 may be left a rounding error away from it).
    top_known: Mapped[int] = mapped_column(Integer)
    top_known_weight: Mapped[float] = mapped_column(Float)
    top_weighted_progress: Mapped[float] = mapped_column(Float)


class ProgressMonthSpan(Base):
    """The months an agreement's rows run over: from its live commitments' first assessment's
    month to their last one's. None kept: no assessment."""

    __tablename__ = "progress_month_spans"

    agreement_id: Mapped[int] = mapped_column(
        ForeignKey("agreements.id", ondelete="CASCADE"), primary_key=True
    )
    first_month: Mapped[date] = mapped_column(Date)
    last_month: Mapped[date] = mapped_column(Date)


class ProgressDue(Base):
    """How many of an agreement's live commitments with this due date stand in a status that
    is not terminal (progress.dues): each is overdue on every day after it while it stays so.
    A row may hold 0 (what was open there no longer is)."""

    __tablename__ = "progress_dues"

    agreement_id: Mapped[int] = mapped_column(
        ForeignKey("agreements.id", ondelete="CASCADE"), primary_key=True
    )
    due_by: Mapped[date] = mapped_column(Date, primary_key=True)
    commitments: Mapped[int] = mapped_column(Integer)


class ProgressDueTotal(Base):
    """ProgressDue summed over every agreement: the overdue count of everything on a day is
    the sum of the rows before it."""

    __tablename__ = "progress_due_totals"

    due_by: Mapped[date] = mapped_column(Date, primary_key=True)
    commitments: Mapped[int] = mapped_column(Integer)
