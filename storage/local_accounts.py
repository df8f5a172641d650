"""Actors and accounts by id, as the domain loads them while it writes."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Account, Actor


async def actor_by_id(session: AsyncSession, actor_id: int) -> Actor | None:
    return await session.get(Actor, actor_id)


async def account_of(session: AsyncSession, actor_id: int) -> Account | None:
    """The local account an actor belongs to; None for a remote actor."""
    return await session.scalar(select(Account).where(Account.actor_id == actor_id))
