"""An article's way to publication, and a community's review of it.

`submit` moves a draft on: into review when it is posted to a community hosted here whose
moderators approve articles (`communities.articles_require_approval`), straight to published
otherwise. A moderator then approves it (published: `validated_by`, `validated_at` and the
version validated are recorded, its post is made, and the community announces it) or rejects
it (back to draft, with the reason, for its author to change and submit again). A peer's
article posted to such a community waits for the same approval before the community announces
it (`articles.rules`); it was published by its own server, so approving it only validates and
announces it. Each move is
one the article machine declares (storage.states.ARTICLES); each moderator's act is audited.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from federation.admin.audit import audit
from federation.articles import alerts
from federation.articles.access import may_review
from federation.articles.rules import awaiting_review
from federation.articles.writing import ArticleError, NotAllowed, publish_post
from federation.communities import relay
from federation.communities.moderation import check_moderator
from federation.runtime.context import Federation
from storage import communities as community_queries
from storage.actors import actor_by_id
from storage.models import Actor, Article, ArticleState, Community
from storage.posts import post_by_id
from storage.states import ARTICLES, IllegalTransition

MAX_REASON = 1000


async def _community(session: AsyncSession, article: Article) -> Community | None:
    if article.community_id is None:
        return None
    return await community_queries.community_of(session, article.community_id)  # None: hosted elsewhere


def _move(article: Article, target: ArticleState) -> None:
    try:
        ARTICLES.move(article, target)
    except IllegalTransition as exc:
        raise ArticleError(f"Validation failed: the article is {article.state.value}: it cannot become "
                           f"{target.value}") from exc


async def submit(fed: Federation, session: AsyncSession, author: Actor, article: Article) -> Article:
    """The author's draft into review, or published where no review is asked for."""
    if article.author_id != author.id:
        raise NotAllowed("only its author may submit an article")
    community = await _community(session, article)
    if community is not None and community.articles_require_approval:
        _move(article, ArticleState.in_review)
        article.review_note = ""
        await alerts.review_wanted(session, article, author, None, fed.clock.now())
        return article
    _move(article, ArticleState.published)
    await publish_post(fed, session, article)
    return article


async def approve(fed: Federation, session: AsyncSession, moderator: Actor, article: Article) -> Article:
    """A moderator of the article's community validates it: published, and announced. A peer's
    article (published by its own server) is validated and announced."""
    await _check(session, moderator, article)
    now = fed.clock.now()
    article.validated_by_id, article.validated_at, article.validated_version = moderator.id, now, article.version
    if article.local:
        _move(article, ArticleState.published)
        await publish_post(fed, session, article)
    else:
        await _announce(fed, session, article)
    await _audit(session, moderator, "article.approve", article, "", now)
    return article


async def _announce(fed: Federation, session: AsyncSession, article: Article) -> None:
    item = await post_by_id(session, article.object_id) if article.object_id is not None else None
    author = await actor_by_id(session, article.author_id)
    group = await actor_by_id(session, article.community_id) if article.community_id is not None else None
    if item is None or author is None or group is None or item.deleted_at is not None:
        raise ArticleError("Validation failed: the article's post is gone")
    if not await relay.relay_ours(fed, session, item, author, [group.uri]):
        raise ArticleError(f"Validation failed: {group.username} cannot announce it (its author may not post "
                           "there, or it is not public)")


async def reject(fed: Federation, session: AsyncSession, moderator: Actor, article: Article, reason: str) -> Article:
    """A moderator sends it back to its author as a draft, saying why."""
    if len(reason) > MAX_REASON:
        raise ArticleError(f"Validation failed: a reason has at most {MAX_REASON} characters")
    await _check(session, moderator, article)
    if not article.local:
        raise ArticleError("Validation failed: a peer's article is not sent back; leave it unapproved")
    _move(article, ArticleState.draft)
    article.review_note = reason.strip()
    await _audit(session, moderator, "article.reject", article, reason.strip(), fed.clock.now())
    return article


async def _check(session: AsyncSession, moderator: Actor, article: Article) -> None:
    if not await awaiting_review(session, article):
        raise ArticleError(f"Validation failed: the article is {article.state.value}, not in review")
    if not await may_review(session, article, moderator):
        raise NotAllowed("only a moderator of its community may approve or reject an article, and only one "
                         "by an author who may post there")


async def _audit(session: AsyncSession, moderator: Actor, action: str, article: Article, reason: str,
                 now: datetime) -> None:
    group = await actor_by_id(session, article.community_id) if article.community_id is not None else None
    await audit(session, by=f"moderator:{moderator.uri}", action=action,
                subject=group.uri if group is not None else "", before=None,
                after={"article": str(article.id), "version": article.version}, reason=reason, at=now)


async def require_approval(session: AsyncSession, moderator: Actor, group: Actor, required: bool,
                           now: datetime) -> Community:
    """A moderator turns the community's review of articles on or off (audited)."""
    community = await community_queries.community_of(session, group.id)
    if community is None:
        raise ArticleError("Validation failed: only a community hosted here reviews articles")
    await check_moderator(session, group, moderator)
    if community.articles_require_approval != required:
        await audit(session, by=f"moderator:{moderator.uri}", action="community.articles_review", subject=group.uri,
                    before={"articles_require_approval": community.articles_require_approval},
                    after={"articles_require_approval": required}, reason="", at=now)
        community.articles_require_approval = required
    return community
