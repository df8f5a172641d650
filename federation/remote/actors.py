"""Remote actors: fetched from their origin, checked, and upserted into the actors table.

An actor document is trusted only for its own origin: its id must live on the host we fetched
it from (`actor_from_document`), and `check_identity` is the one rule of what it may claim: its
key's id and the key's owner are on its own origin. A key is bound to one actor: the actors
table is unique on key_id, and `upsert_remote_actor`, the only writer of remote actors (first
fetch, key refetch, Update, WebFinger resolve), refuses a key bound to another actor before it
writes, so a peer can neither take over another host's key nor make a real owner's deliveries
fail on the unique constraint. Local actors are never fetched.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from federation.protocol.fetch import Fetcher, FetchError
from federation.protocol.sanitize import sanitize_html
from federation.protocol.urls import authority
from federation.protocol.vocab.emojis import emoji_tags
from federation.protocol.vocab.actors import APActor, ap_to_actor
from federation.protocol.vocab.values import VocabError
from storage.emojis import keep_remote_emojis
from storage import actors as actor_queries
from storage.remote_actors import add_remote_actor, save_actor
from storage.models import Actor, ActorType

log = logging.getLogger(__name__)

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
    return actor  # what it claims about its key is checked where it is stored (upsert_remote_actor)


def check_identity(ap: APActor) -> None:
    """The actor's id, its key's id and the key's owner share one origin (ActorError if not)."""
    origin = authority(ap.id)
    if authority(ap.public_key.id) != origin:
        raise ActorError(f"actor {ap.id} claims a key on another host: {ap.public_key.id}")
    if authority(ap.public_key.owner) != origin:
        raise ActorError(f"actor {ap.id} claims a key owned on another host by {ap.public_key.owner}")


async def check_key_binding(session: AsyncSession, ap: APActor) -> None:
    """The actor's key is not bound to another actor, local or remote (ActorError if it is)."""
    holder = await actor_queries.actor_uri_by_key_id(session, ap.public_key.id)
    if holder is not None and holder != ap.id:
        raise ActorError(f"actor {ap.id} claims the key {ap.public_key.id}, which is {holder}'s")


async def upsert_remote_actor(session: AsyncSession, ap: APActor, now: datetime) -> Actor:
    """Insert or refresh the row for a fetched or updated remote actor (the caller commits).
    ActorError, and nothing written, if the document breaks `check_identity` or claims a key
    bound to another actor."""
    try:
        check_identity(ap)
        await check_key_binding(session, ap)
    except ActorError as exc:  # one log line for every path that stores actors
        log.warning("refused the actor document of %s: %s", ap.id, exc)
        raise
    actor = await actor_queries.actor_by_uri(session, ap.id)
    if actor is None:
        actor = add_remote_actor(session, ap.id, ap.published or now)
    elif actor.local:
        raise ActorError(f"refusing to overwrite local actor {ap.id}")
    actor.type = ActorType(ap.type)
    actor.username = ap.preferred_username
    actor.domain = authority(ap.id)
    actor.display_name = ap.name[:255]
    actor.summary = sanitize_html(ap.summary)
    actor.avatar_url = ap.icon
    actor.header_url = ap.image
    actor.fields = [{"name": name, "value": sanitize_html(value)} for name, value in ap.fields]
    actor.url = ap.url
    actor.inbox = ap.inbox
    actor.outbox = ap.outbox
    actor.shared_inbox = ap.shared_inbox
    actor.followers_url = ap.followers
    actor.following_url = ap.following
    # its pinned posts (a community's pinned threads) live on its own server: a featured
    # collection claimed elsewhere (another server's community, one of ours) is not kept
    actor.featured_url = ap.featured if ap.featured and authority(ap.featured) == actor.domain else None
    actor.key_id = ap.public_key.id
    actor.public_key_pem = ap.public_key.pem
    actor.manually_approves_followers = ap.manually_approves_followers
    actor.discoverable = ap.discoverable
    actor.updated = now
    actor.fetched_at = now
    actor.raw = ap.raw
    await save_actor(session, actor)
    # her name's and bio's :shortcodes:, as her server's emojis (federation.social.emojis)
    await keep_remote_emojis(session, actor.domain, [(tag.shortcode, tag.url) for tag in emoji_tags(ap.raw)], now)
    return actor
