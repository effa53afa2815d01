from __future__ import annotations

import marshmallow as ma

from service.core.vocabularies import DeliveryStatus, EntityType
from service.schemas import (
    EnumField,
    HttpUrl,
    InputSchema,
    OutputSchema,
    PageQuerySchema,
    PartialSchema,
    RecordColumnsSchema,
    Text,
    shows,
)
from service.webhooks.events import WebhookEventType


class WebhookCreateSchema(InputSchema):
    url = HttpUrl(
        required=True,
        metadata={"description": "Where to POST each event."},
    )
    secret = Text(
        min_length=16,
        max_length=200,
        required=True,
        load_only=True,
        metadata={
            "description": "Signs each delivery (X-PolicyTracker-Signature); never shown again."
        },
    )
    event_types = ma.fields.List(
        EnumField(WebhookEventType), required=True, validate=ma.validate.Length(min=1, max=100)
    )
    active = ma.fields.Boolean(load_default=True)
    description = Text(max_length=500, allow_none=True)


class WebhookUpdateSchema(PartialSchema, WebhookCreateSchema):
    """The fields to change; those left out keep their values."""


@shows(EntityType.WEBHOOK, citable=False)
class WebhookSchema(RecordColumnsSchema):
    url = ma.fields.String(required=True)
    event_types = ma.fields.List(EnumField(WebhookEventType), attribute="events", required=True)
    active = ma.fields.Boolean(required=True)
    description = ma.fields.String(required=True, allow_none=True)
    last_seq = ma.fields.Integer(
        required=True, metadata={"description": "The last change looked at."}
    )


class WebhookQuerySchema(PageQuerySchema):
    active = ma.fields.Boolean()


class WebhookDeliverySchema(OutputSchema):
    id = ma.fields.Integer(required=True)
    subscription_id = ma.fields.Integer(required=True)
    change_seq = ma.fields.Integer(required=True)
    event_type = EnumField(WebhookEventType, attribute="event", required=True)
    status = EnumField(DeliveryStatus, required=True)
    attempts = ma.fields.Integer(required=True)
    next_attempt_at = ma.fields.DateTime(required=True)
    last_attempt_at = ma.fields.DateTime(required=True, allow_none=True)
    last_status_code = ma.fields.Integer(required=True, allow_none=True)
    last_error = ma.fields.String(required=True, allow_none=True)
    delivered_at = ma.fields.DateTime(required=True, allow_none=True)
    created_at = ma.fields.DateTime(required=True)


class WebhookDeliveryQuerySchema(PageQuerySchema):
    status = EnumField(DeliveryStatus)
