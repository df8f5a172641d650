"""Actors (local and remote in one table) and local accounts.

Local and remote actors share the `actors` table (`local` tells them apart), so follows, posts
and deliveries refer to one kind of row whatever server the actor lives on. Accounts (logins)
are a separate table that points at a local actor.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Enum,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, id_column, utcnow


class ActorType(str, enum.Enum):
    Person = "Person"
    Application = "Application"
    Service = "Service"
    Group = "Group"
    Organization = "Organization"


class Actor(Base):
    __tablename__ = "actors"
    __table_args__ = (
        UniqueConstraint("username", "domain", name="uq_actors_username_domain"),
    )

    id: Mapped[int] = id_column()
    uri: Mapped[str] = mapped_column(String(2048), unique=True)
    local: Mapped[bool] = mapped_column(Boolean, default=False)
    type: Mapped[ActorType] = mapped_column(Enum(ActorType, native_enum=False, length=20))
    username: Mapped[str] = mapped_column(String(255))
    domain: Mapped[str] = mapped_column(String(255), index=True)
    display_name: Mapped[str] = mapped_column(String(255), default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str | None] = mapped_column(String(2048))
    inbox: Mapped[str] = mapped_column(String(2048))
    outbox: Mapped[str | None] = mapped_column(String(2048))
    shared_inbox: Mapped[str | None] = mapped_column(String(2048))
    followers_url: Mapped[str | None] = mapped_column(String(2048))
    following_url: Mapped[str | None] = mapped_column(String(2048))
    featured_url: Mapped[str | None] = mapped_column(String(2048))
    key_id: Mapped[str] = mapped_column(String(2048), unique=True)
    public_key_pem: Mapped[str] = mapped_column(Text)
    private_key_pem: Mapped[str | None] = mapped_column(Text)
    manually_approves_followers: Mapped[bool] = mapped_column(Boolean, default=False)
    discoverable: Mapped[bool] = mapped_column(Boolean, default=True)
    published: Mapped[datetime] = mapped_column(default=utcnow)
    updated: Mapped[datetime] = mapped_column(default=utcnow)
    fetched_at: Mapped[datetime | None]
    deleted_at: Mapped[datetime | None]  # a remote actor that sent Delete: kept as a tombstone
    avatar_url: Mapped[str | None] = mapped_column(String(2048))
    header_url: Mapped[str | None] = mapped_column(String(2048))
    fields: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)  # [{"name", "value"}], profile metadata
    # the account it moved to (a peer's Move, its new account naming it: federation.inbox.handlers.move)
    moved_to_id: Mapped[int | None] = mapped_column(BigInteger)
    raw: Mapped[dict[str, Any] | None]
    # kept by database triggers (see the account counters migration), never written by the ORM
    followers_count: Mapped[int] = mapped_column(Integer, server_default="0")
    following_count: Mapped[int] = mapped_column(Integer, server_default="0")
    statuses_count: Mapped[int] = mapped_column(Integer, server_default="0")
    last_status_id: Mapped[int | None] = mapped_column(BigInteger)


class Account(Base):
    """A local login. Its public face is `actor`."""

    __tablename__ = "accounts"

    id: Mapped[int] = id_column()
    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"), unique=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    # a moderator looks after users and queues and reads the audit log (the admin console);
    # an admin does that and everything else
    is_moderator: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_active_at: Mapped[datetime | None]
    note_source: Mapped[str] = mapped_column(Text, default="", server_default="")  # the bio as typed
    preferences: Mapped[dict[str, Any] | None] = mapped_column(JSON)
