"""Open commitments by due date (progress.dues): kept by every write as the commitments stand,
and answering the summary's overdue count as the commitments themselves do.

The writes are test_tallies' random ones (commitments created with due dates, assessed,
given another due date, moved, deleted; themes and agreements deleted). After each, every
agreement's kept rows and the totals must be the open commitments counted in Python; after
them all, each scope's overdue count on a few days the one counted with rules.is_overdue.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, select, update
from sqlalchemy.orm import Session

from service.commitments.models import Commitment
from service.core.dates import PartialDate
from service.core.vocabularies import ImplementationStatus as Status
from service.progress.dues import rebuild_dues
from service.progress.models import ProgressDue, ProgressDueTotal
from service.progress.rules import TERMINAL_STATUSES, is_overdue
from service.stats.services import Scope, summary
from tests.builders import make_agreement, make_assessment, make_commitment
from tests.progress.test_tallies import OPERATIONS, World

DAYS = [date(2023, 6, 1), date(2024, 1, 1), date(2026, 6, 1)]


def kept(session: Session) -> tuple[dict[int, Counter[date]], Counter[date]]:
    """The kept rows, each agreement's and the totals, leaving out those at 0."""
    session.expire_all()
    by_agreement: dict[int, Counter[date]] = {}
    for row in session.scalars(select(ProgressDue).where(ProgressDue.commitments != 0)):
        by_agreement.setdefault(row.agreement_id, Counter())[row.due_by] = row.commitments
    totals = Counter(
        {
            row.due_by: row.commitments
            for row in session.scalars(
                select(ProgressDueTotal).where(ProgressDueTotal.commitments != 0)
            )
        }
    )
    return by_agreement, totals


def counted(session: Session) -> tuple[dict[int, Counter[date]], Counter[date]]:
    """The open commitments (live, with a due date, in no terminal status) of the database
    (hypothesis's examples share one transaction), by agreement and in all."""
    by_agreement: dict[int, Counter[date]] = {}
    totals: Counter[date] = Counter()
    for commitment in session.scalars(select(Commitment).where(Commitment.deleted_at.is_(None))):
        if commitment.due_by is not None and commitment.current_status not in TERMINAL_STATUSES:
            by_agreement.setdefault(commitment.agreement_id, Counter())[commitment.due_by] += 1
            totals[commitment.due_by] += 1
    return by_agreement, totals


def overdue(session: Session, on: date, agreement: Any | None) -> int:
    return sum(
        is_overdue(commitment.due_by, commitment.current_status, on)
        for commitment in session.scalars(select(Commitment).where(Commitment.deleted_at.is_(None)))
        if agreement is None or commitment.agreement_id == agreement.id
    )


@settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(operations=st.lists(OPERATIONS, min_size=1, max_size=14), data=st.data())
def test_the_kept_dues_are_the_open_commitments_by_due_date(
    session: Session, operations: list[str], data: st.DataObject
) -> None:
    world = World(session)
    for operation in operations:
        world.apply(operation, data)
        assert kept(session) == counted(session), operation

    for on in DAYS:
        everything = summary(session, Scope(), today=on)
        assert everything["overdue"] == overdue(session, on, None), on
        for agreement in world.agreements:
            if agreement.deleted_at is None:
                found = summary(session, Scope(agreement=agreement.slug), today=on)
                assert found["overdue"] == overdue(session, on, agreement), (on, agreement.slug)
        first = world.agreements[0]
        if first.deleted_at is None:
            by_party = summary(session, Scope(organization=world.party.slug), today=on)
            assert by_party["overdue"] == overdue(session, on, first), on


def test_a_commitment_overdue_until_it_is_completed(session: Session) -> None:
    """The plain case, step by step: open before its due date passes, overdue after, no
    longer once completed, again once a later assessment reopens it."""
    agreement = make_agreement(session)
    make_commitment(session, agreement, due_date=None)
    commitment = make_commitment(session, agreement, due_date=PartialDate.parse("2024-05"))
    scope = Scope(agreement=agreement.slug)
    assert summary(session, scope, today=date(2024, 5, 31))["overdue"] == 0
    assert summary(session, scope, today=date(2024, 6, 1))["overdue"] == 1
    make_assessment(session, commitment, status=Status.COMPLETED, as_of="2024-06")
    assert summary(session, scope, today=date(2024, 6, 1))["overdue"] == 0
    make_assessment(session, commitment, status=Status.STALLED, as_of="2024-07")
    assert summary(session, scope, today=date(2024, 8, 1))["overdue"] == 1
    assert kept(session) == counted(session)


def test_a_rebuild_repairs_dues_that_went_wrong(
    app: Flask, session: Session, connection: Connection
) -> None:
    """Whatever the rows hold (a restore, a hand edit), a rebuild writes them as the
    commitments stand: an agreement's rebuild its rows (and the totals by as much), the
    command's full rebuild the totals too."""
    agreement = make_agreement(session)
    for due in ("2023-05", "2023-05", "2025"):
        make_commitment(session, agreement, due_date=PartialDate.parse(due))
    right = kept(session)
    assert right == counted(session) and right[1]
    session.execute(update(ProgressDue).values(commitments=7))
    rebuild_dues(session, [agreement.id])
    assert kept(session)[0] == right[0]
    session.execute(update(ProgressDueTotal).values(commitments=3))
    session.commit()
    result = app.test_cli_runner().invoke(args=["rebuild-statistics"])
    assert result.exit_code == 0, result.output
    assert kept(session) == right
