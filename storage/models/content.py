"""Content: objects (notes, articles, ...) and the activities sent or received."""

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
    Index,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, id_column, utcnow


class Visibility(str, enum.Enum):
    public = "public"
    unlisted = "unlisted"
    private = "private"  # followers only
    direct = "direct"


class Object(Base):
    """A note, article, page or question, local or remote. `raw` keeps the remote JSON."""

    __tablename__ = "objects"
    __table_args__ = (
        Index("ix_objects_actor_id_id", "actor_id", "id"),
        # live posts per author, index-only: statuses counts and profile pages
        Index("ix_objects_live_actor_id", "actor_id", "id",
              sqlite_where=text("deleted_at IS NULL"), postgresql_where=text("deleted_at IS NULL")),
    )

    id: Mapped[int] = id_column()
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
    attachments: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON(none_as_null=True))
    source_text: Mapped[str | None] = mapped_column(Text)  # a local post as typed, for edits
    raw: Mapped[dict[str, Any] | None]
    # False while a remote post fetched by reference (a reply's parent, a boost's target) waits
    # for its own Create to add it to its followers' homes (federation.inbox.handlers.create)
    reached_homes: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    application_id: Mapped[int | None] = mapped_column(BigInteger)  # the OAuth app a local post came from
    # who may quote it (storage.models.quotes): public, followers or nobody; None: a peer's post
    # that published no policy
    quote_policy: Mapped[str | None] = mapped_column(String(16))
    # institution-only: read by the instance's signed-in users alone, never delivered nor served to
    # a peer or an anonymous caller (federation.social.access.can_see, federation.outbox.audience)
    local_only: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # more HTML the post is found by in search (storage.search): an article's whole body, which its
    # post's own content (its title, summary and a link, as Mastodon shows an Article) leaves out
    search_body: Mapped[str | None] = mapped_column(Text)


class Activity(Base):
    """Every activity sent or received, unique on its id so a redelivery changes nothing."""

    __tablename__ = "activities"
    __table_args__ = (Index("ix_activities_actor_id_id", "actor_id", "id"),)

    id: Mapped[int] = id_column()
    uri: Mapped[str] = mapped_column(String(2048), unique=True)
    type: Mapped[str] = mapped_column(String(32))
    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))
    object_uri: Mapped[str | None] = mapped_column(String(2048))
    object_id: Mapped[int | None] = mapped_column(ForeignKey("objects.id", ondelete="SET NULL"))
    local: Mapped[bool] = mapped_column(Boolean, default=False)
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    published: Mapped[datetime] = mapped_column(default=utcnow)
    raw: Mapped[dict[str, Any]]


class ObjectEdit(Base):
    """A previous version of an edited object, kept for the edit history."""

    __tablename__ = "object_edits"
    __table_args__ = (Index("ix_object_edits_object_id_id", "object_id", "id"),)

    id: Mapped[int] = id_column()
    object_id: Mapped[int] = mapped_column(ForeignKey("objects.id", ondelete="CASCADE"))
    content: Mapped[str] = mapped_column(Text, default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False)
    attachments: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON(none_as_null=True))
    edited_at: Mapped[datetime] = mapped_column(default=utcnow)  # when this version was current until


class Mention(Base):
    __tablename__ = "mentions"
    __table_args__ = (UniqueConstraint("object_id", "actor_id", name="uq_mentions_object_actor"),)

    id: Mapped[int] = id_column()
    object_id: Mapped[int] = mapped_column(ForeignKey("objects.id", ondelete="CASCADE"))
    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"), index=True)


class Tag(Base):
    """A hashtag on an object; `name` is lowercase without the '#'."""

    __tablename__ = "tags"
    __table_args__ = (
        UniqueConstraint("object_id", "name", name="uq_tags_object_name"),
        Index("ix_tags_name_object_id", "name", "object_id"),
    )

    id: Mapped[int] = id_column()
    object_id: Mapped[int] = mapped_column(ForeignKey("objects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))


class Like(Base):
    __tablename__ = "likes"
    __table_args__ = (UniqueConstraint("actor_id", "object_id", name="uq_likes_actor_object"),)

    id: Mapped[int] = id_column()
    uri: Mapped[str] = mapped_column(String(2048), unique=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))
    object_id: Mapped[int] = mapped_column(ForeignKey("objects.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Announce(Base):
    """A boost. Its activity id is `uri`; the boosted object is `object_id`."""

    __tablename__ = "announces"
    __table_args__ = (UniqueConstraint("actor_id", "object_id", name="uq_announces_actor_object"),)

    id: Mapped[int] = id_column()
    uri: Mapped[str] = mapped_column(String(2048), unique=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))
    object_id: Mapped[int] = mapped_column(ForeignKey("objects.id", ondelete="CASCADE"), index=True)
    public: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Media(Base):
    """An uploaded file (under data_dir/media) and its thumbnail, owned by a local actor and
    attached to at most one post."""

    __tablename__ = "media"

    id: Mapped[int] = id_column()
    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"), index=True)
    object_id: Mapped[int | None] = mapped_column(ForeignKey("objects.id", ondelete="SET NULL"), index=True)
    type: Mapped[str] = mapped_column(String(16))  # image
    mime_type: Mapped[str] = mapped_column(String(64))
    file_name: Mapped[str] = mapped_column(String(255))
    thumbnail_name: Mapped[str | None] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)
    width: Mapped[int | None] = mapped_column(BigInteger)
    height: Mapped[int | None] = mapped_column(BigInteger)
    blurhash: Mapped[str | None] = mapped_column(String(128))
    description: Mapped[str] = mapped_column(Text, default="")
    focus_x: Mapped[float] = mapped_column(default=0.0)
    focus_y: Mapped[float] = mapped_column(default=0.0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # the scheduled post that will publish it (federation.outbox.scheduled): no other post takes it
    scheduled_id: Mapped[int | None] = mapped_column(BigInteger, index=True)


class Bookmark(Base):
    __tablename__ = "bookmarks"
    __table_args__ = (UniqueConstraint("actor_id", "object_id", name="uq_bookmarks_actor_object"),)

    id: Mapped[int] = id_column()
    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))
    object_id: Mapped[int] = mapped_column(ForeignKey("objects.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Pin(Base):
    """A post featured on its author's profile (the `featured` collection)."""

    __tablename__ = "pins"
    __table_args__ = (UniqueConstraint("actor_id", "object_id", name="uq_pins_actor_object"),)

    id: Mapped[int] = id_column()
    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))
    object_id: Mapped[int] = mapped_column(ForeignKey("objects.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class IdempotencyKey(Base):
    """`Idempotency-Key` of a status creation: the same key from the same actor gives the same post."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("actor_id", "key", name="uq_idempotency_actor_key"),)

    id: Mapped[int] = id_column()
    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    object_id: Mapped[int] = mapped_column(ForeignKey("objects.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
