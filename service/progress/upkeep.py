"""Keeping each commitment's status and progress, each agreement's progress and the
statistics' tallies current after every write, in the write's transaction. The rules
themselves are in progress.rules, the tallies in progress.tallies."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from typing import Any, cast

from sqlalchemy import Connection, and_, bindparam, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from service.agreements.models import Agreement
from service.assessments.models import StatusAssessment
from service.commitments.models import Commitment
from service.core.db import pipelined, utcnow
from service.core.vocabularies import ImplementationStatus
from service.progress import dues, month_rows, months
from service.progress.driven import DrivenIndicators, driven_by, driven_indicators
from service.progress.refresh import RefreshedTree, record_refresh, refreshed_tree
from service.progress.rules import (
    AssessmentFact,
    CommitmentState,
    effective_progress,
    state_from_assessments,
)
from service.progress.tables import AGREEMENTS, ASSESSMENTS, COMMITMENTS, SPANS
from service.progress.tallies import (
    ScopedNode,
    keep_tallies,
    rebuild_tallies,
    scope_themes,
    tallies_of,
    touched_by,
)

# The statements of every write to a tree, built once (building one costs about as much as
# running it).
_FACTS = select(
    ASSESSMENTS.c.commitment_id,
    ASSESSMENTS.c.id,
    ASSESSMENTS.c.status,
    ASSESSMENTS.c.progress_pct,
    ASSESSMENTS.c.as_of,
    ASSESSMENTS.c.assessed_at,
    ASSESSMENTS.c.supersedes_id,
    ASSESSMENTS.c.effective_progress,
).where(ASSESSMENTS.c.commitment_id.in_(bindparam("commitment_ids", expanding=True)))
# The values kept on each commitment from its assessments and its place in the tree, in the
# order a ChangeEvent lists them.
DERIVED = (
    "current_status",
    "status_progress",
    "current_assessment_id",
    "current_progress",
    "depth",
)
# An agreement's live tree, its progress and its monthly rows' span (one row with no
# commitment when it has none).
_TREE = (
    select(
        AGREEMENTS.c.progress.label("agreement_progress"),
        SPANS.c.first_month,
        SPANS.c.last_month,
        *(
            COMMITMENTS.c[name]
            for name in (
                "id",
                "parent_id",
                "weight",
                "due_by",
                "progress_from_indicators",
                *DERIVED,
            )
        ),
        scope_themes().label("themes"),
    )
    .select_from(
        AGREEMENTS.outerjoin(SPANS, SPANS.c.agreement_id == AGREEMENTS.c.id).outerjoin(
            COMMITMENTS,
            and_(
                COMMITMENTS.c.agreement_id == AGREEMENTS.c.id,
                COMMITMENTS.c.deleted_at.is_(None),
            ),
        )
    )
    .where(AGREEMENTS.c.id == bindparam("agreement_id"))
    # By id: the roll-up sums in the order it is given, and a float sum's last bit depends
    # on it (the bulk path reads trees in the same order).
    .order_by(COMMITMENTS.c.id)
)
_SET_EFFECTIVE_PROGRESS = update(ASSESSMENTS).where(ASSESSMENTS.c.id == bindparam("row_id"))
_SET_DERIVED = update(COMMITMENTS).where(COMMITMENTS.c.id == bindparam("row_id"))
_SET_AGREEMENT_PROGRESS = update(AGREEMENTS).where(AGREEMENTS.c.id == bindparam("row_id"))


def assessment_facts(
    db: Session | Connection,
    commitment_ids: Sequence[int],
    *,
    effective: dict[int, float | None] | None = None,
) -> dict[int, list[AssessmentFact]]:
    """Every assessment of these commitments, as the progress rules read them (one query);
    `effective`, when given, is filled with each one's stored effective progress."""
    facts: dict[int, list[AssessmentFact]] = defaultdict(list)
    if not commitment_ids:
        return facts
    rows = db.execute(_FACTS, {"commitment_ids": list(commitment_ids)})
    for row in rows:
        if effective is not None:
            effective[row.id] = row.effective_progress
        facts[row.commitment_id].append(
            AssessmentFact(
                row.id,
                row.status,
                row.progress_pct,
                row.as_of,
                row.assessed_at,
                row.supersedes_id,
            )
        )
    return facts


