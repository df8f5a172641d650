"""One streaming connection's subscriptions, and how it renders each bus event for its viewer
(server.api.streaming carries it over WebSocket or Server-Sent Events).

Events name the row they are about, not a payload, so the connection renders each one for its
own viewer, and drops what that viewer may not see (`can_see`, blocks and mutes, peers the
policy now refuses). Before each event it would send, it asks whether its token is still live
(in the session that renders the event): a revoked token, or a disabled user's, ends the
stream."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from federation.social.access import can_see
from federation.social.events import StreamEvent
from federation.protocol.vocab.jsondoc import JSONRefused, load_json
from server.api.auth import ApiError, Caller, InvalidToken, caller_in, scope_allows
from server.api.entities import Renderer
from server.api.filtering import hidden
from server.appkeys import CLOCK, DATABASE, FEDERATION, SETTINGS, URLS
from server.responses import dump_json
from storage import instance_api, interactions, notifications, posts
from storage import statuses as status_queries
from storage.models import FILTER_CONTEXTS, Actor, Announce, Object

log = logging.getLogger(__name__)

SSE_PATHS = {
    "user": "user", "user/notification": "user:notification",
    "public": "public", "public/local": "public:local", "public/remote": "public:remote",
    "public/media": "public:media", "public/local/media": "public:local:media",
    "public/remote/media": "public:remote:media",
    "hashtag": "hashtag", "hashtag/local": "hashtag:local",
}
PUBLIC_KEYS = {"public": "public", "public:local": "public:local", "public:remote": "public:remote"}


@dataclass(frozen=True)
class Subscription:
    name: tuple[str, ...]             # as the client sees it in "stream": ("user",), ("hashtag", "tag")
    keys: frozenset[str]              # the bus streams it hears
    events: frozenset[str] | None = None  # None: every event
    local_only: bool = False
    media_only: bool = False
    context: str | None = None        # the filter context whose `hide` filters it obeys

    def hears(self, event: StreamEvent) -> bool:
        return not self.keys.isdisjoint(event.streams) and (self.events is None or event.event in self.events)

    def accepts(self, rendered: Rendered) -> bool:
        if self.local_only and rendered.local is False:
            return False
        if self.context is not None and self.context in rendered.hidden_in:
            return False
        return not (self.media_only and rendered.has_media is False)


@dataclass(frozen=True)
class Rendered:
    payload: str
    local: bool | None = None      # None: not a status, or unknown
    has_media: bool | None = None
    hidden_in: frozenset[str] = frozenset()  # the filter contexts in which a `hide` filter matches it


STATUS_EVENTS = frozenset({"update", "status.update", "delete"})
Send = Callable[[Subscription, str, str], Awaitable[None]]


def _name(stream: str, tag: Any) -> tuple[str, ...]:
    if stream.startswith("hashtag"):
        if not isinstance(tag, str) or not tag.strip("# "):
            raise ApiError(400, "No tag for stream provided")
        return (stream, tag.strip().lstrip("#"))
    return (stream,)


class Connection:
    """One client's subscriptions, and the loop that renders bus events for it."""

    def __init__(self, app: web.Application, caller: Caller | None, viewer: Actor | None) -> None:
        self.app = app
        self.caller = caller
        self.viewer = viewer
        self.subscriptions: dict[tuple[str, ...], Subscription] = {}
        self.revoked = False  # its token was found revoked: the stream ended

    def _may(self, scope: str) -> bool:
        return self.caller is not None and scope_allows(self.caller.scopes, scope)

    def subscribe(self, stream: str, tag: Any = None) -> None:
        if stream not in SSE_PATHS.values():
            raise ApiError(400, f"Unknown stream type: {stream}")
        name = _name(stream, tag)
        if stream.startswith("user"):
            if self.caller is None:
                raise ApiError(401, "Missing access token")
            if self.viewer is None:
                raise ApiError(403, "This stream requires an authenticated user")
            needed = "read:notifications" if stream == "user:notification" else "read:statuses"
            if not self._may(needed):
                raise ApiError(403, "This action is outside the authorized scopes")
            me = self.viewer.id
            if stream == "user:notification":
                sub = Subscription(name, frozenset({f"user:notification:{me}"}), frozenset({"notification"}))
            else:
                events = None if self._may("read:notifications") else STATUS_EVENTS
                sub = Subscription(name, frozenset({f"user:{me}", f"user:notification:{me}"}), events, context="home")
        else:
            if self.caller is not None and not self._may("read:statuses"):
                raise ApiError(403, "This action is outside the authorized scopes")
            if stream.startswith("hashtag"):
                key = f"hashtag:{name[1].lower()}"
                sub = Subscription(name, frozenset({key}), STATUS_EVENTS, local_only=stream == "hashtag:local",
                                   context="public")
            else:
                key = PUBLIC_KEYS[stream.removesuffix(":media")]
                sub = Subscription(name, frozenset({key}), STATUS_EVENTS, media_only=stream.endswith(":media"),
                                   context="public")
        self.subscriptions[name] = sub

    def unsubscribe(self, stream: str, tag: Any = None) -> None:
        self.subscriptions.pop(_name(stream, tag), None)

    def on_message(self, text: str) -> dict[str, Any] | None:
        """A client's WebSocket message; the answer is an error to send back, or None."""
        try:
            message = load_json(text, self.app[SETTINGS].server.max_json_depth)
        except JSONRefused as exc:
            log.info("streaming: refused a client message: %s", exc)
            return {"error": f"Could not parse the message: it is {exc}", "status": 400}
        kind = message.get("type") if isinstance(message, dict) else None
        stream = message.get("stream") if isinstance(message, dict) else None
        if kind not in ("subscribe", "unsubscribe") or not isinstance(stream, str):
            return {"error": "Unknown message: expected a subscribe or unsubscribe with a stream", "status": 400}
        try:
            if kind == "subscribe":
                self.subscribe(stream, message.get("tag"))
            else:
                self.unsubscribe(stream, message.get("tag"))
        except ApiError as exc:
            return {"error": str(exc), "status": exc.status}
        return None

    async def pump(self, queue: asyncio.Queue[StreamEvent], send: Send, *,
                   heartbeat: float | None = None, beat: Callable[[], Awaitable[None]] | None = None) -> None:
        """Render and send the events this connection hears, until the client is gone."""
        try:
            while True:
                if heartbeat is None or beat is None:
                    event = await queue.get()
                else:
                    try:
                        event = await asyncio.wait_for(queue.get(), heartbeat)
                    except TimeoutError:
                        await beat()
                        continue
                subscribers = [s for s in self.subscriptions.values() if s.hears(event)]
                rendered = await self._render(event) if subscribers else None
                for subscription in subscribers:
                    if rendered is not None and subscription.accepts(rendered):
                        await send(subscription, event.event, rendered.payload)
        except ConnectionError:
            return  # the client went away mid-write

    async def _token_still_live(self, session: AsyncSession) -> None:
        """Before each event it would send, in the session that renders it: the token is not
        revoked, nor its user disabled; else ConnectionResetError, which ends the stream (a web
        page's session has no token: server/web/live.py asks its session)."""
        token = self.caller.token if self.caller is not None else None
        if token is None:
            return
        try:
            await session.run_sync(lambda sync: caller_in(sync, token.token_hash))
        except InvalidToken:
            self.revoked = True
            raise ConnectionResetError("the token was revoked") from None

    async def _render(self, event: StreamEvent) -> Rendered | None:
        try:
            async with self.app[DATABASE].sessions() as session:
                await self._token_still_live(session)
                if event.event == "delete":
                    post = await posts.post_by_id(session, event.ref)
                    return Rendered(str(event.ref), post.local if post is not None else None)
                if event.kind == "notification":
                    return await self._notification(session, event.ref)
                return await self._status(session, event)
        except ConnectionError:
            raise  # the token was revoked: the stream ends (`pump`)
        except SQLAlchemyError as exc:
            log.warning("streaming: could not render a %s event for %s: %s", event.event, event.kind, exc)
        except Exception:
            log.exception("streaming: rendering a %s event failed", event.event)
        return None

    async def _status(self, session: AsyncSession, event: StreamEvent) -> Rendered | None:
        item: Object | Announce | None
        if event.kind == "announce":
            item = await interactions.announce_by_id(session, event.ref)
            post = await posts.post_by_id(session, item.object_id) if item is not None else None
        elif event.kind == "status":
            item = post = await posts.post_by_id(session, event.ref)
        else:
            return None
        if item is None or post is None or not await can_see(session, post, self.viewer):
            return None
        if await self._hidden(session, {item.actor_id, post.actor_id}):
            return None
        entities = await session.run_sync(lambda sync: self._renderer(sync).statuses([item]))
        if not entities:
            return None
        shown = entities[0]["reblog"] or entities[0]
        return Rendered(dump_json(entities[0]).decode(), post.local, bool(shown["media_attachments"]),
                        frozenset(c for c in FILTER_CONTEXTS if hidden(entities[0], c)))

    async def _notification(self, session: AsyncSession, notification_id: int) -> Rendered | None:
        row = await notifications.notification_by_id(session, notification_id)
        if row is None or self.viewer is None or row.recipient_id != self.viewer.id or row.dismissed:
            return None
        entities = await session.run_sync(lambda sync: self._renderer(sync).notifications([row]))
        return Rendered(dump_json(entities[0]).decode()) if entities else None

    def _renderer(self, sync: Session) -> Renderer:
        return Renderer(sync, self.app[URLS], self.viewer, self.app[CLOCK].now())

    async def _hidden(self, session: AsyncSession, actor_ids: set[int]) -> bool:
        """Posts by peers the policy refuses now, or by accounts the viewer blocks or mutes."""
        policy = self.app[FEDERATION].policy
        actors = await session.run_sync(lambda sync: status_queries.actors_by_id(sync, actor_ids))
        if any(not actor.local and not policy.allows(actor.domain) for actor in actors.values()):
            return True
        if self.viewer is None:
            return False
        others = actor_ids - {self.viewer.id}
        return bool(await instance_api.hidden_from(session, self.viewer.id, others, self.app[CLOCK].now()))
