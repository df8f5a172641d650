"""The review rule, in one place: may a community announce this article now?

A community whose moderators approve articles (`articles_require_approval`) announces an article
only once one of them has validated it for that community; any other post, and any article in a
community without the rule, is announced as `communities.relay` decides.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from storage import articles as queries
from storage.models import Community, Object

ARTICLE_TYPES = ("Article", "Page")


async def awaits_approval(session: AsyncSession, community: Community, item: Object) -> bool:
    if item.type not in ARTICLE_TYPES or not community.articles_require_approval:
        return False
    article = await queries.article_of_post(session, item.id)
    return (article is None or article.validated_by_id is None
            or article.community_id != community.actor_id)
