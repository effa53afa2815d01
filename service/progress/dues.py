"""Open commitments by due date, kept in the transaction of every write (issue 17, item 2).

A commitment is open when it is live, has a due date and stands in no terminal status: it is
overdue on every day after its due date for as long as it stays open (rules.is_overdue). For
each agreement, how many of its commitments are open, by due date (models.ProgressDue), and
the same summed over every agreement (models.ProgressDueTotal). A summary's overdue count is
then a sum over a few rows, not a count over the commitments: for everything, the totals (a
row a due date); for an agreement or an organization's agreements, theirs.

Both are kept by adding what moved, in due date order (the totals are shared by every
agreement's writers: taking their rows in one order, no two writers deadlock over them).
A write that only adds assessments moves them by the commitments whose status crossed into
or out of a terminal one (`moved_by_status`); any other write, by the difference between the
agreement's commitments and its kept rows (`difference`), as does a rebuild. tests/progress
holds the kept rows equal to those counted from the commitments after random writes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Connection, bindparam, func, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from service.core.vocabularies import ImplementationStatus
from service.progress.rules import is_live_status
from service.progress.sql import is_live_status as is_live_status_sql
from service.progress.tables import COMMITMENTS, DUE_TOTALS, DUES
from service.progress.tallies import AGREEMENTS_PER_REBUILD

# How many commitments moved, by due date (negative: fewer are open).
Moved = Mapping[date, int]


def open_dues(commitments: Iterable[tuple[date | None, ImplementationStatus]]) -> Counter[date]:
    """The open ones among these live commitments (their due date and status), by due date."""
    return Counter(
        due_by for due_by, status in commitments if due_by is not None and is_live_status(status)
    )


def moved_by_status(
    changes: Iterable[tuple[date | None, ImplementationStatus, ImplementationStatus]],
) -> dict[date, int]:
    """What moved when these commitments (due date, status before, status after) changed
    status and nothing else."""
    moved: Counter[date] = Counter()
    for due_by, before, after in changes:
        if due_by is not None and is_live_status(before) != is_live_status(after):
            moved[due_by] += 1 if is_live_status(after) else -1
    return {due_by: count for due_by, count in moved.items() if count}


def keep_dues(connection: Connection, agreement_id: int, moved: Moved) -> None:
    """Add what moved to the agreement's rows and to the totals, in due date order. Nothing
    is read back: the caller may pipeline it."""
    if not moved:
        return
    by_agreement, totals = _statements(connection)
    ordered = sorted(moved.items())
    connection.execute(
        by_agreement,
        [
            {"agreement_id": agreement_id, "due_by": due_by, "commitments": count}
            for due_by, count in ordered
        ],
    )
    connection.execute(
        totals, [{"due_by": due_by, "commitments": count} for due_by, count in ordered]
    )


def kept_dues(connection: Connection, agreement_ids: Sequence[int]) -> dict[int, Counter[date]]:
    """The kept rows of these agreements, by agreement."""
    found: dict[int, Counter[date]] = {agreement_id: Counter() for agreement_id in agreement_ids}
    for row in connection.execute(
        select(DUES.c.agreement_id, DUES.c.due_by, DUES.c.commitments).where(
            DUES.c.agreement_id.in_(bindparam("agreement_ids", expanding=True))
        ),
        {"agreement_ids": list(agreement_ids)},
    ):
        found[row.agreement_id][row.due_by] = row.commitments
    return found


def difference(now: Counter[date], kept: Counter[date]) -> dict[date, int]:
    """What moves kept rows that hold `kept` to `now`."""
    return {
        due_by: now[due_by] - kept[due_by]
        for due_by in now.keys() | kept.keys()
        if now[due_by] != kept[due_by]
    }


def rebuild_dues(session: Session, agreement_ids: Sequence[int]) -> None:
    """Bring these agreements' rows, and the totals with them, in line with their
    commitments, counted in the database, in the session's transaction. The caller holds
    the agreements' row locks (tallies.rebuild_tallies takes them)."""
    connection = session.connection()
    ordered = sorted(agreement_ids)
    for start in range(0, len(ordered), AGREEMENTS_PER_REBUILD):
        batch = ordered[start : start + AGREEMENTS_PER_REBUILD]
        now: dict[int, Counter[date]] = {agreement_id: Counter() for agreement_id in batch}
        for row in connection.execute(_COUNTED, {"agreement_ids": batch}):
            now[row.agreement_id][row.due_by] = row.commitments
        kept = kept_dues(connection, batch)
        moved = {
            agreement_id: difference(now[agreement_id], kept[agreement_id])
            for agreement_id in batch
        }
        rows = [
            {"agreement_id": agreement_id, "due_by": due_by, "commitments": count}
            for agreement_id in batch
            for due_by, count in sorted(moved[agreement_id].items())
        ]
        totals: Counter[date] = Counter()
        for one_moved in moved.values():
            totals.update(one_moved)
        by_agreement, to_totals = _statements(connection)
        if rows:
            connection.execute(by_agreement, rows)
        total_rows = [
            {"due_by": due_by, "commitments": count}
            for due_by, count in sorted(totals.items())
            if count
        ]
        if total_rows:
            connection.execute(to_totals, total_rows)


