"""The tables the progress engine reads and keeps, as Core tables: its statements are built in
SQLAlchemy Core (set-based upkeep, bulk recomputation, row reads), not through the ORM.

Mapped classes declare `__table__` as a `FromClause`; each table is cast to `Table` once,
here, so that the engine's modules name `COMMITMENTS.c.status` without a cast of their own."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table

from service.agreements.models import Agreement
from service.assessments.models import StatusAssessment
from service.commitments.models import Commitment
from service.indicators.models import Indicator, IndicatorPeriod
from service.progress.models import (
    ProgressDue,
    ProgressDueTotal,
    ProgressMonth,
    ProgressMonthSpan,
    ProgressTally,
)
from service.themes.models import Theme

AGREEMENTS = cast(Table, Agreement.__table__)
COMMITMENTS = cast(Table, Commitment.__table__)
ASSESSMENTS = cast(Table, StatusAssessment.__table__)
THEMES = cast(Table, Theme.__table__)
INDICATORS = cast(Table, Indicator.__table__)
INDICATOR_PERIODS = cast(Table, IndicatorPeriod.__table__)
# What the engine keeps (service/progress/models.py).
TALLIES = cast(Table, ProgressTally.__table__)
MONTHS = cast(Table, ProgressMonth.__table__)
SPANS = cast(Table, ProgressMonthSpan.__table__)
DUES = cast(Table, ProgressDue.__table__)
DUE_TOTALS = cast(Table, ProgressDueTotal.__table__)
