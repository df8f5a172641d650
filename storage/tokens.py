"""Bearer tokens, stored as SHA-256 digests."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Account, OAuthToken


async def add_token(
    session: AsyncSession, *, token_hash: str, account_id: int | None, scopes: str,
    name: str = "", app_id: int | None = None,
) -> OAuthToken:
    token = OAuthToken(
        token_hash=token_hash, account_id=account_id, scopes=scopes, name=name, app_id=app_id
    )
    session.add(token)
    await session.flush()
    return token


async def live_token(
    session: AsyncSession, token_hash: str
) -> tuple[OAuthToken, Account | None] | None:
    """The unrevoked token with this digest and its account (None for an app-only token)."""
    row = (
        await session.execute(
            select(OAuthToken, Account)
            .outerjoin(Account, OAuthToken.account_id == Account.id)
            .where(OAuthToken.token_hash == token_hash, OAuthToken.revoked_at.is_(None))
        )
    ).first()
    return None if row is None else (row[0], row[1])

