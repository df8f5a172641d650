"""OAuth apps, authorization codes and bearer tokens; codes, tokens and client secrets are
stored as digests only."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, defer

from storage.models import Account, Actor, OAuthApp, OAuthCode, OAuthToken


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


_LIVE_TOKEN = (
    select(OAuthToken, Account, Actor)
    .outerjoin(Account, OAuthToken.account_id == Account.id)
    .outerjoin(Actor, Account.actor_id == Actor.id)
    .where(OAuthToken.token_hash == bindparam("digest"), OAuthToken.revoked_at.is_(None))
    .options(defer(Actor.raw))
)


def live_token(session: Session, token_hash: str) -> tuple[OAuthToken, Account | None, Actor | None] | None:
    """The unrevoked token with this digest, its account and the account's actor (both None for
    an app-only token). Synchronous, for `Database.read`: it runs on every API request, so its
    statement is built once."""
    row = session.execute(_LIVE_TOKEN, {"digest": token_hash}).first()
    return None if row is None else (row[0], row[1], row[2])


async def add_app(
    session: AsyncSession, *, name: str, website: str | None, client_id: str,
    client_secret_hash: str, redirect_uris: str, scopes: str, created_at: datetime,
) -> OAuthApp:
    app = OAuthApp(
        name=name, website=website, client_id=client_id, client_secret_hash=client_secret_hash,
        redirect_uris=redirect_uris, scopes=scopes, created_at=created_at,
    )
    session.add(app)
    await session.flush()
    return app


async def app_by_client_id(session: AsyncSession, client_id: str) -> OAuthApp | None:
    return await session.scalar(select(OAuthApp).where(OAuthApp.client_id == client_id))


async def add_app_token(
    session: AsyncSession, *, token_hash: str, account_id: int | None, app_id: int, scopes: str,
    created_at: datetime,
) -> OAuthToken:
    """A token issued through OAuth to `app_id` (for a user, or app-only when account_id is None)."""
    token = OAuthToken(
        token_hash=token_hash, account_id=account_id, app_id=app_id, scopes=scopes,
        created_at=created_at,
    )
    session.add(token)
    await session.flush()
    return token


async def token_by_hash(session: AsyncSession, token_hash: str) -> OAuthToken | None:
    """The token with this digest, revoked or not."""
    return await session.scalar(select(OAuthToken).where(OAuthToken.token_hash == token_hash))


async def revoke_token(session: AsyncSession, token_id: int, at: datetime) -> None:
    await session.execute(
        update(OAuthToken)
        .where(OAuthToken.id == token_id, OAuthToken.revoked_at.is_(None))
        .values(revoked_at=at)
    )


async def count_live_tokens(session: AsyncSession, account_id: int) -> int:
    return await session.scalar(
        select(func.count()).where(OAuthToken.account_id == account_id, OAuthToken.revoked_at.is_(None))
    ) or 0


async def revoke_account_tokens(session: AsyncSession, account_id: int, at: datetime) -> int:
    """Revoke every live token of the account; how many there were."""
    result = await session.execute(
        update(OAuthToken)
        .where(OAuthToken.account_id == account_id, OAuthToken.revoked_at.is_(None))
        .values(revoked_at=at)
    )
    return result.rowcount


async def void_account_codes(session: AsyncSession, account_id: int, at: datetime) -> int:
    """Mark the account's authorization codes not yet exchanged as used, so none can become a token."""
    result = await session.execute(
        update(OAuthCode)
        .where(OAuthCode.account_id == account_id, OAuthCode.used_at.is_(None))
        .values(used_at=at)
    )
    return result.rowcount


async def add_code(session: AsyncSession, code: OAuthCode) -> OAuthCode:
    session.add(code)
    await session.flush()
    return code


async def code_by_hash(session: AsyncSession, code_hash: str) -> OAuthCode | None:
    return await session.scalar(select(OAuthCode).where(OAuthCode.code_hash == code_hash))


async def claim_code(session: AsyncSession, code_id: int, at: datetime) -> bool:
    """Mark an authorization code used. False if it already was: of two concurrent redemptions,
    across any number of processes, exactly one wins."""
    result = await session.execute(
        update(OAuthCode)
        .where(OAuthCode.id == code_id, OAuthCode.used_at.is_(None))
        .values(used_at=at)
    )
    return result.rowcount == 1


def app_by_id(session: Session, app_id: int) -> OAuthApp | None:
    return session.get(OAuthApp, app_id)
