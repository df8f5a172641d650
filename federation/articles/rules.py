"""The review rule, in one place: may a community announce this article now, and does an
article await its moderators' review?

A community whose moderators approve articles (`articles_require_approval`) announces an article
only once one of them has validated it for that community; any other post, and any article in a
community without the rule, is announced as `communities.relay` decides.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from storage import articles as queries
from storage import communities as community_queries
from storage.models import Article, ArticleState, Community, Object

ARTICLE_TYPES = ("Article", "Page")


async def awaits_approval(session: AsyncSession, community: Community, item: Object) -> bool:
    if item.type not in ARTICLE_TYPES or not community.articles_require_approval:
        return False
    article = await queries.article_of_post(session, item.id)
    return (article is None or article.validated_by_id is None
            or article.community_id != community.actor_id)


async def awaiting_review(session: AsyncSession, article: Article) -> bool:
    """An article a community's moderators may approve: one of ours in review, or a peer's posted
    to a community hosted here whose moderators approve articles, and not validated yet (the
    same rule as storage.articles.awaiting_review's, for one article)."""
    if article.community_id is None:
        return False
    if article.state is ArticleState.in_review:
        return True
    if article.local or article.validated_by_id is not None:
        return False
    community = await community_queries.community_of(session, article.community_id)
    return community is not None and community.articles_require_approval
