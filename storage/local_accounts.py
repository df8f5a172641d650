"""Actors and accounts by id, as the domain loads them while it writes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Account, Actor


async def add_local_actor(session: AsyncSession, actor: Actor) -> Actor:
    """Store a new local actor, flushed so it has an id."""
    session.add(actor)
    await session.flush()
    return actor


async def add_account(session: AsyncSession, account: Account) -> Account:
    session.add(account)
    await session.flush()
    return account


async def set_last_active(session: AsyncSession, account_id: int, at: datetime) -> None:
    await session.execute(update(Account).where(Account.id == account_id).values(last_active_at=at))


async def merge_preferences(session: AsyncSession, account_id: int, changes: dict[str, Any]) -> None:
    """Set these preference keys (a None value removes its key), keeping the others."""
    account = await session.get(Account, account_id, with_for_update=True)
    if account is not None:
        merged = {**(account.preferences or {}), **changes}
        account.preferences = {key: value for key, value in merged.items() if value is not None}
