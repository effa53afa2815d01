from __future__ import annotations

from flask import current_app

from service.auth.permissions import read_role
from service.core import writes
from service.core.pagination import Page, PageRequest
from service.core.vocabularies import EntityType
from service.http.api import Blueprint, get_session
from service.http.resources import ResourceRoutes
from service.webhooks import services
from service.webhooks.inputs import WebhookDeliveryFilters, WebhookFilters, WebhookIn
from service.webhooks.models import WebhookDelivery, WebhookSubscription
from service.webhooks.schemas import (
    WebhookCreateSchema,
    WebhookDeliveryQuerySchema,
    WebhookDeliverySchema,
    WebhookQuerySchema,
    WebhookSchema,
    WebhookUpdateSchema,
)

blp = Blueprint(
    "webhooks",
    __name__,
    url_prefix="/api/v1",
    description="Subscriptions that are sent, signed, each change they ask for (editor only).",
)
deliveries_blp = Blueprint(
    "webhook-deliveries",
    __name__,
    url_prefix="/api/v1",
    description="Each event sent to a subscription, and how sending it went.",
)


def _settings() -> services.DeliverySettings:
    settings: services.DeliverySettings = current_app.extensions["webhook_settings"]
    return settings


webhooks = ResourceRoutes(
    blp,
    name="webhook",
    plural="webhooks",
    identity={"webhook_id": "id"},
    schema=WebhookSchema,
    create_schema=WebhookCreateSchema,
    update_schema=WebhookUpdateSchema,
    query_schema=WebhookQuerySchema,
    read_role=read_role(EntityType.WEBHOOK),
)
WEBHOOK = "/webhooks/<int:webhook_id>"


@webhooks.list("/webhooks")
def list_webhooks(page: PageRequest, filters: WebhookFilters) -> Page[WebhookSubscription]:
    """List webhook subscriptions."""
    return services.list_webhooks(get_session(), page=page, filters=filters)


@webhooks.create(
    "/webhooks",
    location=lambda subscription: f"/webhooks/{subscription.id}",
    next_operations=["list_webhook_deliveries"],
)
def create_webhook(body: WebhookIn) -> WebhookSubscription:
    """Subscribe a URL to events; it hears of changes from now on."""
    return services.create_webhook(get_session(), data=body, settings=_settings())


@webhooks.get(WEBHOOK)
def get_webhook(webhook_id: int) -> WebhookSubscription:
    """Get a webhook subscription (never its secret)."""
    return services.get_webhook(get_session(), webhook_id=webhook_id)


@webhooks.update(WEBHOOK)
def update_webhook(webhook_id: int, body: WebhookIn, check: writes.Check) -> WebhookSubscription:
    """Change a subscription: its URL, events, secret, or pause it."""
    return services.update_webhook(
        get_session(), webhook_id=webhook_id, data=body, check=check, settings=_settings()
    )


@webhooks.delete(WEBHOOK)
def delete_webhook(webhook_id: int, check: writes.Check) -> None:
    """Delete a subscription (soft); pending deliveries stop."""
    services.delete_webhook(get_session(), webhook_id=webhook_id, check=check)


deliveries = ResourceRoutes(
    deliveries_blp,
    name="webhook_delivery",
    plural="webhook_deliveries",
    schema=WebhookDeliverySchema,
    query_schema=WebhookDeliveryQuerySchema,
    read_role=read_role(EntityType.WEBHOOK),
)


@deliveries.list(WEBHOOK + "/deliveries", nested=True)
def list_webhook_deliveries(
    webhook_id: int, page: PageRequest, filters: WebhookDeliveryFilters
) -> Page[WebhookDelivery]:
    """List the deliveries of a subscription, with their attempts."""
    return services.list_webhook_deliveries(
        get_session(), page=page, filters=filters, webhook_id=webhook_id
    )
