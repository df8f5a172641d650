"""Fetching remote actors and posts into the database, outside any long transaction.

Handlers run inside one transaction and must not wait on the network while holding it (on
SQLite that would hold the write lock). Anything a handler needs from a peer is fetched first,
by its `prefetch`, through these functions, each of which stores what it fetched in its own
short transaction.
"""

from __future__ import annotations

from federation.remote.actors import ActorError, fetch_actor, upsert_remote_actor
from federation.runtime.context import Federation
from federation.protocol.fetch import FetchError, FetchHTTPError
from federation.remote.limits import PostRefused
from federation.social.posts import store_remote_post
from federation.protocol.urls import authority
from federation.protocol.vocab.parse import APObject, VocabError, ap_to_object
from storage import actors as actor_queries
from storage.posts import PostLink, post_by_id, stored_thread_links
from storage.models import Actor, Object


class RemoteError(Exception):
    """A peer's document could not be fetched or trusted; one line. Retried later."""


class NotAPost(RemoteError):
    """The peer served a document that is not a post we can read (an unsupported type, no
    author, ...), or answers that it has none for us (401, 403, 404, 410: gone, or not ours to
    see): asking again will not change that, so a handler ignores it, not retries."""


NOT_FOR_US = frozenset({401, 403, 404, 410})


async def resolve_actor(fed: Federation, uri: str) -> Actor:
    """The actor row for `uri`, fetched from its origin if we do not have it."""
    async with fed.db.sessions() as session:
        actor = await actor_queries.actor_by_uri(session, uri)
    if actor is not None:
        return actor
    if uri.startswith(fed.urls.base + "/"):
        raise RemoteError(f"no local actor {uri}")
    try:
        ap = await fetch_actor(fed.fetcher, uri)
        async with fed.db.sessions.begin() as session:
            return await upsert_remote_actor(session, ap, fed.clock.now())
    except ActorError as exc:
        raise RemoteError(str(exc)) from exc


async def fetch_post(fed: Federation, uri: str) -> APObject:
    """A post fetched from its own origin (the document must live where we fetched it)."""
    try:
        final_url, document = await fed.fetcher.get_json(uri)
    except FetchHTTPError as exc:
        raise (NotAPost if exc.status in NOT_FOR_US else RemoteError)(f"cannot fetch {uri}: {exc}") from exc
    except FetchError as exc:
        raise RemoteError(f"cannot fetch {uri}: {exc}") from exc
    try:
        post = ap_to_object(document)
    except VocabError as exc:
        raise NotAPost(f"{uri} is not a post we can read: {exc}") from exc
    if authority(post.id) != authority(final_url) or authority(post.attributed_to) != authority(post.id):
        raise RemoteError(f"{uri} served a post that does not belong to its host: {post.id}")
    return post


async def ensure_stored(fed: Federation, uri: str, *, ancestors: int = 0) -> PostLink | None:
    """The post at `uri` (as far as a walk up its thread needs it), fetched and stored if
    missing, plus up to `ancestors` missing posts up its reply chain. None for an unreachable
    ancestor beyond the first. Read on `Database.read`: a handler's prefetch calls it for every
    reply, boost and quote, and loading the whole rows through the writer's connection cost more
    than the rest of the prefetch."""
    chain_uri: str | None = uri
    first: PostLink | None = None
    stored: list[PostLink] = []  # the next posts up the thread, as far as they were stored
    for depth in range(ancestors + 1):
        if chain_uri is None:
            break
        if not stored:
            stored = await fed.db.read(lambda session: stored_thread_links(session, chain_uri, ancestors + 1 - depth))
        link = stored.pop(0) if stored else None
        if link is None:
            if chain_uri.startswith(fed.urls.base + "/"):
                break
            try:
                post = await fetch_post(fed, chain_uri)
                author = await resolve_actor(fed, post.attributed_to)
            except RemoteError:
                if depth == 0:
                    raise
                break
            try:
                async with fed.db.sessions.begin() as session:
                    row, _ = await store_remote_post(session, post, author, fed.clock.now(), fed.settings,
                                                     by_fetch=True)
            except PostRefused as exc:
                if depth == 0:
                    raise NotAPost(str(exc)) from exc
                break
            link = await _stored_link(fed, row, author)
            if link is None:
                break
        first = first or link
        chain_uri = link.in_reply_to_uri
    return first


async def _stored_link(fed: Federation, row: Object, author: Actor) -> PostLink | None:
    """The link for a post just stored: from its row, unless another writer had stored it first
    with another author (then as read back; None if it has gone since)."""
    if row.actor_id == author.id:
        return PostLink(row.id, row.uri, row.in_reply_to_uri, row.local, author.uri)
    found = await fed.db.read(lambda session: stored_thread_links(session, row.uri, 1))
    return found[0] if found else None


async def ensure_post(fed: Federation, uri: str) -> Object | None:
    """The whole row for the post at `uri` (`ensure_stored`), for a caller that shows it."""
    link = await ensure_stored(fed, uri)
    if link is None:
        return None
    async with fed.db.sessions() as session:
        return await post_by_id(session, link.id)


async def resolve_account(fed: Federation, acct: str) -> Actor:
    """`user@host` (or `@user@host`, `acct:user@host`): WebFinger, then the actor fetch. A local
    account is looked up without touching the network."""
    name = acct.strip().removeprefix("acct:").lstrip("@")
    user, _, host = name.rpartition("@")
    if host.lower() == fed.urls.authority:
        async with fed.db.sessions() as session:
            actor = await actor_queries.local_actor_by_username(session, user)
        if actor is None:
            raise RemoteError(f"no local account {name}")
        return actor
    try:
        uri = await fed.fetcher.webfinger(name)
    except FetchError as exc:
        raise RemoteError(f"cannot resolve {name}: {exc}") from exc
    return await resolve_actor(fed, uri)
