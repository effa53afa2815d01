"""The statistics' tallies, kept in the transaction of every write (DESIGN §1, issue 17).

For each agreement, and for each theme its commitments are filed under (directly or below
it), how many live commitments stand in each status, and the known weight and weighted
progress of the scope's top commitments (those whose parent is not in the scope), split by
their status. A summary then sums a few rows a scope, and the scope's progress is the second
sum over the first: rules.weighted_mean over the top commitments, as progress.sql states it.

The tallies are stated once, as the SELECT below: the write path runs it for one agreement,
`rebuild_tallies` for many, so upkeep and rebuild cannot drift apart; tests/progress holds
them equal to a rebuild after random writes, and the summary equal to the commitments.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Table,
    and_,
    bindparam,
    exists,
    func,
    literal,
    or_,
    select,
    true,
    tuple_,
    union,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased

from service.agreements.models import Agreement
from service.commitments.models import Commitment
from service.progress.models import EVERY_THEME, ProgressTally
from service.progress.sql import weighted_sums
from service.themes.models import Theme, commitment_themes

TALLIES: Table = ProgressTally.__table__  # type: ignore[assignment]
COMMITMENTS: Table = Commitment.__table__  # type: ignore[assignment]
THEMES: Table = Theme.__table__  # type: ignore[assignment]
KEY = ("agreement_id", "theme_id", "status")
VALUES = ("commitments", "top_known_weight", "top_weighted_progress")


@cache  # one object: a statement that names it twice holds it once (one name, one CTE)
def theme_reach() -> Any:
    """Each live theme with itself and every live theme above it, as (theme_id, scope_id):
    a commitment filed under `theme_id` is in the scope of `scope_id`. crud.subtree_ids read
    the other way (it walks down through live themes; this walks up through them). UNION,
    not UNION ALL: a cycle, which the writes refuse, ends the walk instead of looping."""
    start = (
        select(
            THEMES.c.id.label("theme_id"),
            THEMES.c.id.label("scope_id"),
            THEMES.c.parent_id.label("next_id"),
        )
        .where(THEMES.c.deleted_at.is_(None))
        .cte("theme_reach", recursive=True)
    )
    above = aliased(THEMES)
    step = select(start.c.theme_id, above.c.id, above.c.parent_id).join(
        above, and_(above.c.id == start.c.next_id, above.c.deleted_at.is_(None))
    )
    return start.union(step)


def filed_under(theme_id: int) -> Any:
    """A SELECT of the commitments in a theme's scope: filed under it or a live theme below
    it (the statistics' filters use this; the tallies join theme_reach for every scope at
    once)."""
    reach = theme_reach()
    return (
        select(commitment_themes.c.commitment_id)
        .join(reach, reach.c.theme_id == commitment_themes.c.theme_id)
        .where(reach.c.scope_id == theme_id)
    )


def _fresh_tallies(agreements: Callable[[Any], ColumnElement[bool]]) -> Any:
    """The tallies as the commitments stand, for the agreements that `agreements` (a
    condition on an agreement id column) selects: one row per agreement, theme key and
    status."""
    live = COMMITMENTS.c.deleted_at.is_(None)
    columns = (
        COMMITMENTS.c.id.label("commitment_id"),
        COMMITMENTS.c.parent_id,
        COMMITMENTS.c.current_status,
        COMMITMENTS.c.weight,
        COMMITMENTS.c.current_progress,
    )
    reach = theme_reach()
    filed = (
        select(COMMITMENTS.c.agreement_id, reach.c.scope_id.label("theme_id"), *columns)
        .select_from(
            COMMITMENTS.join(
                commitment_themes, commitment_themes.c.commitment_id == COMMITMENTS.c.id
            ).join(reach, reach.c.theme_id == commitment_themes.c.theme_id)
        )
        .where(live, agreements(COMMITMENTS.c.agreement_id))
    )
    every = select(
        COMMITMENTS.c.agreement_id, literal(EVERY_THEME).label("theme_id"), *columns
    ).where(live, agreements(COMMITMENTS.c.agreement_id))
    # UNION: a commitment filed under two themes of one scope counts once in it.
    scoped = union(every, filed).cte("scoped")
    parent = aliased(scoped)
    top = or_(
        scoped.c.parent_id.is_(None),
        ~exists().where(
            parent.c.theme_id == scoped.c.theme_id,
            parent.c.commitment_id == scoped.c.parent_id,
        ),
    )
    known_weight, weighted = weighted_sums(scoped.c.current_progress, scoped.c.weight, top)
    return select(
        scoped.c.agreement_id,
        scoped.c.theme_id,
        scoped.c.current_status.label("status"),
        func.count().label("commitments"),
        known_weight.label("top_known_weight"),
        weighted.label("top_weighted_progress"),
    ).group_by(scoped.c.agreement_id, scoped.c.theme_id, scoped.c.current_status)


def _upsert(connection: Connection, fresh: Any) -> Any:
    """INSERT the fresh rows, updating those that exist and differ."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(TALLIES).from_select([*KEY, *VALUES], fresh)
    new = statement.excluded
    return statement.on_conflict_do_update(
        index_elements=list(KEY),
        set_={name: new[name] for name in VALUES},
        where=or_(*(TALLIES.c[name].is_distinct_from(new[name]) for name in VALUES)),
    )


