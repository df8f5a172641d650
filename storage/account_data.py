"""A practitioner's own data, for her settings pages: the apps holding her tokens, and what she
can export (her activities, her follows both ways, her bookmarks)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.models import Activity, Actor, Bookmark, Follow, FollowState, OAuthApp, OAuthToken, Object


async def authorised_apps(session: AsyncSession, account_id: int) -> list[tuple[OAuthApp, int, datetime, datetime | None]]:
    """The apps holding live tokens of the account: (app, tokens, first granted, last used),
    most recently granted first."""
    rows = await session.execute(
        select(OAuthApp, func.count(OAuthToken.id), func.min(OAuthToken.created_at), func.max(OAuthToken.last_used_at))
        .join(OAuthToken, OAuthToken.app_id == OAuthApp.id)
        .where(OAuthToken.account_id == account_id, OAuthToken.revoked_at.is_(None))
        .group_by(OAuthApp.id)
        .order_by(func.max(OAuthToken.created_at).desc()))
    return [(row[0], row[1], row[2], row[3]) for row in rows]


async def revoke_app_tokens(session: AsyncSession, account_id: int, app_id: int, at: datetime) -> int:
    """Revoke the account's live tokens held by one app; how many there were."""
    result = await session.execute(update(OAuthToken).where(
        OAuthToken.account_id == account_id, OAuthToken.app_id == app_id, OAuthToken.revoked_at.is_(None),
    ).values(revoked_at=at))
    return result.rowcount


async def own_activities(session: AsyncSession, actor_id: int) -> list[dict[str, Any]]:
    """Every Create and Announce the local actor sent (whatever their audience) whose object
    still exists, oldest first, as sent."""
    rows = await session.scalars(
        select(Activity.raw).outerjoin(Object, Activity.object_id == Object.id).where(
            Activity.actor_id == actor_id, Activity.local.is_(True), Activity.type.in_(("Create", "Announce")),
            or_(Activity.object_id.is_(None), and_(Object.id.is_not(None), Object.deleted_at.is_(None))),
        ).order_by(Activity.id))
    return list(rows)


async def follow_addresses(session: AsyncSession, actor_id: int, *, followers: bool) -> list[tuple[str, str]]:
    """(username, domain) of the accounts the actor follows (or, `followers`, that follow it),
    accepted follows only, in the order they began."""
    other = aliased(Actor)
    mine, theirs = (Follow.followee_id, Follow.follower_id) if followers else (Follow.follower_id, Follow.followee_id)
    rows = await session.execute(
        select(other.username, other.domain).select_from(Follow).join(other, theirs == other.id)
        .where(mine == actor_id, Follow.state == FollowState.accepted).order_by(Follow.id))
    return [(row[0], row[1]) for row in rows]


async def bookmarked_uris(session: AsyncSession, actor_id: int) -> list[str]:
    """The ids of the posts the actor bookmarked, oldest bookmark first."""
    return list(await session.scalars(
        select(Object.uri).join(Bookmark, Bookmark.object_id == Object.id)
        .where(Bookmark.actor_id == actor_id).order_by(Bookmark.id)))
