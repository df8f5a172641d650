"""Serialised local actor documents, cached for a few seconds: the actor routes serve them, and
a profile change (server/api/credentials.update_profile) forgets them. Its own module, below
both, so that the profile code needs nothing from the routes (which import the web pages)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from aiohttp import web

from federation.protocol.vocab import actor_to_ap, key_only_actor_to_ap
from federation.protocol.vocab.community import group_to_ap
from federation.social import emojis
from server.appkeys import DATABASE, URLS
from server.responses import dump_json
from storage import actors as actor_queries
from storage.communities import community_of
from storage.models import ActorType

CACHE_SECONDS = 10.0


@dataclass
class _Cached:
    body: bytes
    expires: float


class ActorDocuments:
    """Serialised local actor documents (full, or key-only), each kept for CACHE_SECONDS."""

    def __init__(self, max_entries: int = 10_000) -> None:
        self._entries: dict[tuple[str, bool], _Cached] = {}
        self._max_entries = max_entries

    async def get(self, app: web.Application, username: str, *, key_only: bool = False) -> bytes | None:
        now = time.monotonic()
        cached = self._entries.get((username, key_only))
        if cached is not None and cached.expires > now:
            return cached.body
        async with app[DATABASE].sessions() as session:
            actor = await actor_queries.local_actor_by_username(session, username)
            community = await community_of(session, actor.id) if actor is not None and actor.type is ActorType.Group else None
            rules = (community.rules or []) if community is not None else []
            tags = await emojis.actor_tags(session, actor, app[URLS], *rules) if actor is not None and not key_only else []
        if actor is None:
            return None
        if len(self._entries) >= self._max_entries:
            self._entries.clear()
        if key_only:
            document = key_only_actor_to_ap(actor)
        elif community is not None:
            document = group_to_ap(actor, community, app[URLS].moderators(actor.username), tags)
        else:
            document = actor_to_ap(actor, tags)
        body = dump_json(document)
        self._entries[(username, key_only)] = _Cached(body, now + CACHE_SECONDS)
        return body

    def invalidate(self, username: str) -> None:
        """Forget a local actor's documents after its profile changed (this process at once;
        others within CACHE_SECONDS)."""
        for key_only in (False, True):
            self._entries.pop((username, key_only), None)


ACTOR_DOCUMENTS = web.AppKey("actor_documents", ActorDocuments)
