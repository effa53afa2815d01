"""The statistics' tallies, kept in the transaction of every write (DESIGN §1, issue 17).

For each agreement, and for each theme its commitments are filed under (directly or below
it), how many live commitments stand in each status, and the known weight and weighted
progress of the scope's top commitments (those whose parent is not in the scope), split by
their status. A summary then sums a few rows a scope, and the scope's progress is the second
sum over the first: rules.weighted_mean over the top commitments.

`tallies_of` states the tallies once, in Python, from an agreement's live commitments: the
write path feeds it the tree it has just written (progress.upkeep), `rebuild_tallies` the
trees it reads. tests/progress holds the kept rows equal to a rebuild's after random writes,
and the summary equal to one counted from the commitments.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from functools import cache, lru_cache
from typing import Any, NamedTuple, cast

from sqlalchemy import (
    ColumnElement,
    Connection,
    String,
    and_,
    bindparam,
    func,
    or_,
    select,
    tuple_,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased

from service.agreements.models import Agreement
from service.core.vocabularies import ImplementationStatus
from service.progress.models import EVERY_THEME
from service.progress.rules import weighs_in
from service.progress.tables import COMMITMENTS, TALLIES, THEMES
from service.themes.models import commitment_themes

KEY = ("agreement_id", "theme_id", "status")
VALUES = ("commitments", "top_known_weight", "top_weighted_progress")


@cache  # one object: a statement that names it twice holds it once (one name, one CTE)
def theme_reach() -> Any:
    """Each live theme with itself and every live theme above it, as (theme_id, scope_id):
    a commitment filed under `theme_id` is in the scope of `scope_id`. records.subtree_ids read
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


class ScopedNode(NamedTuple):
    """A live commitment as the tallies read it: its place in the tree, its kept status and
    progress, and the themes whose scope it is in (EVERY_THEME aside)."""

    id: int
    parent_id: int | None
    weight: float
    status: ImplementationStatus
    progress: float | None
    themes: frozenset[int]


# By (theme key, status): commitments, the known weight and weighted progress of the top
# ones, and how many top ones are known (the monthly rows keep it; the tallies need not).
Tallies = dict[tuple[int, ImplementationStatus], tuple[int, float, float, int]]


def tallies_of(nodes: Iterable[ScopedNode]) -> Tallies:
    """An agreement's tallies from its live commitments: each counts in EVERY_THEME and in
    each theme scope it is in, and is a top commitment of a scope when its parent is not in
    that scope (every parent is in EVERY_THEME's)."""
    nodes = list(nodes)
    scopes = {node.id: node.themes | {EVERY_THEME} for node in nodes}
    found: dict[tuple[int, ImplementationStatus], list[float]] = {}
    for node in nodes:
        above = scopes.get(node.parent_id, frozenset()) if node.parent_id is not None else ()
        counted = weighs_in(node.progress, node.weight)
        for theme_id in scopes[node.id]:
            tally = found.setdefault((theme_id, node.status), [0, 0.0, 0.0, 0])
            tally[0] += 1
            if counted and theme_id not in above:
                tally[1] += node.weight
                tally[2] += node.weight * cast(float, node.progress)
                tally[3] += 1
    return {
        key: (int(count), weight, weighted, int(known))
        for key, (count, weight, weighted, known) in found.items()
    }


def scope_themes() -> Any:
    """A column for a SELECT over the commitments: the themes whose scope the commitment is
    in, as ids joined by commas (None: none); `themes_in` reads it."""
    reach = theme_reach()
    return (
        select(func.aggregate_strings(sql_cast(reach.c.scope_id, String), ","))
        .select_from(
            commitment_themes.join(reach, reach.c.theme_id == commitment_themes.c.theme_id)
        )
        .where(commitment_themes.c.commitment_id == COMMITMENTS.c.id)
        .scalar_subquery()
    )


@lru_cache(maxsize=1024)  # a tree's commitments share a few combinations of themes
def themes_in(joined: str | None) -> frozenset[int]:
    return frozenset(int(item) for item in joined.split(",")) if joined else frozenset()


