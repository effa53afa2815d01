"""Commitments read as they stood on a past date: the as-of rule (and the indicators that
drive a commitment's progress, as they stood) and the roll-up applied to the history in Python, a whole tree at a time (a commitment's progress depends on its
children's)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.commitments.models import Commitment
from service.commitments.rows import CommitmentRow
from service.progress.driven import driven_by, driven_indicators
from service.progress.rules import TreeNode, roll_up, state_from_assessments
from service.progress.upkeep import assessment_facts


def commitments_as_of(
    session: Session, commitments: Sequence[CommitmentRow], when: date
) -> list[CommitmentRow]:
    """These commitments as they stood on `when`: two queries, whatever their number (the
    trees of their agreements, then those trees' assessments), and a third where indicators
    drive a commitment's progress (their values then known)."""
    agreement_ids = {commitment.agreement_id for commitment in commitments}
    if not agreement_ids:
        return []
    tree = session.execute(
        select(
            Commitment.id,
            Commitment.parent_id,
            Commitment.weight,
            Commitment.progress_from_indicators,
        ).where(Commitment.agreement_id.in_(agreement_ids), Commitment.deleted_at.is_(None))
    ).all()
    facts = assessment_facts(session, [row.id for row in tree])
    driven = driven_indicators(
        session.connection(), [row.id for row in tree if row.progress_from_indicators]
    )
    states = {
        row.id: driven_by(state_from_assessments(facts.get(row.id, []), when), row.id, driven, when)
        for row in tree
    }
    rolled = roll_up(
        [TreeNode(row.id, row.parent_id, row.weight, states[row.id].progress) for row in tree]
    )
    return [
        commitment.as_it_stood(
            when,
            status=states[commitment.id].status,
            assessment_id=states[commitment.id].assessment_id,
            progress=rolled.get(commitment.id),
        )
        for commitment in commitments
    ]
