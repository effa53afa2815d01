"""What a write moves in an agreement's derived values, stated once for the upkeep after
each write (progress.upkeep) and the bulk path of an import (progress.bulk): each live
commitment's status, progress and depth, and the agreement's progress, from a read of its
tree once some commitments stand in new states; and the ChangeEvents that say so."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from sqlalchemy.orm import Session

from service.changes.recording import RecordId, json_value
from service.core import writes
from service.core.vocabularies import EntityType
from service.progress.rules import (
    CommitmentState,
    TreeNode,
    agreement_progress,
    roll_up,
    tree_depths,
)


class RefreshedCommitment(NamedTuple):
    """A commitment of a tree read (`stored`, the read's row) and its derived values as they
    now are (`values`, named as upkeep.DERIVED), with what moved as a ChangeEvent lists it
    (`changes`, empty when nothing did)."""

    id: int
    stored: Mapping[str, Any]
    values: dict[str, Any]
    changes: dict[str, list[Any]]


class RefreshedTree(NamedTuple):
    commitments: list[RefreshedCommitment]  # by id
    old_progress: float | None
    new_progress: float | None


def refreshed_tree(rows: Sequence[Any], states: Mapping[int, CommitmentState]) -> RefreshedTree:
    """An agreement's derived values from a read of its tree (rows with its progress, each
    live commitment's id, parent_id, weight and DERIVED values; one row with no commitment
    when it has none) once the commitments of `states` are in those states: the one
    statement of what a write moves, for refresh_progress and the bulk path alike."""
    stored = {row.id: row._mapping for row in rows if row.id is not None}
    own_progress = {
        key: states[key].progress if key in states else row["status_progress"]
        for key, row in stored.items()
    }
    nodes = [
        TreeNode(key, row["parent_id"], row["weight"], own_progress[key])
        for key, row in stored.items()
    ]
    rolled = roll_up(nodes)
    depths = tree_depths(nodes)
    commitments = []
    for key in sorted(stored):
        old, state = stored[key], states.get(key)
        new = {
            "current_status": state.status if state else old["current_status"],
            "status_progress": own_progress[key],
            "current_assessment_id": state.assessment_id if state else old["current_assessment_id"],
            "current_progress": rolled[key],
            "depth": depths[key],
        }
        changes = {
            name: [json_value(old[name]), json_value(value)]
            for name, value in new.items()
            if old[name] != value
        }
        commitments.append(RefreshedCommitment(key, old, new, changes))
    return RefreshedTree(commitments, rows[0].agreement_progress, agreement_progress(nodes, rolled))


def record_refresh(session: Session, agreement_id: int, tree: RefreshedTree) -> None:
    """Queue the `update` ChangeEvents of a refresh: each commitment whose values moved, in
    id order, then the agreement if its progress moved."""
    for commitment in tree.commitments:
        if commitment.changes:
            writes.record_update(
                session, RecordId(commitment.id), EntityType.COMMITMENT, commitment.changes
            )
    if tree.old_progress != tree.new_progress:
        writes.record_update(
            session,
            RecordId(agreement_id),
            EntityType.AGREEMENT,
            {"progress": [tree.old_progress, tree.new_progress]},
        )
