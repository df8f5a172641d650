"""Browsers' sign-ins to the web pages (tokens are stored as SHA-256 digests only)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, defer

from storage.models import Account, Actor, WebSession


async def add_session(session: AsyncSession, row: WebSession) -> WebSession:
    session.add(row)
    await session.flush()
    return row


_LIVE = (
    select(WebSession, Account, Actor)
    .join(Account, WebSession.account_id == Account.id)
    .join(Actor, Account.actor_id == Actor.id)
    .where(WebSession.token_hash == bindparam("digest"), WebSession.revoked_at.is_(None),
           WebSession.expires_at > bindparam("now"), Account.disabled.is_(False))
    .options(defer(Actor.raw))
)


def live_session(session: Session, token_hash: str, now: datetime) -> tuple[WebSession, Account, Actor] | None:
    """The unrevoked, unexpired session with this digest, of an account not disabled, with the
    account and its actor. Synchronous, for `Database.read`: every signed-in page asks it."""
    row = session.execute(_LIVE, {"digest": token_hash, "now": now}).first()
    return None if row is None else (row[0], row[1], row[2])


async def revoke_session(session: AsyncSession, token_hash: str, at: datetime) -> bool:
    """End the session with this digest; whether one was live."""
    result = await session.execute(update(WebSession).where(
        WebSession.token_hash == token_hash, WebSession.revoked_at.is_(None)).values(revoked_at=at))
    return result.rowcount > 0


async def live_sessions_of(session: AsyncSession, account_id: int, now: datetime) -> list[WebSession]:
    """The account's sessions that are neither revoked nor expired, newest first."""
    return list(await session.scalars(select(WebSession).where(
        WebSession.account_id == account_id, WebSession.revoked_at.is_(None), WebSession.expires_at > now,
    ).order_by(WebSession.id.desc())))


async def revoke_session_of(session: AsyncSession, account_id: int, session_id: int, at: datetime) -> bool:
    """End one of the account's own sessions by its id; whether one was live."""
    result = await session.execute(update(WebSession).where(
        WebSession.id == session_id, WebSession.account_id == account_id, WebSession.revoked_at.is_(None),
    ).values(revoked_at=at))
    return result.rowcount > 0


async def revoke_sessions_of(session: AsyncSession, account_id: int, at: datetime) -> int:
    """End every live session of the account (its password was reset); how many."""
    result = await session.execute(update(WebSession).where(
        WebSession.account_id == account_id, WebSession.revoked_at.is_(None)).values(revoked_at=at))
    return result.rowcount
