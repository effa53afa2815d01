"""Commitments, and the statistics' values of agreements, read as they stood on a past date:
the as-of rule (and the indicators that drive a commitment's progress, as they stood) and
the roll-up applied to the history in Python, a whole tree at a time (a commitment's
progress depends on its children's)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from service.commitments.models import Commitment
from service.commitments.rows import CommitmentRow
from service.progress.driven import driven_by, driven_indicators
from service.progress.months import LIVE_TREES, Values, histories, monthly_nodes, values_on
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


def scopes_on(
    connection: Connection, agreement_ids: Sequence[int], day: date
) -> dict[int, dict[int, Values]]:
    """Each of these agreements' values at the end of `day` (progress.months.VALUE_NAMES:
    counts by status, overdue, its top commitments' known weight and weighted progress), by
    theme key as the tallies keep them: what the statistics read for a past date. Computed
    from the trees, their histories and the indicators that drive a commitment's progress
    (three queries, whatever their number), by progress.months.values_on, the rule the kept
    monthly rows follow."""
    if not agreement_ids:
        return {}
    trees: dict[int, list[Any]] = {agreement_id: [] for agreement_id in agreement_ids}
    for row in connection.execute(LIVE_TREES, {"agreement_ids": list(agreement_ids)}):
        trees[row.agreement_id].append(row)
    facts = histories(connection, agreement_ids)
    driven = driven_indicators(
        connection,
        [row.id for rows in trees.values() for row in rows if row.progress_from_indicators],
    )
    found: dict[int, dict[int, Values]] = {}
    for agreement_id, rows in trees.items():
        nodes = monthly_nodes(rows)
        snapshot = values_on(nodes, facts, [day], driven)
        found[agreement_id] = {theme_id: values for (theme_id, _day), values in snapshot.items()}
    return found
