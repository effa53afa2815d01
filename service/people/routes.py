from __future__ import annotations

from service.core import writes
from service.core.pagination import Page, PageRequest
from service.http.api import Blueprint, get_session
from service.http.resources import ResourceRoutes
from service.people import services
from service.people.inputs import MembershipFilters, MembershipIn, PersonFilters, PersonIn
from service.people.models import Membership, Person
from service.people.schemas import (
    MembershipCreateSchema,
    MembershipQuerySchema,
    MembershipSchema,
    MembershipUpdateSchema,
    PersonCreateSchema,
    PersonQuerySchema,
    PersonSchema,
    PersonUpdateSchema,
)

blp = Blueprint(
    "people", __name__, url_prefix="/api/v1", description="Officials and other named actors."
)
memberships_blp = Blueprint(
    "memberships",
    __name__,
    url_prefix="/api/v1",
    description="Who held which post, or belonged to which organization, and when.",
)

people = ResourceRoutes(
    blp,
    name="person",
    identity={"person_ref": "id"},
    plural="people",
    schema=PersonSchema,
    create_schema=PersonCreateSchema,
    update_schema=PersonUpdateSchema,
    query_schema=PersonQuerySchema,
)


@people.list("/people")
def list_people(page: PageRequest, filters: PersonFilters) -> Page[Person]:
    """List people."""
    return services.list_people(get_session(), page=page, filters=filters)


@people.create("/people", location=lambda person: f"/people/{person.id}")
def create_person(body: PersonIn) -> Person:
    """Create a person."""
    return services.create_person(get_session(), data=body)


@people.get("/people/<person_ref>")
def get_person(person_ref: str) -> Person:
    """Get a person by id or slug."""
    return services.get_person(get_session(), person_ref=person_ref)


@people.update("/people/<person_ref>")
def update_person(person_ref: str, body: PersonIn, check: writes.Check) -> Person:
    """Change a person's fields."""
    return services.update_person(get_session(), person_ref=person_ref, data=body, check=check)


@people.delete("/people/<person_ref>")
def delete_person(person_ref: str, check: writes.Check) -> None:
    """Delete a person (soft)."""
    services.delete_person(get_session(), person_ref=person_ref, check=check)


memberships = ResourceRoutes(
    memberships_blp,
    name="membership",
    identity={"membership_id": "id"},
    plural="memberships",
    schema=MembershipSchema,
    create_schema=MembershipCreateSchema,
    update_schema=MembershipUpdateSchema,
    query_schema=MembershipQuerySchema,
)


@memberships.list("/memberships", more_errors=[422])
def list_memberships(page: PageRequest, filters: MembershipFilters) -> Page[Membership]:
    """List memberships."""
    return services.list_memberships(get_session(), page=page, filters=filters)


@memberships.create("/memberships", location=lambda membership: f"/memberships/{membership.id}")
def create_membership(body: MembershipIn) -> Membership:
    """Record who held a post, or belonged to an organization."""
    return services.create_membership(get_session(), data=body)


@memberships.get("/memberships/<int:membership_id>")
def get_membership(membership_id: int) -> Membership:
    """Get a membership."""
    return services.get_membership(get_session(), membership_id=membership_id)


@memberships.update("/memberships/<int:membership_id>")
def update_membership(membership_id: int, body: MembershipIn, check: writes.Check) -> Membership:
    """Change a membership's fields."""
    return services.update_membership(
        get_session(), membership_id=membership_id, data=body, check=check
    )


@memberships.delete("/memberships/<int:membership_id>")
def delete_membership(membership_id: int, check: writes.Check) -> None:
    """Delete a membership (soft)."""
    services.delete_membership(get_session(), membership_id=membership_id, check=check)
