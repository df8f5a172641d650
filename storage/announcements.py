"""Announcements, who dismissed them, and the reactions to them."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import case, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.ids import new_id
from storage.models import Announcement, AnnouncementDismissal, AnnouncementReaction
from storage.upsert import insert_for


class Reaction(NamedTuple):
    name: str
    count: int
    me: bool


async def add_announcement(session: AsyncSession, announcement: Announcement) -> Announcement:
    session.add(announcement)
    await session.flush()
    return announcement


async def announcement_by_id(session: AsyncSession, announcement_id: int) -> Announcement | None:
    return await session.get(Announcement, announcement_id)


async def delete_announcement(session: AsyncSession, announcement: Announcement) -> None:
    await session.execute(delete(Announcement).where(Announcement.id == announcement.id))


async def all_announcements(session: AsyncSession) -> list[Announcement]:
    return list(await session.scalars(select(Announcement).order_by(Announcement.id.desc())))


async def current(session: AsyncSession, now: datetime, *, viewer_id: int, with_dismissed: bool
                  ) -> list[tuple[Announcement, bool]]:
    """(announcement, dismissed by the viewer) of those not ended at `now`, newest first."""
    dismissed = select(AnnouncementDismissal.id).where(AnnouncementDismissal.announcement_id == Announcement.id,
                                                       AnnouncementDismissal.actor_id == viewer_id).exists()
    query = select(Announcement, dismissed).where(or_(Announcement.ends_at.is_(None), Announcement.ends_at > now))
    if not with_dismissed:
        query = query.where(~dismissed)
    return [(row, bool(read)) for row, read in await session.execute(query.order_by(Announcement.id.desc()))]


async def reactions(session: AsyncSession, ids: list[int], viewer_id: int) -> dict[int, list[Reaction]]:
    """The reactions to each announcement: name, how many, and whether the viewer's is one, in
    the order each name was first given."""
    found: dict[int, list[Reaction]] = defaultdict(list)
    if not ids:
        return found
    mine = func.max(case((AnnouncementReaction.actor_id == viewer_id, 1), else_=0))
    rows = await session.execute(
        select(AnnouncementReaction.announcement_id, AnnouncementReaction.name, func.count(), mine)
        .where(AnnouncementReaction.announcement_id.in_(ids))
        .group_by(AnnouncementReaction.announcement_id, AnnouncementReaction.name)
        .order_by(func.min(AnnouncementReaction.id)))
    for announcement_id, name, count, me in rows:
        found[announcement_id].append(Reaction(name, count, bool(me)))
    return found


async def reaction_names(session: AsyncSession, announcement_id: int) -> set[str]:
    return set(await session.scalars(select(AnnouncementReaction.name).distinct()
                                     .where(AnnouncementReaction.announcement_id == announcement_id)))


async def dismiss(session: AsyncSession, announcement_id: int, actor_id: int) -> None:
    await session.execute(insert_for(session, AnnouncementDismissal).values(
        id=new_id(), announcement_id=announcement_id, actor_id=actor_id).on_conflict_do_nothing(
        index_elements=["announcement_id", "actor_id"]))


async def add_reaction(session: AsyncSession, announcement_id: int, actor_id: int, name: str, now: datetime) -> None:
    await session.execute(insert_for(session, AnnouncementReaction).values(
        id=new_id(), announcement_id=announcement_id, actor_id=actor_id, name=name, created_at=now
    ).on_conflict_do_nothing(index_elements=["announcement_id", "actor_id", "name"]))


async def remove_reaction(session: AsyncSession, announcement_id: int, actor_id: int, name: str) -> None:
    await session.execute(delete(AnnouncementReaction).where(
        AnnouncementReaction.announcement_id == announcement_id, AnnouncementReaction.actor_id == actor_id,
        AnnouncementReaction.name == name))
