"""Keeping each commitment's status and progress, and each agreement's progress, current;
and computing them as of a past date. The rules themselves are in assessments.progress."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service import crud
from service.agreements.models import Agreement
from service.assessments.models import StatusAssessment
from service.assessments.progress import (
    AssessmentFact,
    CommitmentState,
    TreeNode,
    agreement_progress,
    effective_progress,
    roll_up,
    state_from_assessments,
    tree_depths,
)
from service.commitments.models import Commitment
from service.vocabularies import EntityType


def assessment_facts(
    session: Session, commitment_ids: Sequence[int]
) -> dict[int, list[AssessmentFact]]:
    """Every assessment of these commitments, as the progress rules read them (one query)."""
    facts: dict[int, list[AssessmentFact]] = defaultdict(list)
    if not commitment_ids:
        return facts
    rows = session.execute(
        select(
            StatusAssessment.commitment_id,
            StatusAssessment.id,
            StatusAssessment.status,
            StatusAssessment.progress_pct,
            StatusAssessment.as_of_value,
            StatusAssessment.assessed_at,
            StatusAssessment.supersedes_id,
        ).where(StatusAssessment.commitment_id.in_(commitment_ids))
    )
    for row in rows:
        facts[row.commitment_id].append(
            AssessmentFact(
                row.id,
                row.status,
                row.progress_pct,
                row.as_of_value,
                row.assessed_at,
                row.supersedes_id,
            )
        )
    return facts


def refresh_progress(
    session: Session, agreement: Agreement, *, reassessed: Commitment | None = None
) -> None:
    """Recompute the derived values of an agreement's commitments after a write, recording
    a ChangeEvent for each commitment (and the agreement) whose values moved.

    The caller holds the agreement's row lock, so concurrent writes to one agreement
    apply one after the other.
    """
    commitments = list(
        session.scalars(crud.live(Commitment).where(Commitment.agreement_id == agreement.id))
    )
    changes: dict[int, dict[str, Any]] = defaultdict(dict)
    if reassessed is not None:
        changes[reassessed.id].update(_reassess(session, reassessed))
    nodes = [TreeNode(c.id, c.parent_id, c.weight, c.status_progress) for c in commitments]
    rolled = roll_up(nodes)
    depths = tree_depths(nodes)
    for commitment in commitments:
        changes[commitment.id].update(
            crud.assign(
                commitment,
                {"current_progress": rolled[commitment.id], "depth": depths[commitment.id]},
            )
        )
        crud.record_update(session, commitment, EntityType.COMMITMENT, changes[commitment.id])
    crud.record_update(
        session,
        agreement,
        EntityType.AGREEMENT,
        crud.assign(agreement, {"progress": agreement_progress(nodes, rolled)}),
    )


def _reassess(session: Session, commitment: Commitment) -> dict[str, Any]:
    """A commitment's own status and progress from its assessments, and each assessment's
    effective progress (which the statistics read by date)."""
    facts = assessment_facts(session, [commitment.id])[commitment.id]
    state = state_from_assessments(facts)
    effective = effective_progress(facts)
    for assessment in session.scalars(
        select(StatusAssessment).where(StatusAssessment.commitment_id == commitment.id)
    ):
        if assessment.effective_progress != effective.get(assessment.id):
            assessment.effective_progress = effective.get(assessment.id)
    return crud.assign(
        commitment,
        {
            "current_status": state.status,
            "status_progress": state.progress,
            "current_assessment_id": state.assessment_id,
        },
    )


class CommitmentAsOf:
    """A commitment read as of a past date: its own fields, with the status of that date."""

    def __init__(
        self, commitment: Commitment, state: CommitmentState, progress: float | None, as_of: date
    ):
        self._commitment = commitment
        self.current_status = state.status
        self.current_assessment_id = state.assessment_id
        self.current_progress = progress
        self.as_of = as_of

    def __getattr__(self, name: str) -> Any:
        return getattr(self._commitment, name)


def as_of(session: Session, commitments: Sequence[Commitment], when: date) -> list[CommitmentAsOf]:
    """These commitments as they stood on `when`: two queries, whatever their number (the
    trees of their agreements, then those trees' assessments)."""
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