def keep_tallies(
    connection: Connection,
    agreement_id: int,
    fresh: Tallies,
    *,
    touched: Collection[tuple[int, ImplementationStatus]] | None = None,
) -> None:
    """Write an agreement's tallies, `fresh` (tallies_of its live commitments as the write
    left them). `touched`: the only rows that can have moved (a write that changed statuses
    and progress, not the tree or the themes), written or removed; by default every row is
    written where it moved, and the rows no commitment holds any more are removed.
    Nothing is read back, so on PostgreSQL the caller may send this in a pipeline with the
    write's other statements (in the write's transaction, under the agreement's lock)."""
    statements = _KEEP.get(connection.dialect.name)
    if statements is None:
        # Built once a dialect: building the statements costs more than running them.
        statements = _KEEP[connection.dialect.name] = _statements(connection)
    upsert, gone, one_gone = statements
    keys = sorted(fresh) if touched is None else sorted(set(touched) & set(fresh))
    rows = [
        {
            "agreement_id": agreement_id,
            "theme_id": theme_id,
            "status": status,
            "commitments": fresh[theme_id, status][0],
            "top_known_weight": fresh[theme_id, status][1],
            "top_weighted_progress": fresh[theme_id, status][2],
        }
        for theme_id, status in keys
    ]
    if rows:
        connection.execute(upsert, rows)
    if touched is None:
        connection.execute(gone, {"tallied_agreement_id": agreement_id, "kept": sorted(fresh)})
        return
    emptied = [
        {"tallied_agreement_id": agreement_id, "theme_key": theme_id, "status_key": status}
        for theme_id, status in sorted(set(touched) - set(fresh))
    ]
    if emptied:
        connection.execute(one_gone, emptied)


def touched_by(
    node: ScopedNode, before: ImplementationStatus
) -> set[tuple[int, ImplementationStatus]]:
    """The rows a commitment's new status and progress can move (its theme scopes did not
    change): its old status's and its new one's, in each scope it is in."""
    return {
        (theme_id, status)
        for theme_id in node.themes | {EVERY_THEME}
        for status in (before, node.status)
    }


_KEEP: dict[str, tuple[Any, Any, Any]] = {}


def _statements(connection: Connection) -> tuple[Any, Any, Any]:
    """The upsert of an agreement's rows (writing only those that moved), the removal of its
    rows whose (theme key, status) is not among the `kept` ones, and the removal of one row."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(TALLIES)
    new = statement.excluded
    upsert = statement.on_conflict_do_update(
        index_elements=list(KEY),
        set_={name: new[name] for name in VALUES},
        where=or_(*(TALLIES.c[name].is_distinct_from(new[name]) for name in VALUES)),
    )
    of_agreement = TALLIES.c.agreement_id == bindparam("tallied_agreement_id")
    gone = TALLIES.delete().where(
        of_agreement,
        tuple_(TALLIES.c.theme_id, TALLIES.c.status).not_in(bindparam("kept", expanding=True)),
    )
    one_gone = TALLIES.delete().where(
        of_agreement,
        TALLIES.c.theme_id == bindparam("theme_key"),
        TALLIES.c.status == bindparam("status_key"),
    )
    return upsert, gone, one_gone


def scoped_nodes(
    connection: Connection, agreement_ids: Sequence[int]
) -> dict[int, list[ScopedNode]]:
    """The live commitments of these agreements as the tallies read them, by agreement."""
    rows = connection.execute(
        select(
            COMMITMENTS.c.agreement_id,
            COMMITMENTS.c.id,
            COMMITMENTS.c.parent_id,
            COMMITMENTS.c.weight,
            COMMITMENTS.c.current_status,
            COMMITMENTS.c.current_progress,
            scope_themes().label("themes"),
        ).where(COMMITMENTS.c.deleted_at.is_(None), COMMITMENTS.c.agreement_id.in_(agreement_ids))
    )
    found: dict[int, list[ScopedNode]] = {agreement_id: [] for agreement_id in agreement_ids}
    for row in rows:
        found[row.agreement_id].append(
            ScopedNode(
                row.id,
                row.parent_id,
                row.weight,
                ImplementationStatus(row.current_status),
                row.current_progress,
                themes_in(row.themes),
            )
        )
    return found


# Agreements a statement when rebuilding: each statement's work stays well within the
# statement timeout.
AGREEMENTS_PER_REBUILD = 200


def rebuild_tallies(session: Session, agreement_ids: Sequence[int] | None = None) -> int:
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
        for agreement_id, nodes in scoped_nodes(connection, batch).items():
            keep_tallies(connection, agreement_id, tallies_of(nodes))
    return len(agreement_ids)


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


def tallied_by_agreement(agreement_ids: Sequence[int]) -> Any:
    """Each of these agreements' tallies (of every commitment of it): a SELECT of its id,
    then the columns of `tallied`."""
    return select(
        TALLIES.c.agreement_id,
        TALLIES.c.status,
        TALLIES.c.commitments,
        TALLIES.c.top_known_weight,
        TALLIES.c.top_weighted_progress,
    ).where(TALLIES.c.theme_id == EVERY_THEME, TALLIES.c.agreement_id.in_(agreement_ids))


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
