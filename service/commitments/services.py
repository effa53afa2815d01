from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, func, literal, select
from sqlalchemy.orm import Session, aliased

from service.agreements.models import Agreement
from service.agreements.services import agreements_with_party
from service.commitments import rows
from service.commitments.inputs import (
    CommitmentActorFilters,
    CommitmentActorIn,
    CommitmentFilters,
    CommitmentIn,
)
from service.commitments.models import COMMITMENT_SEARCH_DOCUMENT, Commitment, CommitmentActor
from service.commitments.rows import CommitmentRow
from service.core import records, search, writes
from service.core.dates import unknown_if_cleared
from service.core.errors import InvalidInput
from service.core.pagination import Page, PageRequest, keyset_page
from service.core.vocabularies import EntityType
from service.organizations.models import Organization
from service.progress import upkeep
from service.progress.as_of import commitments_as_of
from service.progress.sql import overdue_on, status_on
from service.themes.models import Theme, commitment_themes
from service.themes.services import themes_for_slugs

COMMITMENT = EntityType.COMMITMENT
ACTOR = EntityType.COMMITMENT_ACTOR
AGREEMENT = EntityType.AGREEMENT
# Deep enough for any real agreement's sections, subsections and actions.
MAX_TREE_DEPTH = 12


# --- reads -----------------------------------------------------------------------------------


def _filtered(session: Session, statement: Any, filters: CommitmentFilters) -> Any:
    if "agreement" in filters:
        statement = statement.where(
            records.refers_to(
                Commitment.agreement_id,
                session,
                Agreement,
                AGREEMENT,
                filters["agreement"],
                "agreement",
            )
        )
    if filters.get("status"):
        statuses = [status.value for status in filters["status"]]
        column = status_on(filters["as_of"]) if "as_of" in filters else Commitment.current_status
        statement = statement.where(column.in_(statuses))
    if "kind" in filters:
        statement = statement.where(Commitment.kind == filters["kind"])
    if "top_level" in filters:
        top = Commitment.parent_id.is_(None)
        statement = statement.where(top if filters["top_level"] else ~top)
    if "theme" in filters:
        theme_ids = records.subtree_ids(session, Theme, EntityType.THEME, filters["theme"], "theme")
        statement = statement.where(
            Commitment.id.in_(
                select(commitment_themes.c.commitment_id).where(
                    commitment_themes.c.theme_id.in_(theme_ids)
                )
            )
        )
    if "party" in filters:
        statement = statement.where(
            Commitment.agreement_id.in_(agreements_with_party(session, filters["party"], "party"))
        )
    if "actor" in filters:
        organization_ids = records.subtree_ids(
            session, Organization, EntityType.ORGANIZATION, filters["actor"], "actor"
        )
        statement = statement.where(
            Commitment.id.in_(
                select(CommitmentActor.commitment_id).where(
                    CommitmentActor.deleted_at.is_(None),
                    CommitmentActor.organization_id.in_(organization_ids),
                )
            )
        )
    if "overdue" in filters:
        when = filters.get("as_of") or date.today()
        status = status_on(when) if "as_of" in filters else Commitment.current_status
        overdue = overdue_on(when, status)
        statement = statement.where(overdue if filters["overdue"] else ~overdue)
    if "due_before" in filters:
        statement = statement.where(Commitment.due_date_value < filters["due_before"])
    if "q" in filters:
        statement = statement.where(
            search.text_match(
                session,
                COMMITMENT_SEARCH_DOCUMENT,
                [Commitment.title, Commitment.text, Commitment.summary],
                filters["q"],
            )
        )
    return statement


def _page(
    session: Session, statement: Any, page: PageRequest, filters: CommitmentFilters
) -> Page[CommitmentRow]:
    result = rows.read_page(session, _filtered(session, statement, filters), page)
    items = result.items
    if "as_of" in filters:
        items = commitments_as_of(session, items, filters["as_of"])
    return Page(items=items, next_key=result.next_key)


def list_commitments(
    session: Session, *, page: PageRequest, filters: CommitmentFilters
) -> Page[CommitmentRow]:
    return _page(session, records.live(Commitment), page, filters)


def list_agreement_commitments(
    session: Session, *, agreement_ref: str, page: PageRequest, filters: CommitmentFilters
) -> Page[CommitmentRow]:
    agreement = records.find_by_ref(session, Agreement, AGREEMENT, agreement_ref)
    return _page(
        session,
        records.live(Commitment).where(Commitment.agreement_id == agreement.id),
        page,
        filters,
    )


def list_commitment_children(
    session: Session, *, commitment_id: int, page: PageRequest, filters: CommitmentFilters
) -> Page[CommitmentRow]:
    parent = records.find(session, Commitment, COMMITMENT, commitment_id)
    return _page(
        session, records.live(Commitment).where(Commitment.parent_id == parent.id), page, filters
    )


def get_commitment(
    session: Session, *, commitment_id: int, as_of: date | None = None
) -> CommitmentRow:
    commitment = rows.read_commitment(session, commitment_id)
    if commitment is None:
        raise records.not_found(COMMITMENT, commitment_id)
    if as_of is None:
        return commitment
    return commitments_as_of(session, [commitment], as_of)[0]


