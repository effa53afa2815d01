"""Keeping each commitment's status and progress, and each agreement's progress, current;
and computing them as of a past date. The rules themselves are in assessments.progress."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from datetime import date
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

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
from service.changes.services import json_value
from service.commitments.models import Commitment
from service.vocabularies import EntityType


def assessment_facts(
    session: Session,
    commitment_ids: Sequence[int],
    *,
    effective: dict[int, float | None] | None = None,
) -> dict[int, list[AssessmentFact]]:
    """Every assessment of these commitments, as the progress rules read them (one query);
    `effective`, when given, is filled with each one's stored effective progress."""
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
            StatusAssessment.effective_progress,
        ).where(StatusAssessment.commitment_id.in_(commitment_ids))
    )
    for row in rows:
        if effective is not None:
            effective[row.id] = row.effective_progress
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
    session: Session,
    agreement: Agreement,
    *,
    reassessed: Commitment | None = None,
    reassessed_ids: Collection[int] = (),
) -> None:
    """Recompute the derived values of an agreement's commitments after a write, recording
    a ChangeEvent for each commitment (and the agreement) whose values moved. `reassessed`
    (or, from a bulk import, `reassessed_ids`) are the commitments with new assessments.

    The tree is read as plain rows; only the commitments whose values move are loaded as
    objects (one query), so a write to a large agreement costs what it changes.
    The caller holds the agreement's row lock, so concurrent writes to one agreement
    apply one after the other.
    """
    loaded: dict[int, Commitment] = {reassessed.id: reassessed} if reassessed else {}
    wanted = set(reassessed_ids) | set(loaded)
    _load(session, loaded, wanted)
    changes: dict[int, dict[str, Any]] = defaultdict(dict)
    if wanted:
        changes.update(_reassess(session, [loaded[key] for key in sorted(wanted) if key in loaded]))
    # Read after the reassessment: the autoflush puts the new own progress in these rows.
    rows = session.execute(
        select(
            Commitment.id,
            Commitment.parent_id,
            Commitment.weight,
            Commitment.status_progress,
            Commitment.current_progress,
            Commitment.depth,
        ).where(Commitment.deleted_at.is_(None), Commitment.agreement_id == agreement.id)
    ).all()
    nodes = [TreeNode(row.id, row.parent_id, row.weight, row.status_progress) for row in rows]
    rolled = roll_up(nodes)
    depths = tree_depths(nodes)
    moved = {
        row.id
        for row in rows
        if json_value(row.current_progress) != json_value(rolled[row.id])
        or row.depth != depths[row.id]
    }
    _load(session, loaded, moved)
    for key in sorted(moved | set(changes)):
        commitment = loaded[key]
        changes[key].update(
            crud.assign(commitment, {"current_progress": rolled[key], "depth": depths[key]})
        )
        crud.record_update(session, commitment, EntityType.COMMITMENT, changes[key])
    crud.record_update(
        session,
        agreement,
        EntityType.AGREEMENT,
        crud.assign(agreement, {"progress": agreement_progress(nodes, rolled)}),
    )


def _load(session: Session, loaded: dict[int, Commitment], ids: Collection[int]) -> None:
    """Add to `loaded` the commitments of `ids` it does not hold yet."""
    missing = sorted(set(ids) - set(loaded))
    for start in range(0, len(missing), 5000):
        chunk = missing[start : start + 5000]
        loaded.update(
            (commitment.id, commitment)
            for commitment in session.scalars(select(Commitment).where(Commitment.id.in_(chunk)))
        )


def _reassess(session: Session, commitments: Sequence[Commitment]) -> dict[int, dict[str, Any]]:
    """These commitments' own status and progress from their assessments, and each
    assessment's effective progress (which the statistics read by date): one query to read,
    one bulk UPDATE for the assessments whose effective progress moved."""
    ids = [commitment.id for commitment in commitments]
    stored: dict[int, float | None] = {}
    facts = assessment_facts(session, ids, effective=stored)
    moved: dict[int, float | None] = {}
    changes: dict[int, dict[str, Any]] = {}
    for commitment in commitments:
        own = facts.get(commitment.id, [])
        for assessment_id, value in effective_progress(own).items():
            if stored.get(assessment_id) != value:
                moved[assessment_id] = value
        state = state_from_assessments(own)
        changes[commitment.id] = crud.assign(
            commitment,
            {
                "current_status": state.status,
                "status_progress": state.progress,
                "current_assessment_id": state.assessment_id,
            },
        )
    if moved:
        session.execute(
            update(StatusAssessment),
            [{"id": key, "effective_progress": value} for key, value in moved.items()],
        )
        # A bulk UPDATE by primary key leaves loaded objects as they were: bring them in line.
        for key, value in moved.items():
            loaded = session.identity_map.get(identity_key(StatusAssessment, key))
            if loaded is not None:
                set_committed_value(loaded, "effective_progress", value)
    return changes


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
