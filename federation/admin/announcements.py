"""Announcements: what admins tell every user of the instance (from the CLI or the admin API),
and each user's dismissals and reactions.

A reaction is a Unicode emoji, or the shortcode of one of our custom emojis; an announcement
takes at most MAX_REACTIONS different ones, as on Mastodon.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from federation.admin.audit import audit
from federation.protocol.sanitize import plain_to_html
from federation.protocol.vocab.emojis import SHORTCODE
from storage import announcements as queries
from storage.emojis import local_emoji
from storage.models import Announcement

TEXT_MAX = 5000
MAX_REACTIONS = 8
REACTION_MAX = 32  # characters of a Unicode emoji sequence (flags, families, skin tones)


class AnnouncementError(Exception):
    """An announcement or a reaction refused; nothing was written."""


class NoSuchAnnouncement(AnnouncementError):
    pass


def _subject(announcement_id: int) -> str:
    return f"announcement:{announcement_id}"


async def create(session: AsyncSession, text: str, *, starts_at: datetime | None = None,
                 ends_at: datetime | None = None, all_day: bool = False, by: str, at: datetime) -> Announcement:
    text = text.strip()
    if not text:
        raise AnnouncementError("an announcement needs some text")
    if len(text) > TEXT_MAX:
        raise AnnouncementError(f"an announcement is at most {TEXT_MAX} characters")
    if starts_at and ends_at and ends_at < starts_at:
        raise AnnouncementError("an announcement cannot end before it starts")
    row = await queries.add_announcement(session, Announcement(
        text=text, content=plain_to_html(text), starts_at=starts_at, ends_at=ends_at, all_day=all_day,
        published_at=at, updated_at=at, created_by=by))
    await audit(session, by=by, action="announcement.create", subject=_subject(row.id), before=None,
                after={"text": text}, reason="", at=at)
    return row


async def remove(session: AsyncSession, announcement_id: int, *, by: str, at: datetime) -> None:
    row = await queries.announcement_by_id(session, announcement_id)
    if row is None:
        raise NoSuchAnnouncement(f"there is no announcement {announcement_id}")
    await queries.delete_announcement(session, row)
    await audit(session, by=by, action="announcement.remove", subject=_subject(announcement_id),
                before={"text": row.text}, after=None, reason="", at=at)


async def shown(session: AsyncSession, announcement_id: int, now: datetime) -> Announcement:
    """An announcement users see now; NoSuchAnnouncement for one ended or never made."""
    row = await queries.announcement_by_id(session, announcement_id)
    if row is None or (row.ends_at is not None and row.ends_at <= now):
        raise NoSuchAnnouncement(f"there is no announcement {announcement_id}")
    return row


async def _reaction_name(session: AsyncSession, name: str) -> str:
    """`name` if it is a Unicode emoji or one of our custom emojis' shortcodes."""
    if SHORTCODE.fullmatch(name):
        if await local_emoji(session, name) is None:
            raise AnnouncementError(f"there is no custom emoji :{name}:")
        return name
    if not name or len(name) > REACTION_MAX or any(
            char.isspace() or char.isalnum() or unicodedata.category(char).startswith("C") and char != "\u200d"
            for char in name) or name.isascii():
        raise AnnouncementError(f"{name!r} is neither an emoji nor a custom emoji's shortcode")
    return name


async def react(session: AsyncSession, announcement_id: int, actor_id: int, name: str, now: datetime) -> None:
    row = await shown(session, announcement_id, now)
    name = await _reaction_name(session, name)
    names = await queries.reaction_names(session, row.id)
    if name not in names and len(names) >= MAX_REACTIONS:
        raise AnnouncementError(f"an announcement takes at most {MAX_REACTIONS} different reactions")
    await queries.add_reaction(session, row.id, actor_id, name, now)


async def unreact(session: AsyncSession, announcement_id: int, actor_id: int, name: str, now: datetime) -> None:
    row = await shown(session, announcement_id, now)
    await queries.remove_reaction(session, row.id, actor_id, name)


async def dismiss(session: AsyncSession, announcement_id: int, actor_id: int, now: datetime) -> None:
    row = await shown(session, announcement_id, now)
    await queries.dismiss(session, row.id, actor_id)
