"""Alerts: a practitioner who follows a tag, or belongs to a community, may ask to hear of each
new article there, as Mastodon's `status` notification (the one a followed account's new post
raises when one asked to be notified), so any app shows it.

A new article is one that becomes visible here for the first time: a local article when it is
published (after its review, if its community has one), a peer's when it is first stored.
Each practitioner is told once, whatever brought it (several tags, a tag and a community), and
only of what she may read. The moderators of a community that reviews articles hear of each
article that awaits their review (`review_wanted`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from federation.social.access import can_see
from federation.social import tags
from federation.social.notifications import notify
from storage import articles as queries
from storage import communities as community_queries
from storage.models import Actor, ActorType, Article, NotificationType, Object


async def new_article(session: AsyncSession, item: Object, author: Actor, tags: Iterable[str],
                      group_ids: Iterable[int], now: datetime) -> int:
    """Notify whoever asked to hear of a new article with these tags or in these communities;
    how many were notified."""
    told = 0
    for actor in await queries.alert_recipients(session, [t.lower() for t in tags], group_ids):
        if actor.id == author.id or not await can_see(session, item, actor):
            continue
        await notify(session, actor, NotificationType.status, author, item, now)
        told += 1
    return told


async def review_wanted(session: AsyncSession, article: Article, author: Actor, item: Object | None,
                        now: datetime) -> int:
    """Tell the moderators here of the article's community that it awaits their review (its
    author submitted it, or a peer's article arrived in a community that reviews articles, from
    an author its rules let post: `communities.relay`), as `article_review`, about its post if it
    has one; each only of what she may read (a post for its author's followers, say, she cannot
    review either); how many were told."""
    told = 0
    for moderator in await community_queries.moderators(session, article.community_id):
        if not moderator.local or moderator.id == author.id:  # one elsewhere reviews nothing here
            continue
        if item is None or await can_see(session, item, moderator):
            await notify(session, moderator, NotificationType.article_review, author, item, now)
            told += 1
    return told


class AlertError(Exception):
    """The alert cannot be set; one line for the practitioner. Nothing was written."""


async def alert_tag(session: AsyncSession, actor: Actor, raw: str, on: bool) -> str:
    """Turn on (following the tag if she does not yet) or off (still following it) the alert of
    a tag; its name."""
    try:
        name = tags.valid_name(raw)
    except tags.TagError as exc:
        raise AlertError(str(exc)) from exc
    if on:
        await tags.follow(session, actor, name)
    await queries.set_tag_alert(session, actor.id, name, on)
    return name


async def alert_community(session: AsyncSession, actor: Actor, group: Actor, on: bool) -> None:
    """Turn on or off the alert of a community she belongs to (AlertError if she does not)."""
    if group.type is not ActorType.Group:
        raise AlertError(f"{group.username} is not a community")
    if not await queries.set_membership_alert(session, actor.id, group.id, on) and on:
        raise AlertError(f"you are not a member of {group.username}: join it first")
