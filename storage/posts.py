"""Queries on posts as a writer needs them: by id, by a client's Idempotency-Key."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import IdempotencyKey, Object, ObjectEdit


async def post_by_id(session: AsyncSession, post_id: int) -> Object | None:
    return await session.get(Object, post_id)


async def post_by_idempotency_key(session: AsyncSession, actor_id: int, key: str) -> Object | None:
    """The post an actor created with this `Idempotency-Key`, if any."""
    return await session.scalar(select(Object).join(IdempotencyKey, IdempotencyKey.object_id == Object.id)
                                .where(IdempotencyKey.actor_id == actor_id, IdempotencyKey.key == key))


def remember_idempotency_key(session: AsyncSession, actor_id: int, key: str, post_id: int) -> None:
    session.add(IdempotencyKey(actor_id=actor_id, key=key, object_id=post_id))


def add_edit(session: AsyncSession, item: Object) -> None:
    """Keep the post's current version (text, content warning, attachments) in its edit history."""
    session.add(ObjectEdit(
        object_id=item.id, content=item.content, summary=item.summary, sensitive=item.sensitive,
        attachments=item.attachments, edited_at=item.updated or item.published,
    ))


async def edits_of(session: AsyncSession, object_id: int) -> list[ObjectEdit]:
    """A post's earlier versions, oldest first."""
    return list(await session.scalars(select(ObjectEdit).where(ObjectEdit.object_id == object_id)
                                      .order_by(ObjectEdit.id)))
