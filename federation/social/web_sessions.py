"""Sign-ins to the web pages: a session is a random token in the browser's cookie and a row,
keyed by the token's SHA-256, on the server.

The decision to know: the browser holds nothing it could forge or edit. Whoever the session is,
its expiry and whether it was ended live in the database, so signing out (or, later, revoking a
session from the settings page) takes effect on the next request. The form token that guards a
signed-in browser's POSTs is derived from the session token (see server/web/forms.py), so it
needs no column of its own.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from federation.social.accounts import hash_token
from storage import web_sessions as queries
from storage.models import Account, Actor, WebSession

LIFETIME = timedelta(days=14)
PENDING_LIFETIME = timedelta(minutes=10)  # to type the second factor's code after the password


@dataclass(frozen=True)
class SignedIn:
    """Who a live session signs in: the session row, the account and its actor."""

    session: WebSession
    account: Account
    actor: Actor


async def open_session(session: AsyncSession, account: Account, *, at: datetime, user_agent: str = "",
                       address: str = "", pending_second_factor: bool = False) -> str:
    """A new session for `account`; returns the token for the cookie (shown once, stored as a
    digest). A session pending its second factor signs no one in, and lasts minutes. The caller
    commits."""
    token = secrets.token_urlsafe(32)
    await queries.add_session(session, WebSession(
        token_hash=hash_token(token), account_id=account.id, user_agent=user_agent[:255], address=address[:64],
        created_at=at, expires_at=at + (PENDING_LIFETIME if pending_second_factor else LIFETIME),
        second_factor_pending=pending_second_factor))
    return token


async def pending_sign_in(session: AsyncSession, token: str, *, now: datetime) -> tuple[WebSession, Account] | None:
    """The sign-in this token began with a password, still waiting for its second factor."""
    return await queries.pending_session(session, hash_token(token), now) if token else None


async def end_other_sessions(session: AsyncSession, account: Account, keep: WebSession | None, *,
                             at: datetime) -> int:
    """Sign every browser of the account out but `keep` (a password change). The caller commits."""
    return await queries.revoke_sessions_except(session, account.id, keep.id if keep else None, at)


def signed_in(session: Session, token: str, now: datetime) -> SignedIn | None:
    """Who the session with this token signs in, if it is live and its account not disabled."""
    found = queries.live_session(session, hash_token(token), now)
    return None if found is None else SignedIn(*found)


async def close_session(session: AsyncSession, token: str, *, at: datetime) -> bool:
    """End the session with this token (signing out); whether it was live. The caller commits."""
    return await queries.revoke_session(session, hash_token(token), at)


async def sessions_of(session: AsyncSession, account: Account, *, now: datetime) -> list[WebSession]:
    """The account's live sessions, newest first (for its settings page)."""
    return await queries.live_sessions_of(session, account.id, now)


async def end_session(session: AsyncSession, account: Account, session_id: int, *, at: datetime) -> bool:
    """End one of `account`'s sessions (from its settings page); another account's is left alone.
    The caller commits."""
    return await queries.revoke_session_of(session, account.id, session_id, at)
