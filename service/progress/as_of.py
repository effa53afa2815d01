"""Commitments read as they stood on a past date: the as-of rule and the roll-up applied to
the history in Python, a whole tree at a time (a commitment's progress depends on its
children's)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.commitments.models import Commitment
from service.progress.rules import CommitmentState, TreeNode, roll_up, state_from_assessments
from service.progress.upkeep import assessment_facts


class CommitmentAsOf:
    """A commitment read as of a past date: its own fields, with the status of that date."""

    def __init__(
        self, commitment: Any, state: CommitmentState, progress: float | None, as_of: date
    ):
        self._commitment = commitment
        self.current_status = state.status
        self.current_assessment_id = state.assessment_id
        self.current_progress = progress
        self.as_of = as_of

    def __getattr__(self, name: str) -> Any:
        return getattr(self._commitment, name)


def commitments_as_of(
    session: Session, commitments: Sequence[Any], when: date
) -> list[CommitmentAsOf]:
    """These commitments (records, or as a list shows them) as they stood on `when`: two
    queries, whatever their number (the trees of their agreements, then those trees'
    assessments)."""
    agreement_ids = {commitment.agreement_id for commitment in commitments}
    if not agreement_ids:
        return []
    tree = session.execute(
        select(Commitment.id, Commitment.parent_id, Commitment.weight).where(
            Commitment.agreement_id.in_(agreement_ids), Commitment.deleted_at.is_(None)
        )
    ).all()
    facts = assessment_facts(session, [row.id for row in tree])
    states = {row.id: state_from_assessments(facts.get(row.id, []), when) for row in tree}
    rolled = roll_up(
        [TreeNode(row.id, row.parent_id, row.weight, states[row.id].progress) for row in tree]
    )
    return [
        CommitmentAsOf(commitment, states[commitment.id], rolled.get(commitment.id), when)
        for commitment in commitments
    ]
