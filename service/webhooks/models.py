from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from service.core.db import Base, RecordColumns, utcnow, vocabulary
from service.core.vocabularies import DeliveryStatus
from service.webhooks.events import WebhookEventType


class WebhookSubscription(RecordColumns, Base):
    """A URL that wants to hear of some kinds of change, signed with a shared secret."""

    __tablename__ = "webhook_subscriptions"

    url: Mapped[str] = mapped_column(String(2000))
    # Needed in the clear to sign each delivery; never returned by the API.
    secret: Mapped[str] = mapped_column(String(200))
    event_types: Mapped[list[str]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    description: Mapped[str | None] = mapped_column(String(500))

    @property
    def events(self) -> list[WebhookEventType]:
        return [WebhookEventType(name) for name in self.event_types]

    # The last ChangeEvent seq looked at for this subscription: the outbox cursor.
    last_seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), default=0)


class WebhookDelivery(Base):
    """One event for one subscription, and how its sending went."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        # A change raises an event for a subscription once, however many workers look.
        UniqueConstraint("subscription_id", "change_seq", "event_type"),
        Index("ix_webhook_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("webhook_subscriptions.id"), index=True)
    change_seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    event_type: Mapped[str] = mapped_column(String(64))
    status: Mapped[DeliveryStatus] = mapped_column(
        vocabulary(DeliveryStatus, "status"), default=DeliveryStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_attempt_at: Mapped[datetime | None] = mapped_column(default=None)
    last_status_code: Mapped[int | None] = mapped_column(default=None)
    last_error: Mapped[str | None] = mapped_column(String(500), default=None)
    delivered_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def event(self) -> WebhookEventType:
        return WebhookEventType(self.event_type)
