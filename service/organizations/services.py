from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import or_
from sqlalchemy.orm import Session

from service.core import records, writes
from service.core.pagination import Page, PageRequest, keyset_page
from service.core.vocabularies import EntityType
from service.organizations.inputs import OrganizationFilters, OrganizationIn, PostFilters, PostIn
from service.organizations.models import Organization, Post
from service.people.models import Membership
from service.people.services import holders_of

ORGANIZATION = EntityType.ORGANIZATION
POST = EntityType.POST


def list_organizations(
    session: Session, *, page: PageRequest, filters: OrganizationFilters
) -> Page[Organization]:
    statement = records.live(Organization)
    if "classification" in filters:
        statement = statement.where(Organization.classification == filters["classification"])
    if "country_code" in filters:
        statement = statement.where(Organization.country_code == filters["country_code"])
    if "parent" in filters:
        statement = statement.where(
            records.refers_to(
                Organization.parent_id,
                session,
                Organization,
                ORGANIZATION,
                filters["parent"],
                "parent",
            )
        )
    if "q" in filters:
        statement = statement.where(
            or_(
                Organization.name.icontains(filters["q"], autoescape=True),
                Organization.short_name.icontains(filters["q"], autoescape=True),
            )
        )
    return keyset_page(session, statement, Organization.id, page)


def get_organization(session: Session, *, organization_ref: str) -> Organization:
    return records.find_by_ref(session, Organization, ORGANIZATION, organization_ref)


def create_organization(session: Session, *, data: OrganizationIn) -> Organization:
    records.ensure_unique(session, Organization, ORGANIZATION, "slug", data["slug"])
    if (parent_id := data.get("parent_id")) is not None:
        records.referenced(session, Organization, ORGANIZATION, parent_id, "parent_id")
    organization = writes.add(session, Organization(**data), ORGANIZATION)
    writes.commit(session)
    return organization


def update_organization(
    session: Session, *, organization_ref: str, data: OrganizationIn, check: writes.Check
) -> Organization:
    organization = records.find_by_ref(
        session, Organization, ORGANIZATION, organization_ref, for_update=True
    )
    check(organization)
    if "slug" in data:
        records.ensure_unique(
            session, Organization, ORGANIZATION, "slug", data["slug"], exclude_id=organization.id
        )
    if (parent_id := data.get("parent_id")) is not None:
        records.referenced(session, Organization, ORGANIZATION, parent_id, "parent_id")
        records.ensure_no_cycle(
            session, Organization, ORGANIZATION, organization.id, data["parent_id"]
        )
    writes.record_update(session, organization, ORGANIZATION, writes.assign(organization, data))
    writes.commit(session)
    return organization


def delete_organization(session: Session, *, organization_ref: str, check: writes.Check) -> None:
    organization = records.find_by_ref(
        session, Organization, ORGANIZATION, organization_ref, for_update=True
    )
    check(organization)
    records.refuse_if_children(session, Organization, ORGANIZATION, organization.id)
    writes.soft_delete(session, organization, ORGANIZATION)
    writes.commit(session)


class ShownPost:
    """A post as the API shows it: the record, and who held it on `as_of` (None: today),
    as memberships with their people loaded (people.services.holders_of). The record's
    fields are read through."""

    def __init__(self, post: Post, holders: list[Membership], as_of: date | None) -> None:
        self.post, self.holders, self.as_of = post, holders, as_of

    def __getattr__(self, name: str) -> Any:
        return getattr(self.post, name)


def _shown(session: Session, posts: list[Post], as_of: date | None) -> list[ShownPost]:
    held = holders_of(session, [post.id for post in posts], as_of or date.today())
    return [ShownPost(post, held[post.id], as_of) for post in posts]


def list_posts(session: Session, *, page: PageRequest, filters: PostFilters) -> Page[ShownPost]:
    statement = records.live(Post)
    if "organization" in filters:
        statement = statement.where(
            records.refers_to(
                Post.organization_id,
                session,
                Organization,
                ORGANIZATION,
                filters["organization"],
                "organization",
            )
        )
    found = keyset_page(session, statement, Post.id, page)
    return Page(items=_shown(session, found.items, filters.get("as_of")), next_key=found.next_key)


def get_post(session: Session, *, post_id: int, as_of: date | None = None) -> ShownPost:
    [shown] = _shown(session, [records.find(session, Post, POST, post_id)], as_of)
    return shown


def create_post(session: Session, *, data: PostIn) -> ShownPost:
    records.referenced(
        session, Organization, ORGANIZATION, data["organization_id"], "organization_id"
    )
    post = writes.add(session, Post(**data), POST)
    writes.commit(session)
    return ShownPost(post, [], None)


def update_post(session: Session, *, post_id: int, data: PostIn, check: writes.Check) -> ShownPost:
    post = records.find(session, Post, POST, post_id, for_update=True)
    check(_shown(session, [post], None)[0])
    if "organization_id" in data:
        records.referenced(
            session, Organization, ORGANIZATION, data["organization_id"], "organization_id"
        )
    writes.record_update(session, post, POST, writes.assign(post, data))
    writes.commit(session)
    return _shown(session, [post], None)[0]


def delete_post(session: Session, *, post_id: int, check: writes.Check) -> None:
    post = records.find(session, Post, POST, post_id, for_update=True)
    check(_shown(session, [post], None)[0])
    writes.soft_delete(session, post, POST)
    writes.commit(session)
