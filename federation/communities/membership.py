"""Who may join a community, decided when the join (a Follow of its Group) is asked, whoever asks:
`federation.social.follows.request_follow` asks here for every follow of a local actor, so a
peer's Follow and a local user's follow through the client API get the same answer.

- banned, or a peer asking to join an institution-only community: rejected;
- invite-only: rejected (a moderator adds members; asking is not enough);
- approval: pending, and every local moderator is notified (`join_request`);
- open: accepted.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from federation.social.notifications import notify
from storage import communities as queries
from storage.models import Actor, ActorType, Community, FollowState, JoinPolicy, NotificationType


async def hosted(session: AsyncSession, actor: Actor) -> Community | None:
    """The policy of `actor` if it is a community hosted here, else None (a person: no query)."""
    if not actor.local or actor.type is not ActorType.Group:
        return None
    return await queries.community_of(session, actor.id)


def join_answer(community: Community, follower: Actor, *, banned: bool) -> FollowState:
    """The state a request to join `community` starts in."""
    if banned or (community.local_only and not follower.local):
        return FollowState.rejected
    match community.join_policy:
        case JoinPolicy.open:
            return FollowState.accepted
        case JoinPolicy.approval:
            return FollowState.pending
        case JoinPolicy.invite:
            return FollowState.rejected


async def join_state(session: AsyncSession, follower: Actor, group: Actor) -> FollowState | None:
    """The state a follow of `group` starts in if it is a community hosted here; None otherwise."""
    community = await hosted(session, group)
    if community is None:
        return None
    return join_answer(community, follower, banned=await queries.is_banned(session, group.id, follower.id))


async def notify_moderators(session: AsyncSession, group: Actor, follower: Actor, now: datetime) -> None:
    """Tell each local moderator that `follower` asks to join."""
    for moderator in await queries.moderators(session, group.id):
        if moderator.local:  # one elsewhere (FEP-1b12 allows it) is not notified from here
            await notify(session, moderator, NotificationType.join_request, follower, None, now)
