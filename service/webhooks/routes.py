from __future__ import annotations

from flask import current_app
from sqlalchemy.orm import Session

from service import writes
from service.api import Blueprint
from service.auth.permissions import read_role
from service.resources import ResourceRoutes
from service.vocabularies import EntityType
from service.webhooks import services
from service.webhooks.inputs import WebhookIn
from service.webhooks.models import WebhookSubscription
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


def create_webhook(session: Session, *, data: WebhookIn) -> WebhookSubscription:
    return services.create_webhook(session, data=data, settings=_settings())


def update_webhook(
    session: Session, *, webhook_id: int, data: WebhookIn, check: writes.Check
) -> WebhookSubscription:
    return services.update_webhook(
        session, webhook_id=webhook_id, data=data, check=check, settings=_settings()
    )


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
webhooks.list("/webhooks", services.list_webhooks, "List webhook subscriptions.")
webhooks.create(
    "/webhooks",
    create_webhook,
    "Subscribe a URL to events; it hears of changes from now on.",
    location=lambda subscription: f"/webhooks/{subscription.id}",
    next_operations=["list_webhook_deliveries"],
)
webhooks.get(WEBHOOK, services.get_webhook, "Get a webhook subscription (never its secret).")
webhooks.update(
    WEBHOOK, update_webhook, "Change a subscription: its URL, events, secret, or pause it."
)
webhooks.delete(
    WEBHOOK, services.delete_webhook, "Delete a subscription (soft); pending deliveries stop."
)

deliveries = ResourceRoutes(
    deliveries_blp,
    name="webhook_delivery",
    plural="webhook_deliveries",
    schema=WebhookDeliverySchema,
    query_schema=WebhookDeliveryQuerySchema,
    read_role=read_role(EntityType.WEBHOOK),
)
deliveries.list(
    WEBHOOK + "/deliveries",
    services.list_webhook_deliveries,
    "List the deliveries of a subscription, with their attempts.",
    nested=True,
)
