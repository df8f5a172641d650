"""Relationships between actors (follows, blocks) and the notifications they raise."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, id_column, states_check, utcnow


class FollowState(str, enum.Enum):
    pending = "pending"
    accepted = "accepted"
    rejected = "rejected"
    undone = "undone"


class Follow(Base):
    __tablename__ = "follows"
    __table_args__ = (
        UniqueConstraint("follower_id", "followee_id", name="uq_follows_pair"),
        Index("ix_follows_followee_state_id", "followee_id", "state", "id"),
        Index("ix_follows_follower_state_id", "follower_id", "state", "id"),
        states_check("follows", FollowState),
    )

    id: Mapped[int] = id_column()
    follower_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))
    followee_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))
    state: Mapped[FollowState] = mapped_column(Enum(FollowState, native_enum=False, length=16))
    uri: Mapped[str | None] = mapped_column(String(2048), unique=True)
    # of a community joined: an alert, a `status` notification when a new article appears in it
    # (federation.articles.alerts)
    notify: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Block(Base):
    __tablename__ = "blocks"
    __table_args__ = (UniqueConstraint("actor_id", "target_id", name="uq_blocks_pair"),)

    id: Mapped[int] = id_column()
    uri: Mapped[str | None] = mapped_column(String(2048), unique=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))
    target_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class NotificationType(str, enum.Enum):
    follow = "follow"
    follow_request = "follow_request"
    mention = "mention"
    favourite = "favourite"
    reblog = "reblog"
    update = "update"
    poll = "poll"
    status = "status"
    quote = "quote"  # one's post was quoted (the quote authorised)
    join_request = "join_request"  # to a community's moderators: someone asks to join
    join_approved = "join_approved"  # to a practitioner: a community's moderator let her in
    article_review = "article_review"  # to a community's moderators: an article awaits their review


class Notification(Base):
    """Something that happened to a local actor, written by the handler that caused it."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_recipient_id_id", "recipient_id", "id"),
                      Index("ix_notifications_recipient_id_group_key", "recipient_id", "group_key"))

    id: Mapped[int] = id_column()
    recipient_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))
    type: Mapped[NotificationType] = mapped_column(Enum(NotificationType, native_enum=False, length=20))
    from_actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))
    object_id: Mapped[int | None] = mapped_column(ForeignKey("objects.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    dismissed: Mapped[bool] = mapped_column(Boolean, default=False)
    # the group it joins in /api/v2/notifications (federation.social.notifications.group_key);
    # NULL: a group of its own, `ungrouped-{id}`
    group_key: Mapped[str | None] = mapped_column(String(64))
    # held back by the recipient's notification policy: shown only through a notification request
    filtered: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class AuditEntry(Base):
    """One administrative change: who made it, when, the state before and after, and why."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_subject", "subject"),)

    id: Mapped[int] = id_column()
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(2048))  # "cli:root", "api:alice", "subscription:URL"
    action: Mapped[str] = mapped_column(String(64))    # e.g. "peer.allow", "peer.block"
    subject: Mapped[str] = mapped_column(String(2048))
    before: Mapped[dict[str, Any] | None]
    after: Mapped[dict[str, Any] | None]
    reason: Mapped[str] = mapped_column(Text, default="")


class Mute(Base):
    __tablename__ = "mutes"
    __table_args__ = (UniqueConstraint("actor_id", "target_id", name="uq_mutes_pair"),)

    id: Mapped[int] = id_column()
    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))
    target_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))
    notifications: Mapped[bool] = mapped_column(Boolean, default=True)
    expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AccountNote(Base):
    """What a local user wrote for herself about an account (the Relationship's `note`)."""

    __tablename__ = "account_notes"
    __table_args__ = (UniqueConstraint("owner_id", "target_id", name="uq_account_notes_pair"),)

    id: Mapped[int] = id_column()
    owner_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))
    target_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))
    comment: Mapped[str] = mapped_column(Text)


class Marker(Base):
    """Where a user stopped reading a timeline (`home` or `notifications`)."""

    __tablename__ = "markers"
    __table_args__ = (UniqueConstraint("actor_id", "timeline", name="uq_markers_actor_timeline"),)

    id: Mapped[int] = id_column()
    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))
    timeline: Mapped[str] = mapped_column(String(32))
    last_read_id: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class FeedEntry(Base):
    """One item of a local actor's home timeline, written when the item arrives (fan-out on
    write), so reading a home timeline is one index range scan however many accounts it follows."""

    __tablename__ = "home_feed"
    __table_args__ = (
        UniqueConstraint("owner_id", "item_id", name="uq_home_feed_owner_item"),
        Index("ix_home_feed_owner_author", "owner_id", "author_id"),
    )

    id: Mapped[int] = id_column()
    owner_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(BigInteger)  # an Object id, or an Announce id for a boost
    boost: Mapped[bool] = mapped_column(Boolean, default=False)
    author_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))  # poster or booster


class InstanceProfile(Base):
    """What admins may change about the instance while it runs (one row, id 1): its name,
    description and rules, and who may register. A column left NULL falls back to the config
    file's [instance] value."""

    __tablename__ = "instance_profile"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str | None] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    rules: Mapped[str] = mapped_column(Text, default="", server_default="")  # one rule a line
    registrations: Mapped[str] = mapped_column(String(16), default="closed", server_default="closed")
    changed_by: Mapped[str | None] = mapped_column(String(255))
    changed_at: Mapped[datetime | None]