# --- writes ----------------------------------------------------------------------------------


def _lock_agreement(session: Session, agreement_id: int) -> Agreement:
    # Every write to a commitment tree locks its agreement's row: roll-ups stay consistent.
    return records.find(session, Agreement, AGREEMENT, agreement_id, for_update=True)


def _check_parent(
    session: Session, commitment_id: int | None, agreement_id: int, parent_id: int
) -> None:
    parent = records.referenced(session, Commitment, COMMITMENT, parent_id, "parent_id")
    if parent.agreement_id != agreement_id:
        message = "The parent must be a commitment of the same agreement."
        raise InvalidInput(message, errors={"parent_id": [message]})
    records.ensure_no_cycle(session, Commitment, COMMITMENT, commitment_id, parent_id)
    ensure_within_depth(session, commitment_id, parent_id)


def ensure_within_depth(session: Session, commitment_id: int | None, parent_id: int) -> None:
    """Refuse a parent under which the commitment (a new one when `commitment_id` is None),
    with every commitment under it, would be more than MAX_TREE_DEPTH levels deep (422 on
    parent_id). Creating, moving and importing all pass here; the parent is no descendant."""
    above = _levels(session, parent_id, down=False)
    brought = 1 if commitment_id is None else _levels(session, commitment_id, down=True)
    if above + brought > MAX_TREE_DEPTH:
        message = (
            f"A commitment tree is at most {MAX_TREE_DEPTH} levels deep; under this parent, "
            f"the commitment or one under it would be at level {above + brought}."
        )
        raise InvalidInput(message, errors={"parent_id": [message]})


def _levels(session: Session, commitment_id: int, *, down: bool) -> int:
    """How many levels the commitment spans with its ancestors up to the top (`down` False),
    or with its live descendants down to the deepest; in one statement, which stops counting
    one level past the limit."""
    step = aliased(Commitment)
    chain = (
        select(Commitment.id, Commitment.parent_id, literal(1).label("level"))
        .where(Commitment.id == commitment_id)
        .cte("chain", recursive=True)
    )
    link = step.parent_id == chain.c.id if down else step.id == chain.c.parent_id
    chain = chain.union_all(
        select(step.id, step.parent_id, chain.c.level + 1).where(
            link, step.deleted_at.is_(None), chain.c.level <= MAX_TREE_DEPTH
        )
    )
    return session.scalar(select(func.max(chain.c.level))) or 0


def commitment_values(data: Mapping[str, Any]) -> dict[str, Any]:
    """The fields a write sets on a commitment: a due date sent as null is the unknown date,
    and the day it is due by (`due_by`, what overdue is judged on) follows it. The API's
    writes and both imports set them so."""
    values: dict[str, Any] = dict(data)
    unknown_if_cleared(values, "due_date")
    if "due_date" in values:
        values["due_by"] = values["due_date"].last_day()
    return values


def create_agreement_commitment(
    session: Session, *, agreement_ref: str, data: CommitmentIn
) -> CommitmentRow:
    agreement = records.find_by_ref(session, Agreement, AGREEMENT, agreement_ref, for_update=True)
    values = commitment_values(data)
    records.ensure_unique(session, Commitment, COMMITMENT, "external_id", values.get("external_id"))
    if (parent_id := values.get("parent_id")) is not None:
        _check_parent(session, None, agreement.id, parent_id)
    themes = themes_for_slugs(session, values.pop("themes", []))
    commitment = writes.add(
        session,
        Commitment(agreement_id=agreement.id, themes=themes, **values),
        COMMITMENT,
        extra={"themes": [theme.slug for theme in themes]},
    )
    upkeep.refresh_progress(session, agreement.id)
    writes.commit(session)
    return _shown(session, commitment.id)


def update_commitment(
    session: Session, *, commitment_id: int, data: CommitmentIn, check: writes.Check
) -> CommitmentRow:
    commitment = records.find(session, Commitment, COMMITMENT, commitment_id)
    agreement = _lock_agreement(session, commitment.agreement_id)
    session.refresh(commitment)  # read it again under the lock
    check(_shown(session, commitment.id))  # `If-Match` names what a read shows
    values = commitment_values(data)
    if values.get("external_id") is not None:
        records.ensure_unique(
            session,
            Commitment,
            COMMITMENT,
            "external_id",
            values["external_id"],
            exclude_id=commitment.id,
        )
    if (parent_id := values.get("parent_id")) is not None:
        _check_parent(session, commitment.id, agreement.id, parent_id)
    changes: dict[str, Any] = {}
    if "themes" in values:
        themes = themes_for_slugs(session, values.pop("themes"))
        changes.update(
            writes.list_change("themes", commitment.theme_slugs, [theme.slug for theme in themes])
        )
        commitment.themes = themes
    changes.update(writes.assign(commitment, values))
    writes.record_update(session, commitment, COMMITMENT, changes)
    upkeep.refresh_progress(session, agreement.id)
    writes.commit(session)
    return _shown(session, commitment.id)


