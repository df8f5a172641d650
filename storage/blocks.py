"""Writes of blocks a peer's actor makes (who blocks whom is read in storage.accounts_api)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Block


def add_block(session: AsyncSession, uri: str, actor_id: int, target_id: int, now: datetime) -> Block:
    row = Block(uri=uri, actor_id=actor_id, target_id=target_id, created_at=now)
    session.add(row)
    return row


async def withdraw_block(session: AsyncSession, uri: str | None, actor_id: int) -> bool:
    """Remove the block with this activity id, if this actor made it; True if one went."""
    result = await session.execute(delete(Block).where(Block.uri == uri, Block.actor_id == actor_id))
    return bool(result.rowcount)
