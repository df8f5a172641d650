"""An audience for the outbox tests (tests/test_outbox_*.py): alice on an allowlist instance,
with followers on several servers, so each action's delivery rows show who gets what.

    peer one    p, q   accepted followers; one shared inbox          -> ONE
    peer two    s      accepted follower; no shared inbox            -> S
    peer three  t      a follower still pending; u, who does not
                       follow alice; one shared inbox                -> THREE
    peer four   r      accepted follower, whose server was since
                       taken off the allowlist (policy refuses it)   -> never
    local       bob    accepted follower (home feed, no delivery)
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select

from federation.peers import decisions
from federation.remote.resolve import resolve_actor
from storage.models import (
    Actor,
    Delivery,
    Follow,
    FollowState,
    Object,
    PeerState,
    Visibility,
)
from tests.fakepeer import FakePeer
from tests.handler_helpers import delivery_rows
from tests.instances import Instance, InstanceFactory


@dataclass
class Audience:
    a: Instance
    alice: Actor
    bob: Actor
    actors: dict[str, Actor]  # p, q, s, t, u, r
    one: str    # target inboxes
    s_inbox: str
    three: str

    @property
    def followers(self) -> set[str]:
        """The inboxes a post for alice's followers goes to."""
        return {self.one, self.s_inbox}

    async def queued(self, kind: str | None = None) -> list[tuple[str, dict[str, Any]]]:
        """(target inbox, activity document) of each delivery row, of activities of `kind`."""
        return await delivery_rows(self.a, kind)

    async def inboxes(self, kind: str) -> list[str]:
        """The target inboxes of `kind` deliveries, sorted; each appears once per row."""
        return sorted(inbox for inbox, _ in await self.queued(kind))

    async def forget_deliveries(self) -> None:
        async with self.a.db.sessions.begin() as session:
            await session.execute(delete(Delivery))

    async def all(self, model: Any, *where: Any) -> list[Any]:
        async with self.a.db.sessions() as session:
            return list(await session.scalars(select(model).where(*where)))

    async def remote_post(self, name: str, visibility: Visibility = Visibility.public) -> Object:
        """A post by the remote actor `name`, as if received."""
        author = self.actors[name]
        async with self.a.db.sessions.begin() as session:
            item = Object(uri=f"{author.uri}/statuses/{len(await self.all(Object)) + 1}", type="Note",
                          actor_id=author.id, local=False, visibility=visibility, content="<p>theirs</p>")
            session.add(item)
        return item


async def _follows(a: Instance, follower: Actor, followee: Actor, state: FollowState) -> None:
    async with a.db.sessions.begin() as session:
        session.add(Follow(follower_id=follower.id, followee_id=followee.id, state=state,
                           uri=f"{follower.uri}/follows/{followee.username}"))


@asynccontextmanager
async def start_audience(instances: InstanceFactory) -> AsyncIterator[Audience]:
    a = await instances.start(federation={"mode": "allowlist"})
    await a.add_user("alice")
    await a.add_user("bob")
    servers = [await FakePeer().start() for _ in range(4)]
    try:
        one, two, three, four = servers
        async with a.db.sessions.begin() as session:
            for server in servers:
                await decisions.decide(session, server.authority, PeerState.allowed, by="test", at=a.clock.now())
        await a.fed.reload_policy()
        names = {"p": one, "q": one, "s": two, "t": three, "u": three, "r": four}
        actors = {}
        for name, server in names.items():
            uri = server.add_actor(name, **({"endpoints": {}} if name == "s" else {}))
            actors[name] = await resolve_actor(a.fed, uri)
        alice, bob = await a.actor("alice"), await a.actor("bob")
        for name in ("p", "q", "s", "r"):
            await _follows(a, actors[name], alice, FollowState.accepted)
        await _follows(a, actors["t"], alice, FollowState.pending)
        await _follows(a, bob, alice, FollowState.accepted)
        async with a.db.sessions.begin() as session:  # peer four is taken off the allowlist
            await decisions.remove(session, four.authority, by="test", at=a.clock.now())
        await a.fed.reload_policy()
        assert not a.fed.policy.allows(four.authority)
        yield Audience(a, alice, bob, actors, f"{one.base}/inbox", f"{two.base}/users/s/inbox", f"{three.base}/inbox")
    finally:
        for server in servers:
            await server.stop()