def _shown(session: Session, commitment_id: int) -> CommitmentRow:
    shown = rows.read_commitment(session, commitment_id)
    assert shown is not None, "a commitment just written is live"
    return shown


def delete_commitment(session: Session, *, commitment_id: int, check: writes.Check) -> None:
    """Soft-delete the commitment and everything under it."""
    commitment = records.find(session, Commitment, COMMITMENT, commitment_id)
    agreement = _lock_agreement(session, commitment.agreement_id)
    session.refresh(commitment)
    check(_shown(session, commitment.id))
    doomed, frontier = [commitment], [commitment.id]
    while frontier:
        children = list(
            session.scalars(records.live(Commitment).where(Commitment.parent_id.in_(frontier)))
        )
        doomed.extend(children)
        frontier = [child.id for child in children]
    for record in reversed(doomed):
        writes.soft_delete(session, record, COMMITMENT)
    upkeep.refresh_progress(session, agreement.id)
    writes.commit(session)


# --- actors ----------------------------------------------------------------------------------


def list_commitment_actors(
    session: Session, *, commitment_id: int, page: PageRequest, filters: CommitmentActorFilters
) -> Page[CommitmentActor]:
    commitment = records.find(session, Commitment, COMMITMENT, commitment_id)
    statement = records.live(CommitmentActor).where(CommitmentActor.commitment_id == commitment.id)
    if "role" in filters:
        statement = statement.where(CommitmentActor.role == filters["role"])
    return keyset_page(session, statement, CommitmentActor.id, page)


def get_commitment_actor(session: Session, *, commitment_id: int, actor_id: int) -> CommitmentActor:
    commitment = records.find(session, Commitment, COMMITMENT, commitment_id)
    return records.find_child(
        session, CommitmentActor, ACTOR, "commitment_id", commitment.id, actor_id
    )


def _ensure_new_actor(
    session: Session,
    commitment_id: int,
    organization_id: int,
    role: Any,
    exclude_id: int | None = None,
) -> None:
    records.ensure_unique_together(
        session,
        CommitmentActor,
        {"commitment_id": commitment_id, "organization_id": organization_id, "role": role},
        "role",
        "This organization already has this role in the commitment.",
        exclude_id=exclude_id,
    )


def create_commitment_actor(
    session: Session, *, commitment_id: int, data: CommitmentActorIn
) -> CommitmentActor:
    commitment = records.find(session, Commitment, COMMITMENT, commitment_id, for_update=True)
    records.referenced(
        session, Organization, EntityType.ORGANIZATION, data["organization_id"], "organization_id"
    )
    _ensure_new_actor(session, commitment.id, data["organization_id"], data["role"])
    actor = writes.add(session, CommitmentActor(commitment_id=commitment.id, **data), ACTOR)
    writes.commit(session)
    return actor


def update_commitment_actor(
    session: Session,
    *,
    commitment_id: int,
    actor_id: int,
    data: CommitmentActorIn,
    check: writes.Check,
) -> CommitmentActor:
    commitment = records.find(session, Commitment, COMMITMENT, commitment_id, for_update=True)
    actor = records.find_child(
        session, CommitmentActor, ACTOR, "commitment_id", commitment.id, actor_id, for_update=True
    )
    check(actor)
    if "organization_id" in data:
        records.referenced(
            session,
            Organization,
            EntityType.ORGANIZATION,
            data["organization_id"],
            "organization_id",
        )
    _ensure_new_actor(
        session,
        commitment.id,
        data.get("organization_id", actor.organization_id),
        data.get("role", actor.role),
        exclude_id=actor.id,
    )
    writes.record_update(session, actor, ACTOR, writes.assign(actor, data))
    writes.commit(session)
    return actor


def delete_commitment_actor(
    session: Session, *, commitment_id: int, actor_id: int, check: writes.Check
) -> None:
    commitment = records.find(session, Commitment, COMMITMENT, commitment_id, for_update=True)
    actor = records.find_child(
        session, CommitmentActor, ACTOR, "commitment_id", commitment.id, actor_id, for_update=True
    )
    check(actor)
    writes.soft_delete(session, actor, ACTOR)
    writes.commit(session)


def under_commitments(
    session: Session, commitment_id: Any, filters: Mapping[str, Any]
) -> list[ColumnElement[bool]]:
    """The conditions on the `commitment_id` of records kept under commitments (assessments,
    indicators) that their lists' `commitment` and `agreement` (id or slug) filters ask; an
    agreement that does not exist is a 422 naming `agreement`."""
    conditions: list[ColumnElement[bool]] = []
    if "commitment" in filters:
        conditions.append(commitment_id == filters["commitment"])
    if "agreement" in filters:
        in_agreement = records.refers_to(
            Commitment.agreement_id,
            session,
            Agreement,
            AGREEMENT,
            filters["agreement"],
            "agreement",
        )
        conditions.append(commitment_id.in_(select(Commitment.id).where(in_agreement)))
    return conditions
