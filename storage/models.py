"""The tables. Typed `Mapped[]` models; the Alembic migrations are the schema of record.

One decision to know: local and remote actors share the `actors` table (`local` tells them
apart), so follows, posts and deliveries refer to one kind of row whatever server the actor
lives on. Accounts (logins) are a separate table that points at a local actor.
"""

from __future__ import annotations

import enum
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from storage.ids import new_id


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on both backends (SQLite stores naive text)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=timezone.utc)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON(), int: BigInteger()}


def _id_column() -> Mapped[int]:
    return mapped_column(BigInteger, primary_key=True, default=new_id, autoincrement=False)


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

    id: Mapped[int] = _id_column()
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
    raw: Mapped[dict[str, Any] | None]


class Account(Base):
    """A local login. Its public face is `actor`."""

    __tablename__ = "accounts"

    id: Mapped[int] = _id_column()
    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"), unique=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_active_at: Mapped[datetime | None]


class Visibility(str, enum.Enum):
    public = "public"
    unlisted = "unlisted"
    private = "private"  # followers only
    direct = "direct"


class Object(Base):
    """A note, article, page or question, local or remote. `raw` keeps the remote JSON."""

    __tablename__ = "objects"
    __table_args__ = (Index("ix_objects_actor_id_id", "actor_id", "id"),)

    id: Mapped[int] = _id_column()
    uri: Mapped[str] = mapped_column(String(2048), unique=True)
    type: Mapped[str] = mapped_column(String(32))
    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))
    local: Mapped[bool] = mapped_column(Boolean, default=False)
    visibility: Mapped[Visibility] = mapped_column(Enum(Visibility, native_enum=False, length=16))
    content: Mapped[str] = mapped_column(Text, default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False)
    language: Mapped[str | None] = mapped_column(String(16))
    url: Mapped[str | None] = mapped_column(String(2048))
    in_reply_to_uri: Mapped[str | None] = mapped_column(String(2048), index=True)
    published: Mapped[datetime] = mapped_column(default=utcnow)
    updated: Mapped[datetime | None]
    deleted_at: Mapped[datetime | None]
    raw: Mapped[dict[str, Any] | None]


class Activity(Base):
    """Every activity sent or received, unique on its id so a redelivery changes nothing."""

    __tablename__ = "activities"
    __table_args__ = (Index("ix_activities_actor_id_id", "actor_id", "id"),)

    id: Mapped[int] = _id_column()
    uri: Mapped[str] = mapped_column(String(2048), unique=True)
    type: Mapped[str] = mapped_column(String(32))
    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))
    object_uri: Mapped[str | None] = mapped_column(String(2048))
    object_id: Mapped[int | None] = mapped_column(ForeignKey("objects.id", ondelete="SET NULL"))
    local: Mapped[bool] = mapped_column(Boolean, default=False)
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    published: Mapped[datetime] = mapped_column(default=utcnow)
    raw: Mapped[dict[str, Any]]


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
    )

    id: Mapped[int] = _id_column()
    follower_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))
    followee_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))
    state: Mapped[FollowState] = mapped_column(Enum(FollowState, native_enum=False, length=16))
    uri: Mapped[str | None] = mapped_column(String(2048), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class OAuthApp(Base):
    __tablename__ = "oauth_apps"

    id: Mapped[int] = _id_column()
    name: Mapped[str] = mapped_column(String(255))
    website: Mapped[str | None] = mapped_column(String(2048))
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    client_secret_hash: Mapped[str] = mapped_column(String(128))
    redirect_uris: Mapped[str] = mapped_column(Text, default="urn:ietf:wg:oauth:2.0:oob")
    scopes: Mapped[str] = mapped_column(String(1024), default="read")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OAuthToken(Base):
    """A bearer token. Only its SHA-256 is stored; the token itself is shown once."""

    __tablename__ = "oauth_tokens"

    id: Mapped[int] = _id_column()
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    app_id: Mapped[int | None] = mapped_column(ForeignKey("oauth_apps.id", ondelete="CASCADE"))
    scopes: Mapped[str] = mapped_column(String(1024))
    name: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
