"""The relay: a member's post to a community is announced by the community to all its members.

A post is for a community hosted here when it names the Group as a recipient (to, cc, `audience`
or a mention), or when it answers a post the community already announced (a reply stays in its
thread). The community announces it when its author may post there: a member (or a moderator),
and a moderator when only moderators post. Posts that are not public or unlisted are never
announced. What happens to a post of a thread later is `threads`' part.

How it is announced, decided from FEP-1b12 and Lemmy's documented behaviour:

- FEP-1b12 says a group MUST wrap the activity it relays, unchanged: Announce{Create{Note}}.
  Group servers (Rounds, Lemmy, PieFed) read that, and each fetches the post inside from its
  origin, so a forged post cannot travel under the community's name. Every post goes so.
- Mastodon-compatible servers do not read an announced Create; they read a boost of a post,
  Announce{Note}. Lemmy sends that besides, for a thread's first post only, so that a Mastodon
  user following a community sees its new threads boosted and not every reply (Lemmy PRs
  1914 and issue 2224). So do we: a thread's first post is also boosted (`outbox.actions.boost`,
  the boost path); a reply is only ever wrapped. A Rounds member's server, which gets both for a
  first post, counts the second as the same boost.

Both name the thread's context (FEP-7888, `contexts`), so a member's server can backfill it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from typing import Any

from federation.articles import alerts
from federation.articles.rules import awaits_approval
from federation.communities.contexts import thread_context
from federation.outbox import actions, sending
from federation.protocol.vocab.community import group_announce_to_ap
from federation.runtime.context import Federation
from federation.social.feeds import add_boost_to_homes
from federation.social.interactions import add_announce
from storage import communities as queries
from storage.actors import actor_by_id
from storage.articles import article_of_post
from storage.interactions import has_mark
from storage.local_activities import activity_by_uri
from storage.models import Actor, ActorType, Announce, Community, Object, PostingPolicy, Visibility

log = logging.getLogger(__name__)


async def may_post(session: AsyncSession, community: Community, group: Actor, author: Actor) -> bool:
    """Whether `author` may post to the community: the posting rule, in one place. A banned member
    is no member (the ban rejected the follow, and a new one is rejected too). No one elsewhere
    posts to an institution-only community, whatever they were before it became one."""
    if community.local_only and not author.local:
        return False
    if await queries.is_moderator(session, group.id, author.id):
        return True
    if community.posting is PostingPolicy.moderators:
        return False
    return await queries.is_member(session, group.id, author.id)


def _here(fed: Federation, addressed: Iterable[str], known: Iterable[Actor]) -> list[str]:
    """The recipients that may be communities hosted here: no query for a post to no one here,
    nor for one to actors known not to be groups (communities are)."""
    people = {actor.uri for actor in known if actor.type is not ActorType.Group}
    return [uri for uri in addressed if uri.startswith(fed.urls.base + "/") and uri not in people]


async def _communities(fed: Federation, session: AsyncSession, item: Object, addressed: Iterable[str],
                       known: Iterable[Actor]) -> list[tuple[Community, Actor]]:
    here = _here(fed, addressed, known)
    found = await queries.local_groups_by_uris(session, here) if here else []
    if not found and item.in_reply_to_uri:
        thread = await queries.community_of_thread(session, item.in_reply_to_uri)
        if thread is not None:
            found = [thread]
    return found


def _announceable(item: Object) -> bool:
    return item.visibility in (Visibility.public, Visibility.unlisted) and item.deleted_at is None


async def for_communities(fed: Federation, session: AsyncSession,
                          posts: list[tuple[Object, Iterable[str], Iterable[Actor]]]) -> list[bool]:
    """For each new post, (post, its recipients, the actors it mentions), whether it may be for a
    community hosted here (`relay` has something to look at): one query for the replies of all
    of them; the others need none."""
    replies = [item.in_reply_to_uri for item, _, _ in posts if item.in_reply_to_uri and _announceable(item)]
    threads = await queries.in_community_threads(session, replies) if replies else set()
    return [_announceable(item) and (bool(_here(fed, addressed, known)) or item.in_reply_to_uri in threads)
            for item, addressed, known in posts]


async def relay(fed: Federation, session: AsyncSession, item: Object, author: Actor, addressed: Iterable[str],
                create: dict[str, Any] | None, *, known: Iterable[Actor] = ()) -> list[Actor]:
    """Announce a newly stored post (`create`: the Create it came in, or was sent in) to each
    community hosted here that it is for and whose rules let its author post; the communities
    that announced it. `known`: actors the caller loaded (the post's mentions), whose type
    spares looking them up among the communities."""
    if not _announceable(item):
        return []
    announced = []
    for community, group in await _communities(fed, session, item, addressed, known):
        if group.id == author.id or not await may_post(session, community, group, author):
            log.info("%s: %s may not post to %s; not announced", item.uri, author.uri, group.uri)
            continue
        if await awaits_approval(session, community, item):  # an article its moderators have not validated
            log.info("%s: an article awaiting approval in %s; not announced", item.uri, group.uri)
            article = await article_of_post(session, item.id)
            if article is not None and article.community_id == group.id and article.validated_by_id is None:
                await alerts.review_wanted(session, article, author, item, fed.clock.now())  # as it arrives
            continue
        if not await has_mark(session, Announce, group.id, item.id):
            await _announce(fed, session, group, item, create)
        announced.append(group)
    return announced


async def relay_ours(fed: Federation, session: AsyncSession, item: Object, author: Actor,
                     addressed: Iterable[str]) -> list[Actor]:
    """`relay` for a post of ours, with the Create it was sent in (none for a peer's post: then
    the community boosts it)."""
    create = await activity_by_uri(session, fed.urls.status_activity(author.username, item.id)) if author.local else None
    return await relay(fed, session, item, author, addressed, create.raw if create is not None else None)


async def _announce(fed: Federation, session: AsyncSession, group: Actor, item: Object,
                    create: dict[str, Any] | None) -> None:
    context = await thread_context(session, group, item)
    first = item.in_reply_to_uri is None
    if first or create is None:  # a thread's first post, boosted as Mastodon reads it
        await actions.boost(fed, session, group, item, context=context)
    if create is None:
        return
    uri = sending.activity_uri(group, "Announce")
    if not first:  # the reply counts among the community's threads, as the first post's boost does
        row = await add_announce(session, group, item, uri, fed.clock.now(), public=True)
        if row is None:  # announced already (by another worker, a moment ago)
            return
        await add_boost_to_homes(session, group, row.id)
    document = group_announce_to_ap(uri, group, create, fed.clock.now(), context=context)
    activity = await sending.record(fed, session, group, document, object_id=item.id)
    author = await actor_by_id(session, item.actor_id)
    await sending.deliver(fed, session, activity, group, [author] if author is not None else [],
                          followers_of=group, about=item)

