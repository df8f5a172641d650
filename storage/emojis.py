"""Custom emojis: ours (`domain` empty) and those peers' documents named (`domain` their host)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from storage.ids import new_id
from storage.models import CustomEmoji
from storage.upsert import insert_for

LOCAL = ""


def emojis_named(session: Session, pairs: set[tuple[str, str]]) -> dict[tuple[str, str], CustomEmoji]:
    """The emojis of these (shortcode, domain) pairs that exist, in one query (synchronous: the
    entity renderer's)."""
    if not pairs:
        return {}
    rows = session.scalars(select(CustomEmoji).where(
        CustomEmoji.shortcode.in_({code for code, _ in pairs}), CustomEmoji.domain.in_({domain for _, domain in pairs})))
    return {key: row for row in rows if (key := (row.shortcode, row.domain)) in pairs}


async def local_emojis(session: AsyncSession) -> list[CustomEmoji]:
    return list(await session.scalars(select(CustomEmoji).where(CustomEmoji.domain == LOCAL)
                                      .order_by(CustomEmoji.shortcode)))


async def local_emoji(session: AsyncSession, shortcode: str) -> CustomEmoji | None:
    return await session.scalar(select(CustomEmoji).where(CustomEmoji.domain == LOCAL,
                                                          CustomEmoji.shortcode == shortcode))


async def local_emoji_by_id(session: AsyncSession, emoji_id: int) -> CustomEmoji | None:
    return await session.scalar(select(CustomEmoji).where(CustomEmoji.domain == LOCAL, CustomEmoji.id == emoji_id))


async def local_emojis_named(session: AsyncSession, shortcodes: Iterable[str]) -> list[CustomEmoji]:
    """Those of ours with these shortcodes, by shortcode."""
    codes = set(shortcodes)
    if not codes:
        return []
    return list(await session.scalars(select(CustomEmoji).where(
        CustomEmoji.domain == LOCAL, CustomEmoji.shortcode.in_(codes)).order_by(CustomEmoji.shortcode)))


async def add_emoji(session: AsyncSession, emoji: CustomEmoji) -> CustomEmoji:
    session.add(emoji)
    await session.flush()
    return emoji


async def delete_emoji(session: AsyncSession, emoji: CustomEmoji) -> None:
    await session.execute(delete(CustomEmoji).where(CustomEmoji.id == emoji.id))


async def keep_remote_emojis(session: AsyncSession, domain: str, found: Iterable[tuple[str, str]],
                             now: datetime) -> None:
    """Insert or refresh a peer's emojis, (shortcode, image URL) each."""
    rows = [{"id": new_id(), "shortcode": code, "domain": domain, "url": url, "mime_type": "",
             "visible_in_picker": False, "size": 0, "created_at": now, "updated_at": now}
            for code, url in dict(found).items()]
    if not rows:
        return
    statement = insert_for(session, CustomEmoji).values(rows)
    await session.execute(statement.on_conflict_do_update(
        index_elements=["shortcode", "domain"],
        set_={"url": statement.excluded.url, "updated_at": statement.excluded.updated_at}))
