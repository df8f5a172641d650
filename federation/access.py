"""Who may read a post. Public and unlisted posts: anyone the policy lets in. Followers-only:
the author, the mentioned, and accepted followers. Direct: the author and the mentioned."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Actor, Follow, FollowState, Mention, Object, Visibility


async def can_see(session: AsyncSession, post: Object, viewer: Actor | None) -> bool:
    if post.deleted_at is not None:
        return False
    if post.visibility in (Visibility.public, Visibility.unlisted):
        return True
    if viewer is None:
        return False
    if viewer.id == post.actor_id:
        return True
    mentioned = await session.scalar(
        select(Mention.id).where(Mention.object_id == post.id, Mention.actor_id == viewer.id)
    )
    if mentioned is not None:
        return True
    if post.visibility is Visibility.private:
        following = await session.scalar(
            select(Follow.id).where(Follow.follower_id == viewer.id, Follow.followee_id == post.actor_id,
                                    Follow.state == FollowState.accepted)
        )
        return following is not None
    return False
