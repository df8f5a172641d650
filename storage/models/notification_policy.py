"""What a practitioner lets through as notifications (Mastodon's notification policy), and the
requests that gather what it held back, one per sender.

A notification the policy filters is stored with `filtered` set and shows only through its
sender's request; one it drops is never written. Accepting a request lets the sender's held
notifications through, and every later one."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, id_column, utcnow


class PolicyAction(str, enum.Enum):
    accept = "accept"
    filter = "filter"
    drop = "drop"


def _action(default: PolicyAction) -> Mapped[PolicyAction]:
    return mapped_column(Enum(PolicyAction, native_enum=False, length=8), default=default,
                         server_default=default.value)


class NotificationPolicy(Base):
    """One practitioner's policy; without a row, the defaults (NotificationPolicy.DEFAULTS)."""

    __tablename__ = "notification_policies"

    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"), primary_key=True,
                                          autoincrement=False)
    for_not_following: Mapped[PolicyAction] = _action(PolicyAction.accept)
    for_not_followers: Mapped[PolicyAction] = _action(PolicyAction.accept)
    for_new_accounts: Mapped[PolicyAction] = _action(PolicyAction.accept)
    for_private_mentions: Mapped[PolicyAction] = _action(PolicyAction.accept)
    # Mastodon holds back limited peers by default; here everything is accepted until the
    # practitioner says otherwise, since the web pages do not show notification requests yet
    for_limited_accounts: Mapped[PolicyAction] = _action(PolicyAction.accept)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    FIELDS = ("for_not_following", "for_not_followers", "for_new_accounts", "for_private_mentions",
              "for_limited_accounts")


class RequestState(str, enum.Enum):
    pending = "pending"      # held notifications wait for the recipient
    dismissed = "dismissed"  # the recipient looked away: held ones stay held, and so will later ones
    accepted = "accepted"    # the sender's notifications are let through, now and later


class NotificationRequest(Base):
    __tablename__ = "notification_requests"
    __table_args__ = (UniqueConstraint("recipient_id", "from_actor_id"),)

    id: Mapped[int] = id_column()
    recipient_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))
    from_actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))
    state: Mapped[RequestState] = mapped_column(Enum(RequestState, native_enum=False, length=16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
