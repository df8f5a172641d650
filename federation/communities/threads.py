"""The threads of the communities, after their first post: an edit, a deletion or a like of a post
in a thread is announced by its community hosted here to every member, the activity embedded
(FEP-1b12), whether it came from a peer (the Update, Delete and Like handlers) or was made here
(`outbox.actions`); a reply or a like made here is also sent to the thread's communities
(`thread_groups`); and a post leaves a community when a moderator removes it or its author
deletes it.

Kept apart from `relay` (which announces new posts through `outbox.actions.boost`) so that the
outbox can call it: nothing here imports `outbox.actions`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from federation.outbox import sending
from federation.protocol.vocab.community import group_announce_to_ap
from federation.runtime.context import Federation
from federation.social.streams import record_post
from storage import communities as queries
from storage.actors import actor_by_id
from storage.models import Actor, Object
from storage.posts import tombstone_post


async def thread_groups(session: AsyncSession, parent: Object | None) -> list[Actor]:
    """The communities (here or on peers) whose thread `parent` is in: a reply to it (or a like of
    it) names them as recipients, so each community hears of it and relays it."""
    return [] if parent is None else await queries.groups_announcing(session, parent.id)


async def relay_activity(fed: Federation, session: AsyncSession, item: Object, inner: dict[str, Any], *,
                         groups: list[Actor] | None = None) -> int:
    """Announce `inner` (an edit, deletion or like of `item`, as received or made here) from each
    community hosted here whose thread `item` is in (or from `groups`); how many announced it."""
    if groups is None:
        groups = [group for group in await queries.groups_announcing(session, item.id) if group.local]
    for group in groups:
        uri = sending.activity_uri(group, "Announce")
        document = group_announce_to_ap(uri, group, inner, fed.clock.now())
        activity = await sending.record(fed, session, group, document, object_id=item.id)
        await sending.deliver(fed, session, activity, group, [], followers_of=group)
    return len(groups)


async def announce_moderation(fed: Federation, session: AsyncSession, group: Actor, inner: dict[str, Any]) -> None:
    """Announce a moderator's action on a member (a ban) from a community hosted here to its
    members (FEP-1b12: moderation activities are announced by the group)."""
    document = group_announce_to_ap(sending.activity_uri(group, "Announce"), group, inner, fed.clock.now())
    activity = await sending.record(fed, session, group, document)
    await sending.deliver(fed, session, activity, group, [], followers_of=group)


async def leave_community(session: AsyncSession, group: Actor, item: Object, now: datetime, *,
                          keep_copy: bool = False) -> bool:
    """A post leaves a community's threads (a moderator removed it, or its author deleted it):
    the community's Announce of it goes, and a copy of a post from another server becomes a
    tombstone (it came for the community), unless `keep_copy` (a community elsewhere removed a
    third server's post, which that server still serves). A post of this server stays its
    author's. False if it was not in the community."""
    if not await queries.withdraw_group_announce(session, group.id, item.id):
        return False
    if not item.local and item.deleted_at is None and not keep_copy:
        author = await actor_by_id(session, item.actor_id)
        if author is not None:
            await record_post(session, item, author, "delete")
        await tombstone_post(session, item.id, now)
    return True
