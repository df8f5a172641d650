"""Remote actors: fetched from their origin, checked, and upserted into the actors table.

An actor document is trusted only for its own origin: its id must live on the host we fetched
it from, and its key id on the same host. Local actors are never fetched.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from federation.fetch import Fetcher, FetchError
from federation.sanitize import sanitize_html
from federation.urls import authority
from federation.vocab.parse import APActor, VocabError, ap_to_actor
from storage import actors as actor_queries
from storage.models import Actor, ActorType

STALE_AFTER = timedelta(days=1)


class ActorError(Exception):
    """An actor cannot be fetched or trusted; one line."""


async def fetch_actor(fetcher: Fetcher, uri: str) -> APActor:
    try:
        final_url, document = await fetcher.get_json(uri)
    except FetchError as exc:
        raise ActorError(f"cannot fetch actor {uri}: {exc}") from exc
    return actor_from_document(uri, final_url, document)


def actor_from_document(uri: str, final_url: str, document: object) -> APActor:
    """Parse a fetched actor document and check that it speaks only for its own origin."""
    try:
        actor = ap_to_actor(document)
    except VocabError as exc:
        raise ActorError(f"cannot use actor {uri}: {exc}") from exc
    if authority(actor.id) != authority(final_url) or authority(actor.id) != authority(uri):
        raise ActorError(f"actor document at {final_url} claims the foreign id {actor.id}")
    if authority(actor.public_key.id) != authority(actor.id):
        raise ActorError(f"actor {actor.id} has a key on another host: {actor.public_key.id}")
    return actor


async def upsert_remote_actor(session: AsyncSession, ap: APActor, now: datetime) -> Actor:
    """Insert or refresh the row for a fetched remote actor (the caller commits)."""
    actor = await actor_queries.actor_by_uri(session, ap.id)
    if actor is None:
        actor = Actor(uri=ap.id, local=False, published=ap.published or now)
        session.add(actor)
    elif actor.local:
        raise ActorError(f"refusing to overwrite local actor {ap.id}")
    actor.type = ActorType(ap.type)
    actor.username = ap.preferred_username
    actor.domain = authority(ap.id)
    actor.display_name = ap.name[:255]
    actor.summary = sanitize_html(ap.summary)
    actor.url = ap.url
    actor.inbox = ap.inbox
    actor.outbox = ap.outbox
    actor.shared_inbox = ap.shared_inbox
    actor.followers_url = ap.followers
    actor.following_url = ap.following
    actor.featured_url = ap.featured
    actor.key_id = ap.public_key.id
    actor.public_key_pem = ap.public_key.pem
    actor.manually_approves_followers = ap.manually_approves_followers
    actor.discoverable = ap.discoverable
    actor.updated = now
    actor.fetched_at = now
    actor.raw = ap.raw
    await session.flush()
    return actor
