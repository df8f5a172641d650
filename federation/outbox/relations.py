"""Local actions between actors become activities: follow and unfollow, answer a follow
request, remove a follower, tell followers of a changed profile, block and unblock (the client API, the pages and
the communities call these).

As in `actions`: each function takes the caller's session and never commits; it writes the rows,
the activity and its delivery rows, so the whole action commits or nothing does.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from federation.outbox import sending
from federation.outbox.actions import OutboxError
from federation.protocol.vocab.render import (
    accept_to_ap,
    actor_update_to_ap,
    block_to_ap,
    follow_to_ap,
    reject_to_ap,
    undo_block_to_ap,
    undo_follow_to_ap,
)
from federation.runtime.context import Federation
from federation.social import emojis, feeds
from federation.social.follows import follow_between, request_follow, upsert_follow
from storage.accounts_api import block_between, blocked_either_way
from storage.actors import actor_by_id
from storage.interactions import add_block, remove_block
from storage.models import Actor, Follow, FollowState
from storage.states import FOLLOWS


async def follow(fed: Federation, session: AsyncSession, follower: Actor, target: Actor) -> Follow:
    """`follower` follows `target` (asks to); OutboxError for oneself, or across a block either way."""
    if follower.id == target.id:
        raise OutboxError("you cannot follow yourself")
    if await blocked_either_way(session, follower.id, target.id):
        raise OutboxError("a block stands between them")
    existing = await follow_between(session, follower, target)
    if existing is not None and existing.state in (FollowState.pending, FollowState.accepted):
        return existing
    uri = sending.activity_uri(follower, "Follow")
    if target.local:
        return await request_follow(session, follower, target, uri, fed.clock.now())
    row = await upsert_follow(session, follower, target, uri, FollowState.pending, fed.clock.now())
    await sending.send(fed, session, follower, follow_to_ap(uri, follower, target), [target])
    return row


async def unfollow(fed: Federation, session: AsyncSession, follower: Actor, target: Actor) -> None:
    existing = await follow_between(session, follower, target)
    if existing is None or existing.state not in (FollowState.pending, FollowState.accepted):
        return
    FOLLOWS.move(existing, FollowState.undone, fed.clock.now())
    await feeds.remove_author(session, follower, target)
    if not target.local:
        undo = undo_follow_to_ap(sending.activity_uri(follower, "Undo"), existing.uri, follower, target)
        await sending.send(fed, session, follower, undo, [target])


async def answer_follow(fed: Federation, session: AsyncSession, row: Follow, *, accept: bool) -> None:
    """Accept or reject a follow made to a local actor: a request, or an accepted follow (its
    follower removed: `remove_follower`); answering an accepted follow again re-sends the Accept,
    which peers that retried their Follow expect."""
    answer = FollowState.accepted if accept else FollowState.rejected
    if not FOLLOWS.allows(row.state, answer):
        return
    FOLLOWS.move(row, answer, fed.clock.now())
    followee = await actor_by_id(session, row.followee_id)
    follower = await actor_by_id(session, row.follower_id)
    if follower is not None and followee is not None:
        if accept:
            await feeds.backfill(session, follower, followee)
        else:
            await feeds.remove_author(session, follower, followee)
    if follower is None or followee is None or follower.local:
        return
    answer_to_ap = accept_to_ap if accept else reject_to_ap
    document = answer_to_ap(sending.activity_uri(followee, "Accept" if accept else "Reject"), row.uri, follower, followee)
    await sending.send(fed, session, followee, document, [follower])


async def remove_follower(fed: Federation, session: AsyncSession, actor: Actor, follower: Actor) -> None:
    """`follower` no longer follows `actor`, who rejects the follow (a Reject to a peer's server)."""
    row = await follow_between(session, follower, actor)
    if row is not None and row.state is FollowState.accepted:
        await answer_follow(fed, session, row, accept=False)


async def update_profile(fed: Federation, session: AsyncSession, actor: Actor) -> None:
    """Tell followers' servers that a local actor's profile changed (Update of the actor)."""
    actor.updated = fed.clock.now()
    tags = await emojis.actor_tags(session, actor, fed.urls)
    update = actor_update_to_ap(sending.activity_uri(actor, "Update"), actor, tags)
    await sending.send(fed, session, actor, update, [], followers_of=actor)


async def block(fed: Federation, session: AsyncSession, actor: Actor, target: Actor) -> None:
    """Block `target`: follows end both ways, and a remote target's server is told (Block)."""
    if actor.id == target.id:
        raise OutboxError("you cannot block yourself")
    await unfollow(fed, session, actor, target)
    await feeds.remove_author(session, target, actor)
    theirs = await follow_between(session, target, actor)
    if theirs is not None and theirs.state in (FollowState.pending, FollowState.accepted):
        await answer_follow(fed, session, theirs, accept=False)
    if await block_between(session, actor.id, target.id):
        return
    uri = sending.activity_uri(actor, "Block")
    add_block(session, actor.id, target.id, uri, fed.clock.now())
    if not target.local:
        await sending.send(fed, session, actor, block_to_ap(uri, actor, target), [target])


async def unblock(fed: Federation, session: AsyncSession, actor: Actor, target: Actor) -> None:
    row = await block_between(session, actor.id, target.id)
    if row is None:
        return
    await remove_block(session, row)
    if not target.local and row.uri:
        undo = undo_block_to_ap(sending.activity_uri(actor, "Undo"), row.uri, actor, target)
        await sending.send(fed, session, actor, undo, [target])
