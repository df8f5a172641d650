"""Queries on what an actor did to a post (likes, boosts, bookmarks, pins) or to another actor
(blocks). A mark on a post is one row per (actor, post), so one lookup serves them all."""

from __future__ import annotations

from datetime import datetime
from typing import TypeVar

from sqlalchemy import BigInteger, bindparam, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import core
from storage.ids import new_id
from storage.models import Announce, Block, Bookmark, Like, Pin
from storage.upsert import per_backend

Mark = TypeVar("Mark", Like, Announce, Bookmark, Pin)


# built once: the inbox worker asks for every like and boost it handles
_MARK_OF = {model: select(model).where(model.actor_id == bindparam("actor_id", type_=BigInteger),
                                       model.object_id == bindparam("object_id", type_=BigInteger))
            for model in (Like, Announce, Bookmark, Pin)}


async def mark_of(session: AsyncSession, model: type[Mark], actor_id: int, object_id: int) -> Mark | None:
    """The actor's like, boost, bookmark or pin (`model`) of a post, or None."""
    return await session.scalar(_MARK_OF[model], {"actor_id": actor_id, "object_id": object_id})


_HAS_MARK = {model: select(model.id).where(model.actor_id == bindparam("actor_id", type_=BigInteger),
                                          model.object_id == bindparam("object_id", type_=BigInteger))
             for model in (Like, Announce, Bookmark, Pin)}


async def has_mark(session: AsyncSession, model: type[Mark], actor_id: int, object_id: int) -> bool:
    """Whether the actor liked, boosted, bookmarked or pinned (`model`) a post (`mark_of`, without
    loading the row)."""
    return bool(await core.scalars(session, _HAS_MARK[model], {"actor_id": actor_id, "object_id": object_id}))


async def pin_count(session: AsyncSession, actor_id: int) -> int:
    return await session.scalar(select(func.count()).select_from(Pin).where(Pin.actor_id == actor_id)) or 0


async def add_bookmark(session: AsyncSession, actor_id: int, object_id: int) -> Bookmark:
    row = Bookmark(actor_id=actor_id, object_id=object_id)
    session.add(row)
    await session.flush()
    return row


async def add_pin(session: AsyncSession, actor_id: int, object_id: int) -> Pin:
    row = Pin(actor_id=actor_id, object_id=object_id)
    session.add(row)
    await session.flush()
    return row


async def remove_mark(session: AsyncSession, row: Like | Announce | Bookmark | Pin) -> None:
    await session.delete(row)
    await session.flush()


# a like or boost stored unless the actor has one of that post already: one statement, where a
# lookup and then the insert were two for each the inbox handles; the new row, as an ORM object,
# or nothing. Only that conflict is let pass: one on the id or the activity id still raises
_ADD_NEW = {model: per_backend(lambda insert, model=model: select(model).from_statement(
    insert(model.__table__).on_conflict_do_nothing(index_elements=["actor_id", "object_id"])
    .returning(*model.__table__.c))) for model in (Like, Announce)}


async def add_like(session: AsyncSession, actor_id: int, object_id: int, uri: str, now: datetime) -> Like | None:
    """The new like; None if the actor likes the post already."""
    return await session.scalar(_ADD_NEW[Like](session), {
        "id": new_id(), "uri": uri, "actor_id": actor_id, "object_id": object_id, "created_at": now})


async def add_announce(session: AsyncSession, actor_id: int, object_id: int, uri: str, now: datetime, *,
                       public: bool) -> Announce | None:
    """The new boost; None if the actor boosted the post already."""
    return await session.scalar(_ADD_NEW[Announce](session), {
        "id": new_id(), "uri": uri, "actor_id": actor_id, "object_id": object_id, "public": public, "created_at": now})


def add_block(session: AsyncSession, actor_id: int, target_id: int, uri: str, now: datetime) -> Block:
    row = Block(uri=uri, actor_id=actor_id, target_id=target_id, created_at=now)
    session.add(row)
    return row


async def remove_block(session: AsyncSession, row: Block) -> None:
    await session.delete(row)


async def withdraw_like(session: AsyncSession, uri: str | None, actor_id: int) -> bool:
    """Remove the like with this activity id, if this actor made it; True if one went."""
    result = await session.execute(delete(Like).where(Like.uri == uri, Like.actor_id == actor_id))
    return bool(result.rowcount)


async def withdraw_announce(session: AsyncSession, uri: str | None, actor_id: int) -> bool:
    """Remove the boost with this activity id, if this actor made it; True if one went."""
    result = await session.execute(delete(Announce).where(Announce.uri == uri, Announce.actor_id == actor_id))
    return bool(result.rowcount)


async def withdraw_block(session: AsyncSession, uri: str | None, actor_id: int) -> bool:
    """Remove the block with this activity id, if this actor made it; True if one went."""
    result = await session.execute(delete(Block).where(Block.uri == uri, Block.actor_id == actor_id))
    return bool(result.rowcount)


async def announce_by_id(session: AsyncSession, announce_id: int) -> Announce | None:
    return await session.get(Announce, announce_id)
