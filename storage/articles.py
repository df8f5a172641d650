"""Articles' queries: the article, its earlier versions, the review queue, what a reader may
browse, and who asked for an alert of a new article (storage.models.articles)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import and_, delete, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Actor, Community, Follow, FollowState, FollowedTag, Object
from storage.models.articles import Article, ArticleState, ArticleVersion, article_snapshot
from storage.search import VIEWER, seen_by


async def add_article(session: AsyncSession, article: Article) -> Article:
    session.add(article)
    await session.flush()
    return article


async def article_by_id(session: AsyncSession, article_id: int) -> Article | None:
    return await session.get(Article, article_id)


async def article_of_post(session: AsyncSession, object_id: int) -> Article | None:
    return await session.scalar(select(Article).where(Article.object_id == object_id))


async def keep_version(session: AsyncSession, article: Article) -> ArticleVersion:
    """Keep the article's current version (call it before the article changes)."""
    row = ArticleVersion(article_id=article.id, **article_snapshot(article))
    session.add(row)
    await session.flush()
    return row


async def versions_of(session: AsyncSession, article_id: int) -> list[ArticleVersion]:
    """The versions an edit replaced, oldest first."""
    return list(await session.scalars(select(ArticleVersion).where(ArticleVersion.article_id == article_id)
                                      .order_by(ArticleVersion.version)))


async def version_of(session: AsyncSession, article_id: int, number: int) -> ArticleVersion | None:
    return await session.scalar(select(ArticleVersion).where(ArticleVersion.article_id == article_id,
                                                             ArticleVersion.version == number))


async def versions_count(session: AsyncSession, article_id: int) -> int:
    """How many versions the article has had, the current one included."""
    kept = await session.scalar(select(func.count()).select_from(ArticleVersion)
                                .where(ArticleVersion.article_id == article_id))
    return int(kept or 0) + 1


async def delete_article(session: AsyncSession, article_id: int) -> None:
    await session.execute(delete(ArticleVersion).where(ArticleVersion.article_id == article_id))
    await session.execute(delete(Article).where(Article.id == article_id))


def _awaiting_review():
    """An article waiting for a moderator of its community: ours in review, and peers' not
    validated yet, their post still there, where the community asks for approval (the rule is
    federation.articles.rules.awaiting_review; the post's visibility is the reader's to check)."""
    return or_(Article.state == ArticleState.in_review,
               and_(Article.local.is_(False), Article.validated_by_id.is_(None),
                    exists().where(Community.actor_id == Article.community_id,
                                   Community.articles_require_approval.is_(True)),
                    exists().where(Object.id == Article.object_id, Object.deleted_at.is_(None))))


async def in_review(session: AsyncSession, community_id: int) -> list[Article]:
    """A community's articles waiting for a moderator, oldest first."""
    return list(await session.scalars(select(Article).where(Article.community_id == community_id, _awaiting_review())
                                      .order_by(Article.id)))


async def awaiting_review(session: AsyncSession, community_ids: list[int] | None, *, limit: int,
                          after: int = 0) -> list[Article]:
    """The articles waiting for a moderator in these communities (None: every one hosted here),
    oldest first from the one after id `after`, at most `limit`."""
    where = exists().where(Community.actor_id == Article.community_id) if community_ids is None \
        else Article.community_id.in_(community_ids)
    return list(await session.scalars(select(Article).where(where, Article.id > after, _awaiting_review())
                                      .order_by(Article.id).limit(limit)))


async def unpublished_of(session: AsyncSession, author_id: int) -> list[Article]:
    """An author's drafts and articles in review, newest first."""
    return list(await session.scalars(select(Article).where(
        Article.author_id == author_id, Article.state != ArticleState.published).order_by(Article.id.desc())))


async def published_seen_by(session: AsyncSession, viewer_id: int | None, *, limit: int, offset: int = 0,
                            include_local_only: bool) -> list[tuple[Article, Object]]:
    """Published articles (local and from peers) whose post the viewer may see, newest first
    (the read rule of storage.search.seen_by; institution-only ones only if `include_local_only`)."""
    statement = (select(Article, Object).join(Object, Object.id == Article.object_id)
                 .where(Article.state == ArticleState.published, Object.deleted_at.is_(None), seen_by(viewer_id)))
    if not include_local_only:
        statement = statement.where(Object.local_only.is_(False))
    rows = await session.execute(statement.order_by(Object.id.desc()).offset(offset).limit(limit),
                                 {VIEWER.key: viewer_id})
    return [(article, item) for article, item in rows]


# --- alerts ---------------------------------------------------------------------------------

async def set_tag_alert(session: AsyncSession, actor_id: int, name: str, notify: bool) -> bool:
    """Turn the alert of a followed tag on or off; False if she does not follow it."""
    result = await session.execute(update(FollowedTag).where(FollowedTag.actor_id == actor_id, FollowedTag.name == name)
                                   .values(notify=notify))
    return result.rowcount > 0


async def set_membership_alert(session: AsyncSession, actor_id: int, group_id: int, notify: bool) -> bool:
    """Turn the alert of a community she belongs to on or off; False if she is no member."""
    result = await session.execute(update(Follow).where(
        Follow.follower_id == actor_id, Follow.followee_id == group_id, Follow.state == FollowState.accepted)
        .values(notify=notify))
    return result.rowcount > 0


async def alerts_of(session: AsyncSession, actor_id: int) -> tuple[list[str], list[Actor]]:
    """(the tags, the communities) whose new articles she is alerted of."""
    tags = list(await session.scalars(select(FollowedTag.name).where(
        FollowedTag.actor_id == actor_id, FollowedTag.notify.is_(True)).order_by(FollowedTag.name)))
    groups = list(await session.scalars(select(Actor).join(Follow, Follow.followee_id == Actor.id).where(
        Follow.follower_id == actor_id, Follow.state == FollowState.accepted, Follow.notify.is_(True))
        .order_by(Actor.id)))
    return tags, groups


async def alert_recipients(session: AsyncSession, tags: Iterable[str], group_ids: Iterable[int]) -> list[Actor]:
    """The local actors alerted of a new article with these tags in these communities: each once."""
    tags, group_ids = list(tags), list(group_ids)
    ids: set[int] = set()
    if tags:
        ids |= set(await session.scalars(select(FollowedTag.actor_id).where(
            FollowedTag.name.in_(tags), FollowedTag.notify.is_(True))))
    if group_ids:
        ids |= set(await session.scalars(select(Follow.follower_id).where(
            Follow.followee_id.in_(group_ids), Follow.state == FollowState.accepted, Follow.notify.is_(True))))
    if not ids:
        return []
    return list(await session.scalars(select(Actor).where(Actor.id.in_(ids), Actor.local.is_(True),
                                                          Actor.deleted_at.is_(None)).order_by(Actor.id)))