def refresh_progress(
    session: Session,
    agreement_id: int,
    *,
    reassessed_ids: Collection[int] = (),
    new_assessment_ids: Collection[int] = (),
) -> None:
    """Recompute the derived values of an agreement's commitments after a write, recording
    a ChangeEvent for each commitment (and the agreement) whose values moved.
    `reassessed_ids` are the commitments with new assessments (`new_assessment_ids`), given
    by the writes that add assessments and change nothing else (the tree, the weights and
    the themes stand as they were; the tallies then move only where a status or a progress
    moved, the monthly rows only by what those assessments changed).

    Where indicators drive a commitment's progress (`progress_from_indicators`), their
    values are read too, and the write is recomputed as any other: the monthly rows move
    with the indicators' dates, which the change in the assessments does not show.

    Core statements on plain rows, not ORM objects: the tree, the agreement's progress and
    its monthly rows' span in one read, the reassessed commitments' assessments in another
    (of the whole tree after any other write, every commitment's state then read again; of
    the reassessed commitments' root subtrees too when a new assessment is dated before the
    span's last month), the driven commitments' indicators, then the writes in one
    round trip: the assessments whose effective progress moved, every commitment whose
    values moved (on a new assessment, the commitment and the ancestors whose progress it
    changed), the agreement, the tallies and the monthly rows. Objects the session has
    loaded are brought in line, so a caller that returns one returns it as written. The
    caller holds the agreement's row lock, so concurrent writes to one agreement apply one
    after the other.
    """
    session.flush()  # the caller's own changes (a new parent, a deletion) first
    connection = session.connection()
    rows = connection.execute(_TREE, {"agreement_id": agreement_id}).all()
    if not rows:
        return  # no such agreement: the caller found it, so it cannot happen
    nodes = months.monthly_nodes(row for row in rows if row.id is not None)
    span = (rows[0].first_month, rows[0].last_month) if rows[0].first_month else None
    driven = driven_indicators(
        connection, [row.id for row in rows if row.id is not None and row.progress_from_indicators]
    )
    # Only new assessments, and the caller said which: the months move by their change.
    # Not where indicators drive a commitment's progress: their months are recomputed whole.
    by_change = bool(reassessed_ids) and bool(new_assessment_ids) and not driven
    read_ids = sorted(reassessed_ids) if by_change else [node.id for node in nodes]
    stored_effective: dict[int, float | None] = {}
    facts = assessment_facts(connection, read_ids, effective=stored_effective)
    appended = month_rows.appended_month(facts, new_assessment_ids, span) if by_change else None
    if by_change and appended is None:
        # Dated within the span: the months move by the change in the root subtrees,
        # whose histories all count.
        subtrees = months.root_subtrees(nodes, reassessed_ids)
        rest = sorted(set(subtrees) - set(read_ids))
        facts.update(assessment_facts(connection, rest, effective=stored_effective))
        read_ids = subtrees
    # After any other write, every commitment's own state is read again from its history
    # (and its indicators): what a rebuild would give.
    own, moved_effective = _reassess(
        session,
        facts,
        stored_effective,
        sorted(reassessed_ids) if by_change else [node.id for node in nodes],
        driven,
    )
    tree = refreshed_tree(rows, own)
    record_refresh(session, agreement_id, tree)
    now = utcnow()
    updates: list[dict[str, Any]] = []
    scoped: list[ScopedNode] = []
    # The tree as it stood before the write (by_change: the same commitments).
    stored: list[ScopedNode] = []
    # After new assessments alone (the tree and its themes as they were), only the rows of
    # the commitments whose status or progress moved can move.
    touched: set[tuple[int, ImplementationStatus]] | None = set() if reassessed_ids else None
    themes_of = {node.id: node.themes for node in nodes}  # read once, in monthly_nodes
    for commitment in tree.commitments:
        old, new = commitment.stored, commitment.values
        node = ScopedNode(
            commitment.id,
            old["parent_id"],
            old["weight"],
            ImplementationStatus(cast(str, new["current_status"])),
            new["current_progress"],
            themes_of[commitment.id],
        )
        scoped.append(node)
        if by_change:
            stored.append(
                ScopedNode(
                    node.id,
                    node.parent_id,
                    node.weight,
                    ImplementationStatus(old["current_status"]),
                    old["current_progress"],
                    node.themes,
                )
            )
        if touched is not None and (
            old["current_status"] != node.status or old["current_progress"] != node.progress
        ):
            touched |= touched_by(node, ImplementationStatus(old["current_status"]))
        if commitment.changes:
            updates.append({"row_id": commitment.id, **new, "updated_at": now})
            _bring_in_line(session, Commitment, commitment.id, {**new, "updated_at": now})
    moved_dues = _moved_dues(connection, agreement_id, tree, by_status=touched is not None)
    old_progress, new_progress = tree.old_progress, tree.new_progress
    if old_progress != new_progress:
        _bring_in_line(
            session, Agreement, agreement_id, {"progress": new_progress, "updated_at": now}
        )
    with pipelined(connection):  # no answer is read: one round trip for them all
        if moved_effective:
            connection.execute(
                _SET_EFFECTIVE_PROGRESS,
                [
                    {"row_id": key, "effective_progress": value}
                    for key, value in moved_effective.items()
                ],
            )
        if updates:
            connection.execute(_SET_DERIVED, updates)
        if old_progress != new_progress:
            connection.execute(
                _SET_AGREEMENT_PROGRESS,
                {"row_id": agreement_id, "progress": new_progress, "updated_at": now},
            )
        wanted = touched is None or touched or appended is not None
        fresh = tallies_of(scoped) if wanted else {}
        if touched is None or touched:
            keep_tallies(connection, agreement_id, fresh, touched=touched)
        if appended is not None:
            month_rows.keep_appended(
                connection,
                agreement_id,
                nodes,
                stored,
                scoped,
                appended,
                span,
                fresh,
                moved_themes={theme_id for theme_id, _status in touched or ()},
            )
        elif by_change:
            month_rows.keep_after_assessments(
                connection,
                agreement_id,
                nodes,
                stored,
                read_ids,
                facts,
                set(new_assessment_ids),
                span,
            )
        else:
            month_rows.keep_months(connection, agreement_id, nodes, facts, driven)
        dues.keep_dues(connection, agreement_id, moved_dues)


