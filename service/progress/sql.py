"""The rules of progress.rules stated in SQL (SQLAlchemy Core), for reads that cannot load
every assessment into Python: a status as of a date in a filter, overdue, the standing
assessments and their order, and the weighted sums of a roll-up.
Each is stated here once; tests/progress holds them equal to the Python form.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, case, exists, func, select
from sqlalchemy.orm import aliased

from service.assessments.models import StatusAssessment
from service.commitments.models import Commitment
from service.core.vocabularies import ImplementationStatus
from service.progress.rules import TERMINAL_STATUSES

TERMINAL_VALUES = [status.value for status in TERMINAL_STATUSES]


def is_standing(assessment: Any = StatusAssessment) -> ColumnElement[bool]:
    """The assessment (`assessment`: the table's entity or an alias) is corrected by none:
    a superseded one is ignored at every date, as in rules.state_from_assessments."""
    correction = aliased(StatusAssessment)
    return ~exists().where(correction.supersedes_id == assessment.id)


def rule_order(assessment: Any = StatusAssessment) -> tuple[Any, Any, Any]:
    """The order in which assessments apply, the last one holding: by `as_of`, ties by the
    latest `assessed_at`, then by id (rules.state_from_assessments sorts by the same key)."""
    return (assessment.as_of_value, assessment.assessed_at, assessment.id)


def status_on(when: date) -> Any:
    """The status of the commitment row as of `when`: its last standing assessment dated on
    or before it, else not_assessed."""
    assessment = aliased(StatusAssessment)
    latest = (
        select(assessment.status)
        .where(
            assessment.commitment_id == Commitment.id,
            assessment.as_of_value <= when,
            is_standing(assessment),
        )
        .order_by(*(column.desc() for column in rule_order(assessment)))
        .limit(1)
        .scalar_subquery()
    )
    return func.coalesce(latest, ImplementationStatus.NOT_ASSESSED.value)


def overdue_on(when: date, status: Any = Commitment.current_status) -> ColumnElement[bool]:
    """The commitment row is overdue on `when`: its due period ended before that day and
    `status`, its status on that day, is not terminal. Never null, so `~` gives the rest.
    (The monthly series applies the date test to due dates it reads, month by month.)"""
    return and_(
        Commitment.due_by.is_not(None),
        Commitment.due_by < when,
        is_live_status(status),
    )


def is_live_status(status: Any) -> ColumnElement[bool]:
    """`status` is one a commitment can still move on from: not terminal (rules.is_live_status)."""
    live: ColumnElement[bool] = status.not_in(TERMINAL_VALUES)
    return live


def weighted_sums(
    progress: Any, weight: Any, where: ColumnElement[bool] | None = None
) -> tuple[Any, Any]:
    """Aggregates for rules.weighted_mean: the weight of the rows (those `where` selects) whose
    progress is known and whose weight is positive, and the sum of their weighted progress.
    The mean is the second over the first, when the first is not 0."""
    known = and_(progress.is_not(None), weight > 0)
    if where is not None:
        known = and_(where, known)
    return (
        func.sum(case((known, weight), else_=0.0)),
        func.sum(case((known, weight * progress), else_=0.0)),
    )
