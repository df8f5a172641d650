"""What a community on another server announces besides posts: an activity of one of its threads,
embedded (FEP-1b12). The group speaks only for its own threads: it cannot touch a post it never
announced here.

- Delete (its author deleted a post, or a moderator removed it): the post leaves that community's
  threads here, and a copy of another server's post goes (`threads.leave_community`).
- Update (an edit): the post is fetched again from its origin (`prefetch`), never taken from the
  announced copy, and the edit applied as the author's own Update would be.
- Like (a member elsewhere favourited a post of the thread): counted here as that member's, once,
  the member's actor fetched from its origin first (`prefetch`).
- Add to / Remove from its featured collection (a moderator pinned or unpinned a thread): so it
  is here (`remote_moderators.mark_pinned`), whichever thread of it the post is.
- Anything else changes nothing here.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from federation.communities.remote_moderators import mark_pinned
from federation.communities.threads import leave_community
from federation.remote.limits import PostRefused
from federation.remote.resolve import RemoteError, fetch_post, resolve_actor
from federation.social.interactions import add_like
from federation.runtime.context import Federation
from federation.social.posts import apply_remote_edit
from federation.social.streams import record_post
from federation.protocol.vocab.parse import APActivity, APObject
from storage import communities as queries
from storage.actors import actor_by_id, actor_by_uri
from storage.interactions import mark_of
from storage.models import Actor, ActorType, Like, Object
from storage.posts import post_by_uri


async def prefetch(fed: Federation, inner: APActivity) -> APObject | None:
    """For an announced Update: the post as its origin serves it now; for a Like: its actor,
    stored (None if it cannot be had)."""
    try:
        if inner.type == "Update" and inner.object_id:
            return await fetch_post(fed, inner.object_id)
        if inner.type == "Like":
            await resolve_actor(fed, inner.actor)
    except RemoteError:
        return None
    return None


async def apply(fed: Federation, session: AsyncSession, group: Actor, inner: APActivity, fetched: APObject | None,
                now: datetime) -> str | None:
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
        if not await leave_community(session, group, item, now):
            return f"{item.uri} is not in the threads of {group.uri}"
        return None
    if group.id not in [g.id for g in await queries.groups_announcing(session, item.id)]:
        return f"{item.uri} is not in the threads of {group.uri}"
    if inner.type == "Like":
        return await _like(session, item, inner, now)
    if item.local or fetched is None or fetched.id != item.uri:
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


async def _like(session: AsyncSession, item: Object, inner: APActivity, now: datetime) -> str | None:
    liker = await actor_by_uri(session, inner.actor)
    if liker is None or liker.local:
        return f"the liker {inner.actor} is unknown here, or ours (whose likes we know first-hand)"
    if await mark_of(session, Like, liker.id, item.id) is not None:
        return f"{inner.actor} already likes {item.uri}"
    await add_like(session, liker, item, inner.id, now)
    return None
