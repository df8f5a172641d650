"""What a community's moderators on other servers may do to a community hosted here (FEP-1b12:
moderation activities from an actor in the group's moderators collection), and what a community
elsewhere tells us of its pinned threads.

Hosted here (the moderator is listed among its moderators: `storage.communities.moderators`):

- Delete of a post of one of its threads, naming the community in `audience`: the post leaves
  the community, as a local moderator's removal does (the intake lets such a Delete of another's
  post through only because it names a community here; it is decided here);
- Add to / Remove from its `featured` collection: the thread is pinned or unpinned;
- Block with the community as `target`: the member is banned.

Each is the local moderator's own function (`moderation`), so it is audited the same way, and
the group announces the moderator's activity, as it came, to its members. Anyone else's is
refused, one line saying why.

Elsewhere: an Add to / Remove from the featured collection of a community we follow, sent by
the community itself or announced by it, pins or unpins the thread here (its members here are
told of a new pin). Its server decided who may; its signature is the proof.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from federation.communities import moderation
from federation.communities.groups import CommunityError
from federation.protocol.vocab.parse import APActivity
from federation.runtime.context import Federation
from federation.social.notifications import notify
from storage import communities as queries
from storage import community_threads as thread_queries
from storage.actors import actor_by_uri
from storage.interactions import add_pin, mark_of, remove_mark
from storage.models import Actor, ActorType, NotificationType, Object, Pin
from storage.posts import post_by_uri


async def _community_here(session: AsyncSession, fed: Federation, uris: tuple[str, ...] | list[str]) -> Actor | None:
    here = [uri for uri in uris if uri and uri.startswith(fed.urls.base + "/")]
    found = await queries.local_groups_by_uris(session, here) if here else []
    return found[0][1] if found else None


async def remove_post(fed: Federation, session: AsyncSession, moderator: Actor, item: Object,
                      activity: APActivity) -> str | None:
    """A Delete of another's post: a removal by a moderator of the community hosted here that it
    names; None if done, else why not."""
    group = await _community_here(session, fed, activity.groups)
    if group is None:
        return "it is not their post, and the Delete names no community here"
    try:
        await moderation.remove_post(fed, session, group, item, moderator, received=activity.raw)
    except CommunityError as exc:
        return str(exc)
    return None


async def ban(fed: Federation, session: AsyncSession, moderator: Actor, activity: APActivity) -> str | None:
    """A Block whose target is a community hosted here: its moderator bans the member."""
    group = await _community_here(session, fed, [activity.target or ""])
    if group is None:
        return "not a ban from a community here"
    member = await actor_by_uri(session, activity.object_id) if activity.object_id else None
    if member is None:
        return f"unknown member {activity.object_id}"
    try:
        await moderation.remove_member(fed, session, group, member, moderator, ban=True, received=activity.raw)
    except CommunityError as exc:
        return str(exc)
    return None


async def change_featured(fed: Federation, session: AsyncSession, actor: Actor, activity: APActivity, *,
                          pinned: bool, now: datetime) -> str | None:
    """An Add to (or Remove from) a community's featured collection, sent by `actor`: a
    moderator's pin of a community hosted here, or a community elsewhere telling of its pin.
    None if done, else why nothing changed."""
    group = await thread_queries.group_by_featured(session, activity.target) if activity.target else None
    if group is None:
        return f"{activity.target} is not a community's featured collection"
    item = await post_by_uri(session, activity.object_id) if activity.object_id else None
    if item is None or item.deleted_at is not None:
        return f"unknown post {activity.object_id}"
    if group.local:
        try:
            if not await moderation.pin(fed, session, group, item, actor, pinned=pinned, received=activity.raw):
                return "already so"
        except CommunityError as exc:
            return str(exc)
        return None
    if actor.id != group.id:
        return f"only {group.uri} itself tells of its pinned threads"
    return await mark_pinned(session, group, item, pinned=pinned, now=now)


async def mark_pinned(session: AsyncSession, group: Actor, item: Object, *, pinned: bool,
                      now: datetime) -> str | None:
    """A community elsewhere pinned (or unpinned) a thread: so it is here, and its members here
    hear of a new pin. It pins only a post of its threads here (one it announced): any other,
    a private post of ours among them, it does not speak for."""
    if group.type is not ActorType.Group or group.local:
        return f"{group.uri} is not a community elsewhere"
    if pinned and not await thread_queries.is_announced_by(session, group.id, item.id):
        return f"{item.uri} is not in the threads of {group.uri}"
    existing = await mark_of(session, Pin, group.id, item.id)
    if (existing is not None) == pinned:
        return "already so"
    if not pinned:
        await remove_mark(session, existing)
        return None
    await add_pin(session, group.id, item.id)
    for member in await queries.local_members(session, group.id):
        await notify(session, member, NotificationType.status, group, item, now)
    return None
