from __future__ import annotations

from service.api import Blueprint
from service.auth import services
from service.auth.permissions import read_role
from service.auth.schemas import (
    ApiKeyCreatedSchema,
    ApiKeyCreateSchema,
    ApiKeyQuerySchema,
    ApiKeySchema,
    ApiKeyUpdateSchema,
)
from service.resources import ResourceRoutes
from service.vocabularies import EntityType, Role

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
api_keys.list("/api-keys", services.list_api_keys, "List API keys (never their secrets).")
api_keys.create(
    "/api-keys",
    services.create_api_key,
    "Make an API key; the response holds the key itself, shown this once.",
    location=lambda new: f"/api-keys/{new.id}",
)
api_keys.get("/api-keys/<int:api_key_id>", services.get_api_key, "Get an API key's details.")
api_keys.update(
    "/api-keys/<int:api_key_id>", services.update_api_key, "Rename a key or change its role."
)
api_keys.delete(
    "/api-keys/<int:api_key_id>",
    services.revoke_api_key,
    "Revoke a key: it stops working at once and stays listed, with its revocation date.",
)
