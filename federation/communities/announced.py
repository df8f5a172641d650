"""What a community on another server announces besides posts: an activity of one of its threads,
embedded (FEP-1b12). The group speaks only for its own threads: it cannot touch a post it never
announced here.

- Delete (its author deleted a post, or a moderator removed it): the post leaves that community's
  threads here, and a copy of another server's post goes (`threads.leave_community`) when it
  came for the community: that server is the community's own, or the post names the community
  (`names_group`), or the post's own server no longer serves it (asked in `prefetch`). A
  community does not speak for any other post of a third server, which it can boost as anyone
  can: the copy stays, out of its threads.
- Update (an edit): the post is fetched again from its origin (`prefetch`), never taken from the
  announced copy, and the edit applied as the author's own Update would be.
- Like (a member elsewhere favourited a post of the thread): counted here as that member's, once,
  the member's actor fetched from its origin first (`prefetch`); of a post of ours, only a like
  by a user of the community's own server (anyone else's reaches us first-hand).
- Add to / Remove from its featured collection (a moderator pinned or unpinned a thread): so it
  is here (`remote_moderators.mark_pinned`), whichever thread of it the post is.
- Anything else changes nothing here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from federation.communities.remote_moderators import mark_pinned
from federation.communities.threads import leave_community
from federation.protocol.fetch import FetchError, FetchHTTPError
from federation.protocol.urls import authority
from federation.remote.limits import PostRefused
from federation.remote.resolve import RemoteError, fetch_post, resolve_actor
from federation.social.interactions import add_like
from federation.runtime.context import Federation
from federation.social.posts import apply_remote_edit
from federation.social.streams import record_post
from federation.protocol.vocab.parse import APActivity, APObject
from storage import communities as queries
from storage.actors import actor_by_id, actor_by_uri
from storage.models import Actor, ActorType, Object
from storage.posts import post_by_uri


@dataclass(frozen=True)
class Gone:
    """The post's own server says it is gone (404, 410, or a Tombstone in its place)."""

    uri: str


def names_group(item: Object, group_uri: str) -> bool:
    """Whether the post, as its origin served it, is addressed to the community (to, cc,
    `audience` or a mention): then it came for the community, which speaks for it here."""
    raw = item.raw or {}
    named: list = []
    for key in ("to", "cc", "audience"):
        value = raw.get(key)
        named += value if isinstance(value, list) else [value]
    tags = raw.get("tag")
    named += [tag.get("href") for tag in (tags if isinstance(tags, list) else [tags]) if isinstance(tag, dict)]
    return group_uri in named


async def _gone_from_origin(fed: Federation, uri: str) -> Gone | None:
    try:
        _, document = await fed.fetcher.get_json(uri)
    except FetchHTTPError as exc:
        return Gone(uri) if exc.status in (404, 410) else None
    except FetchError:
        return None
    return Gone(uri) if document.get("type") == "Tombstone" else None


async def prefetch(fed: Federation, group_uri: str, inner: APActivity) -> APObject | Gone | None:
    """For an announced Update: the post as its origin serves it now; for a Like: its actor,
    stored (None if it cannot be had); for a Delete of a post on a third server (neither ours
    nor the community's): whether that server says it is gone."""
    if inner.type == "Delete" and inner.object_id and not inner.object_id.startswith(fed.urls.base + "/") \
            and authority(inner.object_id) != authority(group_uri):
        return await _gone_from_origin(fed, inner.object_id)
    try:
        if inner.type == "Update" and inner.object_id:
            return await fetch_post(fed, inner.object_id)
        if inner.type == "Like":
            await resolve_actor(fed, inner.actor)
    except RemoteError:
        return None
    return None


async def apply(fed: Federation, session: AsyncSession, group: Actor, inner: APActivity,
                fetched: APObject | Gone | None, now: datetime) -> str | None:
    """Apply an activity `group` announced; None if done, else why nothing changed."""
    if group.type is not ActorType.Group:
        return f"{group.uri} is not a community; it announces posts only"
    if inner.type not in ("Delete", "Update", "Like", "Add", "Remove"):
        return f"a community's announced {inner.type} changes nothing here"
    item = await post_by_uri(session, inner.object_id) if inner.object_id else None
    if item is None or item.deleted_at is not None:
        return f"unknown post {inner.object_id}"
    if inner.type in ("Add", "Remove"):
        if group.featured_url is None or inner.target != group.featured_url:
            return f"{inner.type} to {inner.target}, not {group.uri}'s featured collection"
        return await mark_pinned(session, group, item, pinned=inner.type == "Add", now=now)
    if inner.type == "Delete":
        keep = not (authority(item.uri) == authority(group.uri) or names_group(item, group.uri)
                    or isinstance(fetched, Gone) and fetched.uri == item.uri)
        if not await leave_community(session, group, item, now, keep_copy=keep):
            return f"{item.uri} is not in the threads of {group.uri}"
        return None
    if group.id not in [g.id for g in await queries.groups_announcing(session, item.id)]:
        return f"{item.uri} is not in the threads of {group.uri}"
    if inner.type == "Like":
        return await _like(session, group, item, inner, now)
    if item.local or not isinstance(fetched, APObject) or fetched.id != item.uri:
        return f"no fresh copy of {inner.object_id} from its origin"
    try:
        if not await apply_remote_edit(session, item, fetched, now, fed.settings):
            return "the update changes nothing"
    except PostRefused as exc:
        return f"edit refused: {exc}"
    author = await actor_by_id(session, item.actor_id)
    if author is not None:
        await record_post(session, item, author, "status.update")
    return None


async def _like(session: AsyncSession, group: Actor, item: Object, inner: APActivity, now: datetime) -> str | None:
    """A like the community relays. Of a post of ours, only one by a user of the community's own
    server, which speaks for its users: anyone else's server sends it to us first-hand (the
    author's), and the community's word alone would let it forge a like, and its notification,
    in the name of a third server's user."""
    liker = await actor_by_uri(session, inner.actor)
    if liker is None or liker.local:
        return f"the liker {inner.actor} is unknown here, or ours (whose likes we know first-hand)"
    if item.local and authority(liker.uri) != authority(group.uri):
        return f"a like of a post of ours by {inner.actor} comes first-hand from its server, not from {group.uri}"
    if await add_like(session, liker, item, inner.id, now) is None:
        return f"{inner.actor} already likes {item.uri}"
    return None
