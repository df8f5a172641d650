"""Helpers for the handler-level tests (tests/test_handler_*.py).

A `Scene` is one real instance with a local user, alice, and a recording fake peer whose actors
(zed, and mallory when a test needs an impostor) sign real activities with their own keys. A
test sends an activity to the instance's inbox over HTTP, runs the inbox worker once
(`worker.run_once`, not the delivery worker, so what the handler queued stays visible as
delivery rows), then reads the outcome: rows, and the inbox item's final state and reason.

`handle_directly` runs one handler on a parsed activity in a real transaction, without the inbox
in front of it: for the handler's own rules that the inbox's origin checks would otherwise
refuse first (defence in depth).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
from sqlalchemy import func, select

from federation.inbox import worker

from federation.outbox import actions
from federation.inbox.handlers import HANDLERS
from federation.inbox.handlers.base import HandlerContext, Ignore
from federation.remote.resolve import resolve_actor
from federation.protocol.vocab import PUBLIC
from federation.protocol.vocab.parse import ap_to_activity
from storage import actors as actor_queries
from storage.models import (
    Activity,
    Actor,
    Delivery,
    FeedEntry,
    InboxItem,
    InboxState,
    Notification,
    NotificationType,
    Object,
    Visibility,
)
from tests.fakepeer import FakePeer, activity
from tests.instances import Instance, InstanceFactory


async def delivery_rows(instance: Instance, kind: str | None = None) -> list[tuple[str, dict[str, Any]]]:
    """(target inbox, activity document) of every delivery row, oldest first, of activities of `kind`."""
    query = select(Delivery.inbox, Activity.raw).join(Activity, Delivery.activity_id == Activity.id)
    if kind is not None:
        query = query.where(Activity.type == kind)
    async with instance.db.sessions() as session:
        return [(inbox, raw) for inbox, raw in (await session.execute(query.order_by(Delivery.id))).all()]


@dataclass
class Scene:
    a: Instance
    peer: FakePeer
    http: aiohttp.ClientSession

    # --- sending ------------------------------------------------------------------------------

    async def send(self, name: str, kind: str, obj: Any, suffix: str = "1", *, inbox: str | None = None,
                   **extra: Any) -> dict[str, Any]:
        """`name` on the peer signs `kind` of `obj` and POSTs it to the shared inbox (202)."""
        document = activity(self.peer, name, kind, obj, suffix, **extra)
        await self.post(name, document, inbox=inbox)
        return document

    async def post(self, name: str, document: dict[str, Any], *, inbox: str | None = None) -> None:
        status, text = await self.peer.post(self.http, name, inbox or f"{self.a.base}/inbox", document,
                                            self.a.clock.now())
        assert status == 202, f"{status} {text}"

    async def run(self) -> int:
        """The inbox worker, once: every queued item is handled."""
        return await worker.run_once(self.a.fed)

    # --- the peer's documents -----------------------------------------------------------------

    def note(self, name: str, n: str, *, content: str = "<p>hello</p>", to: tuple[str, ...] = (PUBLIC,),
             cc: tuple[str, ...] = (), **extra: Any) -> dict[str, Any]:
        """A Note by `name` on the peer, also served at its id (so it can be fetched)."""
        uri = f"{self.peer.base}/users/{name}/statuses/{n}"
        document = {"id": uri, "type": "Note", "attributedTo": f"{self.peer.base}/users/{name}",
                    "content": content, "to": list(to), "cc": list(cc), **extra}
        self.peer.serve(f"/users/{name}/statuses/{n}", document)
        return document

    async def remote(self, name: str) -> Actor:
        """The row of the peer's actor `name` (fetched from the peer if not stored yet)."""
        return await resolve_actor(self.a.fed, f"{self.peer.base}/users/{name}")

    # --- the outcome --------------------------------------------------------------------------

    async def outcome(self, document: dict[str, Any]) -> tuple[InboxState, str | None]:
        """The inbox item's final state and reason."""
        async with self.a.db.sessions() as session:
            item = await session.scalar(select(InboxItem).where(InboxItem.activity_uri == document["id"]))
        assert item is not None, f"no inbox item {document['id']}"
        return item.state, item.last_error

    async def count(self, model: Any, *where: Any) -> int:
        async with self.a.db.sessions() as session:
            return await session.scalar(select(func.count()).select_from(model).where(*where))

    async def one(self, model: Any, *where: Any) -> Any:
        async with self.a.db.sessions() as session:
            return (await session.scalars(select(model).where(*where))).one()

    async def all(self, model: Any, *where: Any) -> list[Any]:
        async with self.a.db.sessions() as session:
            return list(await session.scalars(select(model).where(*where)))

    async def notifications(self, recipient: Actor) -> list[NotificationType]:
        async with self.a.db.sessions() as session:
            return list(await session.scalars(
                select(Notification.type).where(Notification.recipient_id == recipient.id).order_by(Notification.id)))

    async def home(self, owner: Actor) -> set[int]:
        """The item ids in `owner`'s home feed."""
        async with self.a.db.sessions() as session:
            return set(await session.scalars(select(FeedEntry.item_id).where(FeedEntry.owner_id == owner.id)))

    async def queued(self, kind: str | None = None) -> list[tuple[str, dict[str, Any]]]:
        """(target inbox, activity document) of every queued delivery, of activities of `kind`."""
        return await delivery_rows(self.a, kind)

    # --- local content ------------------------------------------------------------------------

    async def local_post(self, author: str = "alice", *, visibility: Visibility = Visibility.public,
                         content: str = "<p>local</p>") -> Object:
        async with self.a.fed.transaction() as session:
            return await actions.post(self.a.fed, session, await self.a.actor(author), content=content,
                                     visibility=visibility)


@asynccontextmanager
async def start_scene(instances: InstanceFactory, http: aiohttp.ClientSession, **sections: Any) -> AsyncIterator[Scene]:
    """An instance with alice, and a fake peer serving zed and mallory (each with its own key)."""
    a = await instances.start(**sections)
    await a.add_user("alice")
    peer = await FakePeer().start()
    peer.add_actor("zed", key=0)
    peer.add_actor("mallory", key=1)
    try:
        yield Scene(a, peer, http)
    finally:
        await peer.stop()


async def handle_directly(a: Instance, document: dict[str, Any], *, prepared: Any = None) -> str | None:
    """Run the handler of `document` as the worker does (one transaction, the actor's stored row),
    without the inbox's checks: None if it did its work (committed), else why it ignored it
    (rolled back)."""
    parsed = ap_to_activity(document)
    try:
        async with a.fed.transaction() as session:
            actor = await actor_queries.actor_by_uri(session, parsed.actor)
            assert actor is not None, f"no actor row for {parsed.actor}"
            ctx = HandlerContext(a.fed, session, parsed, actor, a.clock.now(), prepared)
            await HANDLERS[parsed.type].handle(ctx)
    except Ignore as reason:
        return str(reason)
    return None
