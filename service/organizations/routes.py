from __future__ import annotations

from service.api import Blueprint
from service.organizations import services
from service.organizations.schemas import (
    OrganizationCreateSchema,
    OrganizationQuerySchema,
    OrganizationSchema,
    OrganizationUpdateSchema,
    PostCreateSchema,
    PostQuerySchema,
    PostSchema,
    PostUpdateSchema,
)
from service.resources import ResourceRoutes

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
organizations.list(
    "/organizations", services.list_organizations, "List organizations.", more_errors=[422]
)
organizations.create(
    "/organizations",
    services.create_organization,
    "Create an organization.",
    location=lambda organization: f"/organizations/{organization.id}",
)
organizations.get(
    "/organizations/<organization_ref>",
    services.get_organization,
    "Get an organization by id or slug.",
)
organizations.update(
    "/organizations/<organization_ref>",
    services.update_organization,
    "Change an organization's fields.",
)
organizations.delete(
    "/organizations/<organization_ref>",
    services.delete_organization,
    "Delete an organization (soft: it stays in the change feed).",
)

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
posts.list("/posts", services.list_posts, "List posts.", more_errors=[422])
posts.create(
    "/posts", services.create_post, "Create a post.", location=lambda post: f"/posts/{post.id}"
)
posts.get("/posts/<int:post_id>", services.get_post, "Get a post.")
posts.update("/posts/<int:post_id>", services.update_post, "Change a post's fields.")
posts.delete("/posts/<int:post_id>", services.delete_post, "Delete a post.")
