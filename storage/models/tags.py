"""Hashtags a local actor follows (their posts join her home) or features on her profile."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, id_column, utcnow


class FollowedTag(Base):
    """A hashtag a local actor follows: public posts carrying it join her home timeline as they
    arrive (federation.social.streams.post_homes). `name` as storage.models.Tag keeps it."""

    __tablename__ = "followed_tags"
    __table_args__ = (
        UniqueConstraint("actor_id", "name", name="uq_followed_tags_actor_name"),
        Index("ix_followed_tags_name_actor_id", "name", "actor_id"),
    )

    id: Mapped[int] = id_column()
    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    # an alert: a `status` notification when a new article carries the tag (federation.articles.alerts)
    notify: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FeaturedTag(Base):
    """A hashtag a local actor features on her profile (the actor's `featuredTags` collection)."""

    __tablename__ = "featured_tags"
    __table_args__ = (UniqueConstraint("actor_id", "name", name="uq_featured_tags_actor_name"),)

    id: Mapped[int] = id_column()
    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
