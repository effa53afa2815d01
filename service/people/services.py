from __future__ import annotations

from collections.abc import Collection
from datetime import date
from typing import Any, cast

from sqlalchemy.orm import Session, selectinload

from service.core import records, writes
from service.core.dates import refuse_end_before_start, unknown_if_cleared
from service.core.errors import InvalidInput
from service.core.pagination import Page, PageRequest, keyset_page
from service.core.vocabularies import EntityType
from service.organizations.models import Organization, Post
from service.people.inputs import MembershipFilters, MembershipIn, PersonFilters, PersonIn
from service.people.models import Membership, Person
from service.people.tenure import in_effect_on

PERSON = EntityType.PERSON
MEMBERSHIP = EntityType.MEMBERSHIP


def list_people(session: Session, *, page: PageRequest, filters: PersonFilters) -> Page[Person]:
    statement = records.live(Person)
    if "q" in filters:
        statement = statement.where(Person.name.icontains(filters["q"], autoescape=True))
    return keyset_page(session, statement, Person.id, page)


def get_person(session: Session, *, person_ref: str) -> Person:
    return records.find_by_ref(session, Person, PERSON, person_ref)


def create_person(session: Session, *, data: PersonIn) -> Person:
    records.ensure_unique(session, Person, PERSON, "slug", data["slug"])
    person = writes.add(session, Person(**data), PERSON)
    writes.commit(session)
    return person


def update_person(
    session: Session, *, person_ref: str, data: PersonIn, check: writes.Check
) -> Person:
    person = records.find_by_ref(session, Person, PERSON, person_ref, for_update=True)
    check(person)
    if "slug" in data:
        records.ensure_unique(session, Person, PERSON, "slug", data["slug"], exclude_id=person.id)
    writes.record_update(session, person, PERSON, writes.assign(person, data))
    writes.commit(session)
    return person


def delete_person(session: Session, *, person_ref: str, check: writes.Check) -> None:
    person = records.find_by_ref(session, Person, PERSON, person_ref, for_update=True)
    check(person)
    writes.soft_delete(session, person, PERSON)
    writes.commit(session)


def list_memberships(
    session: Session, *, page: PageRequest, filters: MembershipFilters
) -> Page[Membership]:
    statement = records.live(Membership)
    if "person" in filters:
        statement = statement.where(
            records.refers_to(
                Membership.person_id, session, Person, PERSON, filters["person"], "person"
            )
        )
    if "organization" in filters:
        statement = statement.where(
            records.refers_to(
                Membership.organization_id,
                session,
                Organization,
                EntityType.ORGANIZATION,
                filters["organization"],
                "organization",
            )
        )
    if "post" in filters:
        post = records.referenced(session, Post, EntityType.POST, filters["post"], "post")
        statement = statement.where(Membership.post_id == post.id)
    if "as_of" in filters:
        statement = statement.where(in_effect_on(filters["as_of"]))
    return keyset_page(session, statement, Membership.id, page)


def holders_of(
    session: Session, post_ids: Collection[int], day: date
) -> dict[int, list[Membership]]:
    """The live memberships of live people in each of these posts in effect on `day`
    (tenure.in_effect_on), by post, earliest start first: one statement, and one for the
    people."""
    statement = (
        records.live(Membership)
        .join(Person, Person.id == Membership.person_id)
        .where(
            Membership.post_id.in_(post_ids),
            Person.deleted_at.is_(None),
            in_effect_on(day),
        )
        .options(selectinload(Membership.person))
        .order_by(Membership.start_date_value.is_(None), Membership.start_date_value, Membership.id)
    )
    held: dict[int, list[Membership]] = {post_id: [] for post_id in post_ids}
    for membership in session.scalars(statement):
        held[cast(int, membership.post_id)].append(membership)
    return held


def get_membership(session: Session, *, membership_id: int) -> Membership:
    return records.find(session, Membership, MEMBERSHIP, membership_id)


def _membership_values(
    session: Session, data: MembershipIn, current: Membership | None
) -> dict[str, Any]:
    values: dict[str, Any] = dict(data)
    unknown_if_cleared(values, "start_date", "end_date")
    if "person_id" in values:
        records.referenced(session, Person, PERSON, values["person_id"], "person_id")
    if (post_id := values.get("post_id")) is not None:
        records.referenced(session, Post, EntityType.POST, post_id, "post_id")
    if values.get("organization_id") is not None:
        records.referenced(
            session,
            Organization,
            EntityType.ORGANIZATION,
            values["organization_id"],
            "organization_id",
        )
    post_id = values.get("post_id", current.post_id if current else None)
    organization_id = values.get("organization_id", current.organization_id if current else None)
    if post_id is None and organization_id is None:
        message = (
            "A membership is of a post or of an organization: give post_id or organization_id."
        )
        raise InvalidInput(message, errors={"post_id": [message]})
    refuse_end_before_start(values, current)
    return values


def create_membership(session: Session, *, data: MembershipIn) -> Membership:
    membership = writes.add(
        session, Membership(**_membership_values(session, data, None)), MEMBERSHIP
    )
    writes.commit(session)
    return membership


def update_membership(
    session: Session, *, membership_id: int, data: MembershipIn, check: writes.Check
) -> Membership:
    membership = records.find(session, Membership, MEMBERSHIP, membership_id, for_update=True)
    check(membership)
    values = _membership_values(session, data, membership)
    writes.record_update(session, membership, MEMBERSHIP, writes.assign(membership, values))
    writes.commit(session)
    return membership


def delete_membership(session: Session, *, membership_id: int, check: writes.Check) -> None:
    membership = records.find(session, Membership, MEMBERSHIP, membership_id, for_update=True)
    check(membership)
    writes.soft_delete(session, membership, MEMBERSHIP)
    writes.commit(session)
