from __future__ import annotations

from service.api import Blueprint
from service.people import services
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
from service.resources import ResourceRoutes

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
people.list("/people", services.list_people, "List people.")
people.create(
    "/people",
    services.create_person,
    "Create a person.",
    location=lambda person: f"/people/{person.id}",
)
people.get("/people/<person_ref>", services.get_person, "Get a person by id or slug.")
people.update("/people/<person_ref>", services.update_person, "Change a person's fields.")
people.delete("/people/<person_ref>", services.delete_person, "Delete a person (soft).")

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
memberships.list("/memberships", services.list_memberships, "List memberships.", more_errors=[422])
memberships.create(
    "/memberships",
    services.create_membership,
    "Record who held a post, or belonged to an organization.",
    location=lambda membership: f"/memberships/{membership.id}",
)
memberships.get("/memberships/<int:membership_id>", services.get_membership, "Get a membership.")
memberships.update(
    "/memberships/<int:membership_id>", services.update_membership, "Change a membership's fields."
)
memberships.delete(
    "/memberships/<int:membership_id>", services.delete_membership, "Delete a membership (soft)."
)
