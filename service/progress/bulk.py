"""Keeping the derived values current after a bulk append of assessments (an import of a
history): what upkeep.refresh_progress does for one agreement, done for many at once, with
the work that grows with the history in SQL and the rest in progress.rules.

- `effective_progress`: rules.effective_progress and rules.state_from_assessments (the
  as-of rule, corrections ignored, the last known progress carried) as one SQL statement
  over every assessment of many commitments; tests/progress holds the two forms equal.
- `append_assessments`: new assessments (which the caller selects, from tables it copied
  them into) go into the history with their effective progress, and the older assessments
  of their commitments have theirs brought in line; answers each commitment's new state.
- `refresh_agreements`: each agreement's tree rolled up by progress.rules (its commitments'
  rows, not their history: a few hundred rows an agreement; the indicators of those whose
  progress they drive, progress.driven), the values that moved written
  in a few statements, the same `update` ChangeEvents as refresh_progress records, and the
  statistics' tallies and monthly rows rebuilt.

The roll-up stays in Python: it reads a row a commitment, and refresh_progress's own
function then gives the same values to the last bit (a sum in SQL adds in another order).

PostgreSQL only (temporary tables, COPY, arrays), but for `effective_progress`, which is
plain SQL and tested on both databases; SQLite imports go through refresh_progress.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    ColumnElement,
    Connection,
    DateTime,
    Float,
    Integer,
    MetaData,
    Select,
    String,
    Table,
    and_,
    any_,
    bindparam,
    case,
    cast,
    exists,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session, aliased

from service.core.db import copy_rows, temporary_table, utcnow
from service.core.vocabularies import ImplementationStatus
from service.progress import upkeep
from service.progress.driven import driven_by, driven_indicators
from service.progress.refresh import record_refresh, refreshed_tree
from service.progress.rules import (
    DEFAULT_PROGRESS,
    HAS_NO_PROGRESS,
    NOT_ASSESSED,
    CommitmentState,
)
from service.progress.sql import rule_order
from service.progress.tables import AGREEMENTS, ASSESSMENTS, COMMITMENTS
from service.progress.upkeep import DERIVED

# Temporary tables of the transaction (db.temporary_table).
_TEMPORARY = MetaData()
_ASSESSMENT_PROGRESS = Table(
    "assessment_progress",
    _TEMPORARY,
    Column("id", Integer),
    Column("commitment_id", Integer),
    Column("status", String(32)),
    Column("effective_progress", Float),
    Column("is_current", Boolean),
    # Whether the assessment is new, and whether an older one's effective progress moved.
    Column("is_new", Boolean),
    Column("moved", Boolean),
    prefixes=["TEMPORARY"],
    postgresql_on_commit="DROP",
)
_MOVED_COMMITMENTS = Table(
    "moved_commitments",
    _TEMPORARY,
    Column("id", Integer),
    Column("current_status", String(32)),
    Column("status_progress", Float),
    Column("current_assessment_id", Integer),
    Column("current_progress", Float),
    Column("depth", Integer),
    Column("updated_at", DateTime(timezone=True)),
    prefixes=["TEMPORARY"],
    postgresql_on_commit="DROP",
)


def _sets_progress(status: Any, stated: Any) -> ColumnElement[bool]:
    """The assessment gives a progress of its own (rules.progress_after): none, the stated
    one or its status's default; any other keeps the last known progress."""
    return or_(
        status.in_([value.value for value in HAS_NO_PROGRESS]),
        stated.is_not(None),
        status.in_([value.value for value in DEFAULT_PROGRESS]),
    )


def _own_progress(status: Any, stated: Any) -> Any:
    """The progress an assessment that `_sets_progress` gives (rules.progress_after)."""
    return case(
        (status.in_([value.value for value in HAS_NO_PROGRESS]), null()),
        (stated.is_not(None), stated),
        *((status == value.value, literal(pct, Float)) for value, pct in DEFAULT_PROGRESS.items()),
        else_=null(),
    )


