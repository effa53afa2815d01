from __future__ import annotations

from service.auth import services
from service.auth.inputs import ApiKeyFilters, ApiKeyIn
from service.auth.models import ApiKey
from service.auth.permissions import read_role
from service.auth.schemas import (
    ApiKeyCreatedSchema,
    ApiKeyCreateSchema,
    ApiKeyQuerySchema,
    ApiKeySchema,
    ApiKeyUpdateSchema,
)
from service.auth.services import NewKey
from service.core import writes
from service.core.pagination import Page, PageRequest
from service.core.vocabularies import EntityType, Role
from service.http.api import Blueprint, get_session
from service.http.resources import ResourceRoutes

blp = Blueprint(
    "api-keys", __name__, url_prefix="/api/v1", description="API keys and their roles (admin only)."
)

api_keys = ResourceRoutes(
    blp,
    name="api_key",
    plural="api_keys",
    identity={"api_key_id": "id"},
    schema=ApiKeySchema,
    create_schema=ApiKeyCreateSchema,
    update_schema=ApiKeyUpdateSchema,
    query_schema=ApiKeyQuerySchema,
    create_response_schema=ApiKeyCreatedSchema,
    read_role=read_role(EntityType.API_KEY),
    write_role=Role.ADMIN,
)


@api_keys.list("/api-keys")
def list_api_keys(page: PageRequest, filters: ApiKeyFilters) -> Page[ApiKey]:
    """List API keys (never their secrets)."""
    return services.list_api_keys(get_session(), page=page, filters=filters)


@api_keys.create("/api-keys", location=lambda new: f"/api-keys/{new.id}")
def create_api_key(body: ApiKeyIn) -> NewKey:
    """Make an API key; the response holds the key itself, shown this once."""
    return services.create_api_key(get_session(), data=body)


@api_keys.get("/api-keys/<int:api_key_id>")
def get_api_key(api_key_id: int) -> ApiKey:
    """Get an API key's details."""
    return services.get_api_key(get_session(), api_key_id=api_key_id)


@api_keys.update("/api-keys/<int:api_key_id>")
def update_api_key(api_key_id: int, body: ApiKeyIn, check: writes.Check) -> ApiKey:
    """Rename a key or change its role."""
    return services.update_api_key(get_session(), api_key_id=api_key_id, data=body, check=check)


@api_keys.delete("/api-keys/<int:api_key_id>")
def delete_api_key(api_key_id: int, check: writes.Check) -> None:
    """Revoke a key: it stops working at once and stays listed, with its revocation date."""
    services.revoke_api_key(get_session(), api_key_id=api_key_id, check=check)
