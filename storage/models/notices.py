"""What the instance shows every client besides posts: admins' announcements (with who
dismissed them and the reactions to them) and custom emojis, ours and those peers use."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, id_column, utcnow


class Announcement(Base):
    """An admin's announcement; shown while published and not past `ends_at`."""

    __tablename__ = "announcements"

    id: Mapped[int] = id_column()
    text: Mapped[str] = mapped_column(Text)  # as the admin typed it
    content: Mapped[str] = mapped_column(Text)  # HTML, rendered from `text`
    starts_at: Mapped[datetime | None]
    ends_at: Mapped[datetime | None]
    all_day: Mapped[bool] = mapped_column(Boolean, default=False)
    published_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(255))  # as the audit log names people: api:NAME, cli:NAME


class AnnouncementDismissal(Base):
    __tablename__ = "announcement_dismissals"
    __table_args__ = (UniqueConstraint("announcement_id", "actor_id", name="uq_announcement_dismissals"),)

    id: Mapped[int] = id_column()
    announcement_id: Mapped[int] = mapped_column(ForeignKey("announcements.id", ondelete="CASCADE"))
    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"), index=True)


class AnnouncementReaction(Base):
    """One user's reaction (a Unicode emoji, or one of our custom emojis' shortcodes)."""

    __tablename__ = "announcement_reactions"
    __table_args__ = (UniqueConstraint("announcement_id", "actor_id", "name", name="uq_announcement_reactions"),)

    id: Mapped[int] = id_column()
    announcement_id: Mapped[int] = mapped_column(ForeignKey("announcements.id", ondelete="CASCADE"))
    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CustomEmoji(Base):
    """A `:shortcode:` image. Ours (`domain` empty) are files under the media directory, added by
    an admin; a peer's (`domain` its host) are the image URLs its posts' and actors' Emoji tags
    gave, kept to show those posts as their authors wrote them."""

    __tablename__ = "custom_emojis"
    __table_args__ = (UniqueConstraint("shortcode", "domain", name="uq_custom_emojis_shortcode_domain"),)

    id: Mapped[int] = id_column()
    shortcode: Mapped[str] = mapped_column(String(64))
    domain: Mapped[str] = mapped_column(String(255), default="")
    url: Mapped[str | None] = mapped_column(String(2048))  # a peer's image
    file_name: Mapped[str | None] = mapped_column(String(255))  # ours, under the media directory
    static_file_name: Mapped[str | None] = mapped_column(String(255))  # ours: its still, small version
    mime_type: Mapped[str] = mapped_column(String(64), default="")
    category: Mapped[str | None] = mapped_column(String(64))
    visible_in_picker: Mapped[bool] = mapped_column(Boolean, default=True)
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