def _moved_dues(
    connection: Connection, agreement_id: int, tree: RefreshedTree, *, by_status: bool
) -> dict[Any, int]:
    """What the write moved in the agreement's open commitments by due date (progress.dues):
    `by_status`, only the commitments whose status moved can have (the tree and the due
    dates stand as they were); else its kept rows are read and compared."""
    if by_status:
        return dues.moved_by_status(
            (
                commitment.stored["due_by"],
                ImplementationStatus(commitment.stored["current_status"]),
                ImplementationStatus(commitment.values["current_status"]),
            )
            for commitment in tree.commitments
            if commitment.stored["current_status"] != commitment.values["current_status"]
        )
    now = dues.open_dues(
        (
            commitment.stored["due_by"],
            ImplementationStatus(commitment.values["current_status"]),
        )
        for commitment in tree.commitments
    )
    return dues.difference(now, dues.kept_dues(connection, [agreement_id])[agreement_id])


def rebuild_kept(session: Session, agreement_ids: Sequence[int]) -> None:
    """Rebuild everything the statistics keep for these agreements from their commitments
    and histories, in the session's transaction: the tallies (which take the agreements'
    row locks), the monthly rows and the open commitments by due date."""
    rebuild_tallies(session, agreement_ids)
    month_rows.rebuild_months(session, agreement_ids)
    dues.rebuild_dues(session, agreement_ids)


def _bring_in_line(session: Session, model: type[Any], key: int, values: dict[str, Any]) -> None:
    """A Core UPDATE leaves the objects the session has loaded as they were: set them to
    what was written, as committed values (nothing left to flush)."""
    loaded = session.identity_map.get(identity_key(model, key))
    if loaded is not None:
        for name, value in values.items():
            set_committed_value(loaded, name, value)


def _reassess(
    session: Session,
    facts: Mapping[int, list[AssessmentFact]],
    stored: Mapping[int, float | None],
    ids: Sequence[int],
    driven: DrivenIndicators,
) -> tuple[dict[int, CommitmentState], dict[int, float | None]]:
    """These commitments' own status and progress from their assessments (`facts`, with
    each one's `stored` effective progress) and, for those whose progress they drive, their
    indicators (`driven`); and the effective progress (which the statistics read by date)
    of each assessment whose stored one moved, for the caller to write."""
    moved: dict[int, float | None] = {}
    states: dict[int, CommitmentState] = {}
    for commitment_id in ids:
        own = facts.get(commitment_id, [])
        for assessment_id, value in effective_progress(own).items():
            if stored.get(assessment_id) != value:
                moved[assessment_id] = value
        states[commitment_id] = driven_by(state_from_assessments(own), commitment_id, driven)
    for key, value in moved.items():
        _bring_in_line(session, StatusAssessment, key, {"effective_progress": value})
    return states, moved
