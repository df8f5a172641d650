"""Backfilling a community's thread from its context collection (FEP-7888).

When a community we follow announces a reply whose parent we do not have (a member who joined
after the thread began), the thread's context collection is fetched from the community's
server, and its posts we lack are fetched, each from its own origin, as any post is: at most
BACKFILL_LIMIT of them, and all of it within one [federation] fetch_timeout_seconds (what was
stored before the deadline is kept). This runs in the Announce handler's prefetch. What the
collection lists counts among the community's threads here, so a later removal by its
moderators reaches those posts too. A context on another host than the community's is not the
community's, and is ignored.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from federation.protocol.fetch import FetchError
from federation.protocol.urls import authority
from federation.remote.resolve import RemoteError, ensure_stored
from federation.runtime.context import Federation
from storage import community_threads as thread_queries
from storage.models import Actor, Visibility
from storage.posts import post_by_uri, stored_thread_links

log = logging.getLogger(__name__)

BACKFILL_LIMIT = 40  # the posts one backfill fetches at most


@dataclass(frozen=True)
class Backfilled:
    """What a backfill found: the context, and the posts it lists that are stored here now."""

    context: str
    uris: tuple[str, ...]


def owned_context(group_uri: str, document: dict) -> str | None:
    """The context an Announce by `group_uri` (or the post it carries) names, if the group's
    server owns it; None otherwise."""
    inner = document.get("object")
    candidates = [document.get("context")]
    if isinstance(inner, dict):
        candidates.append(inner.get("context"))
        if isinstance(inner.get("object"), dict):
            candidates.append(inner["object"].get("context"))
    for value in candidates:
        if isinstance(value, str) and len(value) <= 2048 and authority(value) == authority(group_uri):
            return value
    return None


async def needs_backfill(fed: Federation, post_uri: str) -> bool:
    """Whether the post is a reply whose parent is not stored here (a thread begun before we
    followed the community)."""
    chain = await fed.db.read(lambda session: stored_thread_links(session, post_uri, 2))
    if not chain:
        return False
    parent = chain[0].in_reply_to_uri
    return parent is not None and len(chain) < 2


async def backfill(fed: Federation, context: str) -> Backfilled | None:
    """Fetch the context collection and the posts it lists that we lack (bounded in number and
    in time: what was stored before the deadline is kept); None if the collection cannot be had."""
    kept: list[str] = []
    try:
        async with asyncio.timeout(fed.settings.fetch_timeout_seconds):
            _, document = await fed.fetcher.get_json(context)
            if document.get("type") not in ("OrderedCollection", "Collection") or document.get("id") != context:
                log.info("context %s is not a collection", context)
                return None
            items = document.get("orderedItems", document.get("items", []))
            uris = [item if isinstance(item, str) else item.get("id") if isinstance(item, dict) else None
                    for item in (items if isinstance(items, list) else [])]
            for uri in [uri for uri in uris if isinstance(uri, str) and len(uri) <= 2048][:BACKFILL_LIMIT]:
                try:
                    if await ensure_stored(fed, uri) is not None:
                        kept.append(uri)
                except RemoteError as exc:
                    log.info("backfill of %s: %s unavailable: %s", context, uri, exc)
    except TimeoutError:
        log.info("backfill of %s stopped at the fetch deadline, %d posts in", context, len(kept))
    except FetchError as exc:
        log.info("backfill of %s: %s", context, exc)
        return None
    return Backfilled(context, tuple(kept))


async def count_backfilled(session: AsyncSession, group: Actor, found: Backfilled, now: datetime) -> int:
    """The backfilled posts count among the community's threads here; how many were added. Only
    a post anyone may read does (public or unlisted, not institution-only), as only such a post
    is ever announced: a context listing a private post of ours does not make it the
    community's."""
    added = 0
    for uri in found.uris:
        item = await post_by_uri(session, uri)
        if (item is not None and item.deleted_at is None and not item.local_only
                and item.visibility in (Visibility.public, Visibility.unlisted)):
            added += await thread_queries.add_thread_post(session, group.id, item.id,
                                                          f"{found.context}#backfill-{item.id}"[:2048], now)
    return added
