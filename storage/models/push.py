"""Web Push (RFC 8030, with RFC 8291 encryption and RFC 8292 VAPID): the subscriptions client apps
register, one per access token as in Mastodon, and the queue of pushes to send them.

Push deliveries (`federation.social.push` works them): one row per (notification, subscription),
written in the transaction that wrote the notification. A claim leases the row (`claimed_until`),
so a worker that dies mid-send loses nothing. A retryable failure (429, 5xx, a timeout) leaves the
row queued with a later `next_attempt_at`; once its attempts run out it is dead. An endpoint that
answers 404 or 410 is gone: its subscription is removed, and its queued rows with it.
The instance's VAPID key pair (P-256) is made once and kept in `vapid_keys`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Enum, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, id_column, states_check, utcnow
from storage.models.queues import DeliveryState


class PushSubscription(Base):
    __tablename__ = "push_subscriptions"

    id: Mapped[int] = id_column()
    token_id: Mapped[int] = mapped_column(ForeignKey("oauth_tokens.id", ondelete="CASCADE"), unique=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"), index=True)
    endpoint: Mapped[str] = mapped_column(String(2048))
    p256dh: Mapped[str] = mapped_column(String(128))  # the client's P-256 public key, base64url
    auth: Mapped[str] = mapped_column(String(64))  # the client's authentication secret, base64url
    alerts: Mapped[dict[str, Any]] = mapped_column(JSON)  # notification type -> wanted
    policy: Mapped[str] = mapped_column(String(16), default="all")  # all | followed | follower | none
    standard: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PushDelivery(Base):
    __tablename__ = "push_deliveries"
    __table_args__ = (
        Index("ix_push_deliveries_state_next", "state", "next_attempt_at"),
        Index("ix_push_deliveries_state_id_next", "state", "id", "next_attempt_at"),  # the claim's order
        Index("ix_push_deliveries_state_finished", "state", "finished_at",  # the retention sweep's
              sqlite_where=text("finished_at IS NOT NULL"), postgresql_where=text("finished_at IS NOT NULL")),
        states_check("push_deliveries", DeliveryState),
    )

    id: Mapped[int] = id_column()
    subscription_id: Mapped[int] = mapped_column(ForeignKey("push_subscriptions.id", ondelete="CASCADE"), index=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id", ondelete="CASCADE"), index=True)
    state: Mapped[DeliveryState] = mapped_column(Enum(DeliveryState, native_enum=False, length=16), default=DeliveryState.queued)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_until: Mapped[datetime | None]
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    finished_at: Mapped[datetime | None]


class VapidKey(Base):
    """The instance's VAPID key pair: one row, id 1, made on first start."""

    __tablename__ = "vapid_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    private_key_pem: Mapped[str] = mapped_column(Text)
    public_key: Mapped[str] = mapped_column(String(128))  # uncompressed point, base64url, as apps take it
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
