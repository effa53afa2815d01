from __future__ import annotations

from datetime import date

from service.core import writes
from service.core.pagination import Page, PageRequest
from service.http.api import Blueprint, get_session
from service.http.resources import ResourceRoutes
from service.organizations import services
from service.organizations.inputs import OrganizationFilters, OrganizationIn, PostFilters, PostIn
from service.organizations.models import Organization
from service.organizations.schemas import (
    OrganizationCreateSchema,
    OrganizationQuerySchema,
    OrganizationSchema,
    OrganizationUpdateSchema,
    PostAsOfSchema,
    PostCreateSchema,
    PostQuerySchema,
    PostSchema,
    PostUpdateSchema,
)
from service.organizations.services import ShownPost

blp = Blueprint(
    "organizations",
    __name__,
    url_prefix="/api/v1",
    description="States, ministries, agencies, international bodies and companies.",
)
posts_blp = Blueprint(
    "posts",
    __name__,
    url_prefix="/api/v1",
    description="Positions in organizations that outlive their holders.",
)

organizations = ResourceRoutes(
    blp,
    name="organization",
    identity={"organization_ref": "id"},
    plural="organizations",
    schema=OrganizationSchema,
    create_schema=OrganizationCreateSchema,
    update_schema=OrganizationUpdateSchema,
    query_schema=OrganizationQuerySchema,
)


@organizations.list("/organizations", more_errors=[422])
def list_organizations(page: PageRequest, filters: OrganizationFilters) -> Page[Organization]:
    """List organizations."""
    return services.list_organizations(get_session(), page=page, filters=filters)


@organizations.create(
    "/organizations", location=lambda organization: f"/organizations/{organization.id}"
)
def create_organization(body: OrganizationIn) -> Organization:
    """Create an organization."""
    return services.create_organization(get_session(), data=body)


@organizations.get("/organizations/<organization_ref>")
def get_organization(organization_ref: str) -> Organization:
    """Get an organization by id or slug."""
    return services.get_organization(get_session(), organization_ref=organization_ref)


@organizations.update("/organizations/<organization_ref>")
def update_organization(
    organization_ref: str, body: OrganizationIn, check: writes.Check
) -> Organization:
    """Change an organization's fields."""
    return services.update_organization(
        get_session(), organization_ref=organization_ref, data=body, check=check
    )


@organizations.delete("/organizations/<organization_ref>")
def delete_organization(organization_ref: str, check: writes.Check) -> None:
    """Delete an organization (soft: it stays in the change feed)."""
    services.delete_organization(get_session(), organization_ref=organization_ref, check=check)


posts = ResourceRoutes(
    posts_blp,
    name="post",
    identity={"post_id": "id"},
    plural="posts",
    schema=PostSchema,
    create_schema=PostCreateSchema,
    update_schema=PostUpdateSchema,
    query_schema=PostQuerySchema,
)


@posts.list("/posts", more_errors=[422])
def list_posts(page: PageRequest, filters: PostFilters) -> Page[ShownPost]:
    """List posts."""
    return services.list_posts(get_session(), page=page, filters=filters)


@posts.create("/posts", location=lambda post: f"/posts/{post.id}")
def create_post(body: PostIn) -> ShownPost:
    """Create a post."""
    return services.create_post(get_session(), data=body)


@posts.get("/posts/<int:post_id>", query_schema=PostAsOfSchema)
def get_post(post_id: int, as_of: date | None = None) -> ShownPost:
    """Get a post, with who held it today (or on `as_of`)."""
    return services.get_post(get_session(), post_id=post_id, as_of=as_of)


@posts.update("/posts/<int:post_id>")
def update_post(post_id: int, body: PostIn, check: writes.Check) -> ShownPost:
    """Change a post's fields."""
    return services.update_post(get_session(), post_id=post_id, data=body, check=check)


@posts.delete("/posts/<int:post_id>")
def delete_post(post_id: int, check: writes.Check) -> None:
    """Delete a post."""
    services.delete_post(get_session(), post_id=post_id, check=check)
