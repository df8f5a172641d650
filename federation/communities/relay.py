"""The relay: a member's post to a community is announced by the community to all its members.

A post is for a community hosted here when it names the Group as a recipient (to, cc, `audience`
or a mention), or when it answers a post the community already announced (a reply stays in its
thread). The community announces it when its author may post there: a member (or a moderator),
and a moderator when only moderators post. The Announce is the same one a boost
is (`outbox.actions.boost`): to the Group's followers, that is its members, on every server,
and to the author; each server fetches the post itself from its origin, as it does for any boost,
so a forged post cannot travel under the community's name. Posts that are not public or
unlisted are never announced. What happens to a post of a thread later is `threads`' part.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from federation.articles.rules import awaits_approval
from federation.outbox import actions
from federation.runtime.context import Federation
from storage import communities as queries
from storage.interactions import mark_of
from storage.models import Actor, Announce, Community, Object, PostingPolicy, Visibility

log = logging.getLogger(__name__)


async def may_post(session: AsyncSession, community: Community, group: Actor, author: Actor) -> bool:
    """Whether `author` may post to the community: the posting rule, in one place. A banned member
    is no member (the ban rejected the follow, and a new one is rejected too)."""
    if await queries.is_moderator(session, group.id, author.id):
        return True
    if community.posting is PostingPolicy.moderators:
        return False
    return await queries.is_member(session, group.id, author.id)


async def _communities(fed: Federation, session: AsyncSession, item: Object, addressed: Iterable[str]
                       ) -> list[tuple[Community, Actor]]:
    here = [uri for uri in addressed if uri.startswith(fed.urls.base + "/")]  # no query for a post to no one here
    found = await queries.local_groups_by_uris(session, here) if here else []
    if not found and item.in_reply_to_uri:
        thread = await queries.community_of_thread(session, item.in_reply_to_uri)
        if thread is not None:
            found = [thread]
    return found


async def relay(fed: Federation, session: AsyncSession, item: Object, author: Actor, addressed: Iterable[str]) -> list[Actor]:
    """Announce a newly stored post to each community hosted here that it is for and whose rules
    let its author post; the communities that announced it."""
    if item.visibility not in (Visibility.public, Visibility.unlisted) or item.deleted_at is not None:
        return []
    announced = []
    for community, group in await _communities(fed, session, item, addressed):
        if group.id == author.id or not await may_post(session, community, group, author):
            log.info("%s: %s may not post to %s; not announced", item.uri, author.uri, group.uri)
            continue
        if await awaits_approval(session, community, item):  # an article its moderators have not validated
            log.info("%s: an article awaiting approval in %s; not announced", item.uri, group.uri)
            continue
        if await mark_of(session, Announce, group.id, item.id) is None:
            await actions.boost(fed, session, group, item)
        announced.append(group)
    return announced

