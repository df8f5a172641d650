"""Conversations (storage.models.conversations): kept as direct posts arrive, listed, read."""

from __future__ import annotations

import hashlib

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.coverage import blocked_author
from storage.ids import new_id
from storage.models import Conversation, Object
from storage.paging import Cursor, apply, newest_first
from storage.posts import thread_root
from storage.upsert import insert_for


async def note(session: AsyncSession, post: Object, people: set[int], owners: dict[int, bool]) -> None:
    """The direct post `post`, between `people` (its author and whom it mentions, by id), is the
    newest of its thread with them for each of `owners` (owner id -> unread): her conversation
    is made, or shows it."""
    root = await thread_root(session, post)
    key = hashlib.sha256(f"{root} {','.join(map(str, sorted(people)))}".encode()).hexdigest()
    for owner_id, unread in owners.items():
        statement = insert_for(session, Conversation).values(
            id=new_id(), owner_id=owner_id, key=key, last_status_id=post.id, unread=unread)
        await session.execute(statement.on_conflict_do_update(
            index_elements=["owner_id", "key"],
            set_={"last_status_id": statement.excluded.last_status_id, "unread": statement.excluded.unread}))


async def conversations_of(session: AsyncSession, owner_id: int, cursor: Cursor) -> list[tuple[Conversation, Object]]:
    """(conversation, its newest direct post) of hers, newest post first, paged by that post's
    id, as Mastodon pages them; one whose post was deleted, or is a blocked peer's, is left out."""
    query = (select(Conversation, Object).join(Object, Object.id == Conversation.last_status_id)
             .where(Conversation.owner_id == owner_id, Object.deleted_at.is_(None), ~blocked_author(Object.actor_id)))
    rows = [(row, post) for row, post in await session.execute(apply(query, Conversation.last_status_id, cursor))]
    return newest_first(rows, cursor, key=lambda row: row[0].last_status_id)


async def conversation_of(session: AsyncSession, owner_id: int, conversation_id: int) -> Conversation | None:
    return await session.scalar(select(Conversation).where(
        Conversation.id == conversation_id, Conversation.owner_id == owner_id))


async def mark_read(session: AsyncSession, conversation: Conversation) -> None:
    await session.execute(update(Conversation).where(Conversation.id == conversation.id).values(unread=False))
    conversation.unread = False