def _statements(
    connection: Connection, agreements: Callable[[Any], ColumnElement[bool]]
) -> list[Any]:
    """Bring the tallies of the selected agreements in line with their commitments: delete
    the rows that no longer have commitments, then write the rest where they moved."""
    fresh = _fresh_tallies(agreements).subquery("fresh")
    gone = TALLIES.delete().where(
        agreements(TALLIES.c.agreement_id),
        tuple_(*(TALLIES.c[name] for name in KEY)).not_in(select(*(fresh.c[name] for name in KEY))),
    )
    # The WHERE that adds nothing tells SQLite's parser that ON CONFLICT is not a join's ON.
    return [gone, _upsert(connection, select(fresh).where(true()))]


def keep_tallies(connection: Connection, agreement_id: int) -> None:
    """After a write to an agreement's commitments (in its transaction, under the agreement's
    row lock, with the derived columns already written): its tallies, as they now stand.
    Nothing is read back, so on PostgreSQL the caller may send this in a pipeline."""
    statements = _KEEP.get(connection.dialect.name)
    if statements is None:
        # Built once a dialect: building the statements costs more than running them.
        statements = _KEEP[connection.dialect.name] = _statements(
            connection, lambda column: column == bindparam("tallied_agreement_id")
        )
    for statement in statements:
        connection.execute(statement, {"tallied_agreement_id": agreement_id})


_KEEP: dict[str, list[Any]] = {}


# Agreements a statement when rebuilding: each statement's work stays well within the
# statement timeout, and a progress bar can follow.
AGREEMENTS_PER_REBUILD = 200


def rebuild_tallies(
    session: Session,
    agreement_ids: Sequence[int] | None = None,
    *,
    on_progress: Callable[[int], None] | None = None,
) -> int:
    """Rebuild the tallies of these agreements (of every agreement when None) from their
    commitments, in the session's transaction; the number of agreements rebuilt. Rows of
    agreements with no live commitment, deleted ones included, are removed."""
    connection = session.connection()
    if agreement_ids is None:
        agreement_ids = sorted(
            set(connection.scalars(select(Agreement.id)))
            | set(connection.scalars(select(TALLIES.c.agreement_id).distinct()))
        )
    for batch in _batches(sorted(agreement_ids), AGREEMENTS_PER_REBUILD):
        # The agreements' row locks, in id order as every writer takes them: a write to one
        # of them waits for the rebuild instead of being overwritten by older counts.
        connection.execute(
            select(Agreement.id)
            .where(Agreement.id.in_(batch))
            .order_by(Agreement.id)
            .with_for_update()
        ).all()
        for statement in _statements(connection, _among(batch)):
            connection.execute(statement)
        if on_progress is not None:
            on_progress(len(batch))
    return len(agreement_ids)


def _among(ids: list[int]) -> Callable[[Any], ColumnElement[bool]]:
    def condition(column: Any) -> ColumnElement[bool]:
        among: ColumnElement[bool] = column.in_(ids)
        return among

    return condition


def agreements_under_theme(session: Session, theme_id: int) -> list[int]:
    """The agreements with a live commitment filed under the theme or one below it: those
    whose tallies move when the theme moves in the taxonomy or is deleted (ask before
    deleting it: a deleted theme is in no scope)."""
    reach = theme_reach()
    return list(
        session.scalars(
            select(COMMITMENTS.c.agreement_id)
            .select_from(
                COMMITMENTS.join(
                    commitment_themes, commitment_themes.c.commitment_id == COMMITMENTS.c.id
                ).join(reach, reach.c.theme_id == commitment_themes.c.theme_id)
            )
            .where(COMMITMENTS.c.deleted_at.is_(None), reach.c.scope_id == theme_id)
            .distinct()
        )
    )


def _batches(items: list[int], size: int) -> Iterable[list[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def tallied(agreements: Sequence[ColumnElement[bool]], theme_id: int | None) -> Any:
    """A SELECT of a scope's tallies summed by status: status, commitments, and the known
    weight and weighted progress of its top commitments. `agreements`: conditions on
    ProgressTally.agreement_id (none: every agreement); `theme_id`: the theme the scope is
    (None: every commitment)."""
    theme_key = EVERY_THEME if theme_id is None else theme_id
    return (
        select(
            TALLIES.c.status,
            func.sum(TALLIES.c.commitments),
            func.sum(TALLIES.c.top_known_weight),
            func.sum(TALLIES.c.top_weighted_progress),
        )
        .where(TALLIES.c.theme_id == theme_key, *agreements)
        .group_by(TALLIES.c.status)
    )