def effective_progress(facts: Any, carried: tuple[str, ...] = ()) -> Any:
    """rules.effective_progress and rules.state_from_assessments for every commitment of
    `facts` (a selectable with id, commitment_id, status, progress_pct, as_of_value,
    assessed_at and supersedes_id, each commitment's assessments all in it): one row per
    assessment with its commitment_id, status, effective_progress (None when corrected),
    is_current, true for the one that gives its commitment's current status, and the
    `carried` columns of `facts` as they are.

    The standing assessments in rule order carry the last known progress: each one that
    gives a progress of its own starts a run, and every assessment of a run has the progress
    its first one gave (none before the first run)."""
    correction = aliased(facts)
    corrected = exists().where(correction.c.supersedes_id == facts.c.id)
    in_order = {"partition_by": facts.c.commitment_id, "order_by": rule_order(facts.c)}
    standing = (
        select(
            facts.c.id,
            facts.c.commitment_id,
            facts.c.status,
            _own_progress(facts.c.status, facts.c.progress_pct).label("own_progress"),
            func.sum(case((_sets_progress(facts.c.status, facts.c.progress_pct), 1), else_=0))
            .over(**in_order, rows=(None, 0))
            .label("run"),
            func.lead(facts.c.id).over(**in_order).is_(None).label("is_current"),
            *(facts.c[name] for name in carried),
        )
        .where(~corrected)
        .subquery("standing")
    )
    in_runs = select(
        standing.c.id,
        standing.c.commitment_id,
        standing.c.status,
        func.max(standing.c.own_progress)
        .over(partition_by=(standing.c.commitment_id, standing.c.run))
        .label("effective_progress"),
        standing.c.is_current,
        *(standing.c[name] for name in carried),
    )
    ignored = select(
        facts.c.id,
        facts.c.commitment_id,
        facts.c.status,
        null().label("effective_progress"),
        literal(False).label("is_current"),
        *(facts.c[name] for name in carried),
    ).where(corrected)
    return union_all(in_runs, ignored)


def append_assessments(
    connection: Connection, new: Select[Any], commitment_ids: Sequence[int]
) -> dict[int, CommitmentState]:
    """Write new assessments into the history, each with its effective progress, and bring
    the effective progress of their commitments' older assessments in line; answer the state
    each of these commitments is now in.

    `new` selects the new assessments with every column of status_assessments but
    effective_progress, ids included; `commitment_ids` are their commitments, whose whole
    history the effective progress runs through."""
    ids = bindparam("commitment_ids", list(commitment_ids), type_=ARRAY(Integer))
    columns = ("id", "commitment_id", "status", "progress_pct", "assessed_at", "supersedes_id")
    history = select(
        *(ASSESSMENTS.c[name] for name in columns),
        ASSESSMENTS.c.as_of.label("as_of_value"),
        ASSESSMENTS.c.effective_progress.label("stored_progress"),
        literal(False).label("is_new"),
    ).where(
        # The range lets the planner read the history through the (commitment_id, as_of)
        # index when the commitments are a range of ids (an import's chunk).
        ASSESSMENTS.c.commitment_id.between(min(commitment_ids), max(commitment_ids)),
        ASSESSMENTS.c.commitment_id == any_(ids),
    )
    staged = new.subquery("new")
    fresh = select(
        *(staged.c[name] for name in columns),
        staged.c.as_of.label("as_of_value"),
        cast(null(), Float).label("stored_progress"),
        literal(True).label("is_new"),
    )
    facts = union_all(history, fresh).cte("facts")
    progress = temporary_table(connection, _ASSESSMENT_PROGRESS)
    found = effective_progress(facts, ("stored_progress", "is_new")).subquery("found")
    moved = and_(
        ~found.c.is_new, found.c.stored_progress.is_distinct_from(found.c.effective_progress)
    )
    kept = ("id", "commitment_id", "status", "effective_progress", "is_current", "is_new")
    connection.execute(
        insert(progress).from_select(
            [*kept, "moved"],
            # What the statements below read: the new assessments, the older ones whose
            # effective progress moved, and each commitment's current one.
            select(*(found.c[name] for name in kept), moved.label("moved")).where(
                or_(found.c.is_new, moved, found.c.is_current)
            ),
        )
    )
    # Its statistics: the planner then knows how few older assessments moved, and looks
    # them up by id rather than reading the whole history.
    connection.execute(text(f"ANALYZE {progress.name}"))
    connection.execute(
        update(ASSESSMENTS)
        .where(ASSESSMENTS.c.id == progress.c.id, progress.c.moved)
        .values(effective_progress=progress.c.effective_progress)
    )
    written = [column.name for column in ASSESSMENTS.c]
    connection.execute(
        insert(ASSESSMENTS).from_select(
            written,
            select(
                *(
                    progress.c.effective_progress
                    if name == "effective_progress"
                    else staged.c[name]
                    for name in written
                )
            )
            .join_from(staged, progress, and_(progress.c.id == staged.c.id, progress.c.is_new))
            .order_by(staged.c.id),
        )
    )
    states = dict.fromkeys(commitment_ids, NOT_ASSESSED)
    for row in connection.execute(
        select(
            progress.c.commitment_id,
            progress.c.status,
            progress.c.effective_progress,
            progress.c.id,
        ).where(progress.c.is_current)
    ):
        states[row.commitment_id] = CommitmentState(
            ImplementationStatus(row.status), row.effective_progress, row.id
        )
    return states


