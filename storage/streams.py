"""Who hears about a post or a boost: the queries behind `federation.social.streams`."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import BigInteger, bindparam, select, union
from sqlalchemy.ext.asyncio import AsyncSession

from storage import core
from storage.coverage import any_limited, limited_author
from storage.models import Actor, Follow, FollowState, Mention

_LIMITED = "limited_authors"  # session.info: (the transaction, {actor id: on a limited peer}) as read in it


def _local_followers(actor_id: int):
    return select(Follow.follower_id).join(Actor, Follow.follower_id == Actor.id).where(
        Follow.followee_id == actor_id, Follow.state == FollowState.accepted, Actor.local.is_(True))


_LOCAL_FOLLOWERS = _local_followers(bindparam("actor_id", type_=BigInteger))  # built once: asked for every post
_ON_LIMITED_PEER = select(any_limited(), limited_author(bindparam("actor_id", type_=BigInteger)))
_LOCAL_FOLLOWERS_OF = (select(Follow.followee_id, Follow.follower_id).join(Actor, Follow.follower_id == Actor.id)
                       .where(Follow.followee_id.in_(bindparam("actor_ids", expanding=True)),
                              Follow.state == FollowState.accepted, Actor.local.is_(True)))
_NONE_LIMITED = None  # the key of the memo's "no peer is limited at all" (no actor is on one)
_MENTIONED_LOCAL = select(Mention.actor_id).join(Actor, Mention.actor_id == Actor.id).where(
    Mention.object_id == bindparam("post_id", type_=BigInteger), Actor.local.is_(True))
# built once, both: asked for every post edited or deleted
_HOMES = {False: _MENTIONED_LOCAL,
          True: union(_MENTIONED_LOCAL, _local_followers(bindparam("author_id", type_=BigInteger)))}


async def local_follower_ids(session: AsyncSession, actor_id: int) -> set[int]:
    """The local actors who follow `actor_id` (accepted)."""
    return set(await core.scalars(session, _LOCAL_FOLLOWERS, {"actor_id": actor_id}))


async def local_followers_of(session: AsyncSession, actor_ids: Collection[int]) -> dict[int, set[int]]:
    """`local_follower_ids` of many actors, in one query: new posts' homes."""
    found: dict[int, set[int]] = {actor_id: set() for actor_id in actor_ids}
    if found:
        for followee, follower in await core.rows(session, _LOCAL_FOLLOWERS_OF, {"actor_ids": sorted(found)}):
            found[followee].add(follower)
    return found


async def home_ids(session: AsyncSession, post_id: int, author_id: int, *, followers: bool) -> set[int]:
    """The local actors a post mentions, and with `followers` its author's local followers too."""
    params = {"post_id": post_id, "author_id": author_id} if followers else {"post_id": post_id}
    return set(await core.scalars(session, _HOMES[followers], params))


async def on_limited_peer(session: AsyncSession, actor_id: int) -> bool:
    """Whether a limited entry covers the actor's peer (storage.coverage, as the public timelines
    ask it): its posts stay out of the public and hashtag streams. Asked once per actor in a
    transaction (the inbox worker's batch asks it for every post): no transaction that posts also
    changes a peer's state (only an admin's decision does). The first answer also says whether
    any peer is limited: while none is (the usual case), no other actor needs a query."""
    transaction = session.sync_session.get_transaction()
    owner, known = session.info.get(_LIMITED, (None, {}))
    if owner is not transaction:
        known = {}
        session.info[_LIMITED] = (transaction, known)
    if known.get(_NONE_LIMITED):
        return False
    if actor_id not in known:
        ((any_peer, this),) = await core.rows(session, _ON_LIMITED_PEER, {"actor_id": actor_id})
        known[_NONE_LIMITED] = not any_peer
        known[actor_id] = bool(this)
    return known[actor_id]
