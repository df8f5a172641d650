"""Communities for tests: made the way the CLI and the JSON API make them."""

from __future__ import annotations

from federation.communities import groups
from federation.outbox import relations
from federation.remote.resolve import resolve_account
from storage.models import Actor, Community
from tests.instances import Instance


async def make_community(instance: Instance, name: str, *, moderators: tuple[str, ...] = (),
                         **settings) -> tuple[Community, Actor]:
    async with instance.db.sessions.begin() as session:
        mods = [await groups.local_user(session, username) for username in moderators]
        return await groups.create(session, instance.urls, name, groups.Settings(**settings), moderators=mods,
                                   by="test", now=instance.clock.now())


async def follow_remote(instance: Instance, username: str, acct: str) -> None:
    """`username` on `instance` follows (or joins) `acct`, resolved through WebFinger."""
    target = await resolve_account(instance.fed, acct)
    async with instance.db.sessions.begin() as session:
        await relations.follow(instance.fed, session, await instance.actor(username), target)
