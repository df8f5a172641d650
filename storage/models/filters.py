"""A practitioner's content filters (Mastodon's filters v2): a titled filter with the contexts it
applies in, an action, an optional expiry, and what it matches: keywords and individual posts.

An expired filter is kept (its owner may extend it) and matches nothing."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, Enum, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, id_column, utcnow

FILTER_CONTEXTS = ("home", "notifications", "public", "thread", "account")


class FilterAction(str, enum.Enum):
    warn = "warn"   # shown behind a warning naming the filter
    hide = "hide"   # left out of the listing
    blur = "blur"   # shown, its media behind a warning


class Filter(Base):
    __tablename__ = "filters"

    id: Mapped[int] = id_column()
    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(256))
    contexts: Mapped[str] = mapped_column(String(64))  # comma-separated, each one of FILTER_CONTEXTS
    action: Mapped[FilterAction] = mapped_column(Enum(FilterAction, native_enum=False, length=8))
    expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def context_list(self) -> list[str]:
        return [c for c in self.contexts.split(",") if c]


class FilterKeyword(Base):
    __tablename__ = "filter_keywords"

    id: Mapped[int] = id_column()
    filter_id: Mapped[int] = mapped_column(ForeignKey("filters.id", ondelete="CASCADE"), index=True)
    keyword: Mapped[str] = mapped_column(String(512))
    whole_word: Mapped[bool] = mapped_column(Boolean, default=True)


class FilterStatus(Base):
    __tablename__ = "filter_statuses"
    __table_args__ = (UniqueConstraint("filter_id", "object_id"),)

    id: Mapped[int] = id_column()
    filter_id: Mapped[int] = mapped_column(ForeignKey("filters.id", ondelete="CASCADE"))
    object_id: Mapped[int] = mapped_column(ForeignKey("objects.id", ondelete="CASCADE"), index=True)
