"""Lists (storage.models.lists): a practitioner's lists and their members. A list's timeline is
storage.timelines.list_timeline."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.upsert import insert_for
from storage.ids import new_id
from storage.models import Actor, List, ListMember
from storage.paging import Cursor, apply, newest_first


async def lists_of(session: AsyncSession, owner_id: int) -> list[List]:
    """Her lists, by title."""
    return list(await session.scalars(select(List).where(List.owner_id == owner_id).order_by(List.title, List.id)))


async def list_of(session: AsyncSession, owner_id: int, list_id: int) -> List | None:
    """Her list with this id (None if it is not hers)."""
    return await session.scalar(select(List).where(List.id == list_id, List.owner_id == owner_id))


async def lists_with(session: AsyncSession, owner_id: int, actor_id: int) -> list[List]:
    """Her lists that hold `actor_id`, by title."""
    return list(await session.scalars(
        select(List).join(ListMember, ListMember.list_id == List.id)
        .where(List.owner_id == owner_id, ListMember.actor_id == actor_id).order_by(List.title, List.id)))


async def members_page(session: AsyncSession, list_id: int, cursor: Cursor | None) -> list[tuple[int, Actor]]:
    """(membership id, account) of a list's members, newest first; all of them without a cursor."""
    query = select(ListMember.id, Actor).join(Actor, Actor.id == ListMember.actor_id).where(
        ListMember.list_id == list_id, Actor.deleted_at.is_(None))
    if cursor is None:
        return [(member_id, actor) for member_id, actor in await session.execute(query.order_by(ListMember.id.desc()))]
    rows = [(member_id, actor) for member_id, actor in await session.execute(apply(query, ListMember.id, cursor))]
    return newest_first(rows, cursor, key=lambda row: row[0])


async def add_members(session: AsyncSession, list_id: int, actor_ids: list[int]) -> None:
    """Add the accounts (those in it already stay as they are)."""
    for actor_id in actor_ids:
        await session.execute(insert_for(session, ListMember).values(id=new_id(), list_id=list_id, actor_id=actor_id)
                              .on_conflict_do_nothing(index_elements=["list_id", "actor_id"]))


async def remove_members(session: AsyncSession, list_id: int, actor_ids: list[int]) -> None:
    await session.execute(delete(ListMember).where(ListMember.list_id == list_id, ListMember.actor_id.in_(actor_ids)))


async def leave_lists(session: AsyncSession, owner_id: int, actor_id: int) -> None:
    """`actor_id` leaves every list of `owner_id` (she no longer follows it)."""
    await session.execute(delete(ListMember).where(
        ListMember.actor_id == actor_id, ListMember.list_id.in_(select(List.id).where(List.owner_id == owner_id))))