# An agreement's live tree and its progress, for many agreements (an agreement with no
# commitment is one row with none). Commitments by id: the roll-up sums in the order it is
# given, and a float sum's last bit depends on it.
_TREES = (
    select(
        AGREEMENTS.c.id.label("agreement_id"),
        AGREEMENTS.c.progress.label("agreement_progress"),
        *(
            COMMITMENTS.c[name]
            for name in ("id", "parent_id", "weight", "progress_from_indicators", *DERIVED)
        ),
    )
    .select_from(
        AGREEMENTS.outerjoin(
            COMMITMENTS,
            and_(
                COMMITMENTS.c.agreement_id == AGREEMENTS.c.id,
                COMMITMENTS.c.deleted_at.is_(None),
            ),
        )
    )
    .where(AGREEMENTS.c.id.in_(bindparam("agreement_ids", expanding=True)))
    .order_by(AGREEMENTS.c.id, COMMITMENTS.c.id)
)
_SET_AGREEMENT_PROGRESS = (
    update(AGREEMENTS)
    .where(AGREEMENTS.c.id == bindparam("row_id"))
    .values(progress=bindparam("progress"), updated_at=bindparam("updated_at"))
)


def refresh_agreements(
    session: Session,
    agreement_ids: Sequence[int],
    states: dict[int, CommitmentState],
    *,
    per_statement: int = 200,
) -> None:
    """upkeep.refresh_progress for each of these agreements in turn (their rows locked by
    the caller), where `states` holds the new state of every reassessed commitment (from
    `append_assessments`): the same values written and the same ChangeEvents, in the same
    order, with the reads and writes of `per_statement` agreements in a few statements.
    The session holds no loaded commitment or agreement (a job's own session)."""
    session.flush()
    connection = session.connection()
    for start in range(0, len(agreement_ids), per_statement):
        batch = list(agreement_ids[start : start + per_statement])
        rows = connection.execute(_TREES, {"agreement_ids": batch}).all()
        driven = driven_indicators(
            connection,
            [row.id for row in rows if row.id in states and row.progress_from_indicators],
        )
        # Their indicators drive these commitments' progress: their states as they give it.
        steered = {key: driven_by(states[key], key, driven) for key in driven}
        batch_states = {**states, **steered} if steered else states
        moved: list[dict[str, Any]] = []
        agreements: list[dict[str, Any]] = []
        now = utcnow()
        for agreement_id, tree in _by_agreement(rows):
            moved_here, progress = _refresh_tree(session, agreement_id, tree, batch_states, now)
            moved += moved_here
            if progress is not None:
                agreements.append(progress)
        _write_moved(connection, moved)
        if agreements:
            connection.execute(_SET_AGREEMENT_PROGRESS, agreements)
    upkeep.rebuild_kept(session, sorted(agreement_ids))


def _by_agreement(rows: Sequence[Any]) -> Iterable[tuple[int, list[Any]]]:
    tree: list[Any] = []
    for row in rows:
        if tree and tree[0].agreement_id != row.agreement_id:
            yield tree[0].agreement_id, tree
            tree = []
        tree.append(row)
    if tree:
        yield tree[0].agreement_id, tree


def _refresh_tree(
    session: Session,
    agreement_id: int,
    rows: list[Any],
    states: dict[int, CommitmentState],
    now: Any,
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """refresh_progress's work on one tree read: the commitments that moved (their new
    values) and the agreement's new progress if it moved, their ChangeEvents queued."""
    tree = refreshed_tree(rows, states)
    record_refresh(session, agreement_id, tree)
    moved = [
        {"id": commitment.id, **commitment.values, "updated_at": now}
        for commitment in tree.commitments
        if commitment.changes
    ]
    if tree.old_progress == tree.new_progress:
        return moved, None
    return moved, {"row_id": agreement_id, "progress": tree.new_progress, "updated_at": now}


def _write_moved(connection: Connection, moved: list[dict[str, Any]]) -> None:
    """Write the commitments' new values: COPY them into a temporary table, then one UPDATE
    (an UPDATE a row costs a statement each, in a pipeline or not)."""
    if not moved:
        return
    table = temporary_table(connection, _MOVED_COMMITMENTS)
    names = ["id", *DERIVED, "updated_at"]
    copy_rows(
        connection,
        table.name,
        names,
        (
            [
                ImplementationStatus(values[name]).value
                if name == "current_status"
                else values[name]
                for name in names
            ]
            for values in moved
        ),
    )
    connection.execute(
        update(COMMITMENTS)
        .where(COMMITMENTS.c.id == table.c.id)
        .values({name: table.c[name] for name in (*DERIVED, "updated_at")})
    )
