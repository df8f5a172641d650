"""Queries on actors and local accounts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Account, Actor, ActorType


async def local_actor_by_username(session: AsyncSession, username: str) -> Actor | None:
    return await session.scalar(
        select(Actor).where(Actor.local.is_(True), Actor.username == username.lower())
    )


async def shown_local_actor(session: AsyncSession, username: str) -> Actor | None:
    """A local actor whose pages may be shown: its account is not disabled."""
    return await session.scalar(
        select(Actor).join(Account, Account.actor_id == Actor.id)
        .where(Actor.local.is_(True), Actor.username == username.lower(), Account.disabled.is_(False)))


# built once: the inbox worker asks these for every item it handles (building a statement costs
# more than running it)
_BY_URI = select(Actor).where(Actor.uri == bindparam("uri"))
_BY_URIS = select(Actor).where(Actor.uri.in_(bindparam("uris", expanding=True)))


async def actor_by_uri(session: AsyncSession, uri: str) -> Actor | None:
    return await session.scalar(_BY_URI, {"uri": uri})


async def instance_actor(session: AsyncSession) -> Actor | None:
    return await session.scalar(
        select(Actor).where(Actor.local.is_(True), Actor.type == ActorType.Application)
    )


async def account_by_username(session: AsyncSession, username: str) -> Account | None:
    return await session.scalar(select(Account).where(Account.username == username.lower()))


async def list_accounts(session: AsyncSession) -> list[tuple[Account, Actor]]:
    rows = await session.execute(
        select(Account, Actor).join(Actor, Account.actor_id == Actor.id).order_by(Account.id)
    )
    return [(account, actor) for account, actor in rows]


async def count_local_users(session: AsyncSession, *, active_since: datetime | None = None) -> int:
    query = select(func.count()).select_from(Account).where(Account.disabled.is_(False))
    if active_since is not None:
        query = query.where(Account.last_active_at >= active_since)
    return await session.scalar(query) or 0


async def actor_by_key_id(session: AsyncSession, key_id: str) -> Actor | None:
    return await session.scalar(select(Actor).where(Actor.key_id == key_id))


async def actor_uri_by_key_id(session: AsyncSession, key_id: str) -> str | None:
    """The uri of the actor the key is bound to, if any (key ids are unique among actors)."""
    return await session.scalar(select(Actor.uri).where(Actor.key_id == key_id))


async def actors_by_uris(session: AsyncSession, uris: list[str]) -> dict[str, Actor]:
    if not uris:
        return {}
    rows = await session.scalars(_BY_URIS, {"uris": list(uris)})
    return {actor.uri: actor for actor in rows}


async def actor_by_id(session: AsyncSession, actor_id: int) -> Actor | None:
    return await session.get(Actor, actor_id)


async def account_by_id(session: AsyncSession, account_id: int) -> Account | None:
    return await session.get(Account, account_id)