def rebuild_due_totals(session: Session) -> None:
    """Write the totals again as the sum of every agreement's rows, in the session's
    transaction (`rebuild_dues` moves them by what it moved in the agreements' rows, which
    leaves a total that went wrong as wrong). The table is locked meanwhile: a writer that
    has moved its agreement's rows but not yet the totals adds its change after this."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(text(f"LOCK TABLE {DUE_TOTALS.name} IN EXCLUSIVE MODE"))
    connection.execute(DUE_TOTALS.delete())
    connection.execute(
        DUE_TOTALS.insert().from_select(
            ["due_by", "commitments"],
            select(DUES.c.due_by, func.sum(DUES.c.commitments))
            .group_by(DUES.c.due_by)
            .having(func.sum(DUES.c.commitments) != 0),
        )
    )


def overdue_kept(on: date, agreements: Sequence[ColumnElement[bool]] | None) -> Any:
    """A SELECT of how many commitments are overdue on the day `on`: those open with a due
    date before it. `agreements`: conditions on an agreement id column, applied to the
    agreements' rows (None: every commitment, from the totals)."""
    if agreements is None:
        return select(func.coalesce(func.sum(DUE_TOTALS.c.commitments), 0)).where(
            _overdue(DUE_TOTALS, on)
        )
    return select(func.coalesce(func.sum(DUES.c.commitments), 0)).where(
        _overdue(DUES, on), *agreements
    )


def overdue_kept_by_agreement(on: date, agreement_ids: Sequence[int]) -> Any:
    """overdue_kept for each of these agreements: a SELECT of (agreement_id, overdue), an
    agreement with none overdue left out."""
    return (
        select(DUES.c.agreement_id, func.sum(DUES.c.commitments))
        .where(_overdue(DUES, on), DUES.c.agreement_id.in_(agreement_ids))
        .group_by(DUES.c.agreement_id)
    )


def _overdue(table: Any, on: date) -> ColumnElement[bool]:
    """The kept open commitments (`table`'s rows) overdue on the day `on`: due before it
    (rules.is_overdue; the rows hold only commitments in a live status)."""
    overdue: ColumnElement[bool] = table.c.due_by < on
    return overdue


# The open commitments of some agreements counted by the database: progress.sql's
# statement of a live status, over the commitments' derived status.
_COUNTED = (
    select(COMMITMENTS.c.agreement_id, COMMITMENTS.c.due_by, func.count().label("commitments"))
    .where(
        COMMITMENTS.c.deleted_at.is_(None),
        COMMITMENTS.c.due_by.is_not(None),
        is_live_status_sql(COMMITMENTS.c.current_status),
        COMMITMENTS.c.agreement_id.in_(bindparam("agreement_ids", expanding=True)),
    )
    .group_by(COMMITMENTS.c.agreement_id, COMMITMENTS.c.due_by)
)

_BUILT: dict[str, tuple[Any, Any]] = {}


def _statements(connection: Connection) -> tuple[Any, Any]:
    """The two additions (an agreement's rows, the totals), built once a dialect."""
    name = connection.dialect.name
    if name not in _BUILT:
        dialect = postgresql if name == "postgresql" else sqlite
        by_agreement = dialect.insert(DUES)
        totals = dialect.insert(DUE_TOTALS)
        _BUILT[name] = (
            by_agreement.on_conflict_do_update(
                index_elements=["agreement_id", "due_by"],
                set_={"commitments": DUES.c.commitments + by_agreement.excluded.commitments},
            ),
            totals.on_conflict_do_update(
                index_elements=["due_by"],
                set_={"commitments": DUE_TOTALS.c.commitments + totals.excluded.commitments},
            ),
        )
    return _BUILT[name]
