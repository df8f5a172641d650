"""Who may read an article, in one place.

A published article is read by whoever may see its post (`social.access.can_see`: visibility,
institution-only). A draft is its author's alone; an article in review, its author's and its
community's moderators' (`communities.moderation.may_moderate`). Neither exists for anyone else:
the API and the pages answer 404, as for a post one may not see.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from federation.articles.rules import awaiting_review
from federation.communities.moderation import may_moderate, moderated
from federation.communities.relay import may_post
from federation.social.access import can_see
from storage import articles as queries
from storage import communities as community_queries
from storage.actors import actor_by_id
from storage.models import Actor, Article, ArticleState
from storage.posts import post_by_id


REVIEW_QUEUE = 100  # articles a review queue lists at most


async def may_read(session: AsyncSession, article: Article, viewer: Actor | None) -> bool:
    if article.state is ArticleState.published:
        item = await post_by_id(session, article.object_id) if article.object_id is not None else None
        return item is not None and await can_see(session, item, viewer)
    if viewer is None:
        return False
    if viewer.id == article.author_id:
        return True
    return await may_review(session, article, viewer)


async def may_review(session: AsyncSession, article: Article, viewer: Actor) -> bool:
    """Whether `viewer` moderates the community an article awaiting review was posted to, and
    the article is one to review: ours, or a peer's by an author the community's rules let post
    there (`relay.may_post`); anyone else's is never announced, so no one's to approve."""
    if not await awaiting_review(session, article):
        return False
    group = await actor_by_id(session, article.community_id)
    if group is None or not await may_moderate(session, group, viewer):
        return False
    return article.local or await _by_a_poster(session, article, group)


async def _by_a_poster(session: AsyncSession, article: Article, group: Actor) -> bool:
    community = await community_queries.community_of(session, group.id)
    author = await actor_by_id(session, article.author_id)
    return community is not None and author is not None and await may_post(session, community, group, author)


async def to_review(session: AsyncSession, viewer: Actor, *, limit: int = REVIEW_QUEUE) -> list[Article]:
    """The articles awaiting review that `viewer` may approve or reject (`may_review`) and may
    read, oldest first, at most `limit`: her review queue, across the communities she moderates
    (`moderated` narrows the query to them). A peer's article whose post she may not see
    (deleted since, or for its author's followers) is not hers to approve: it stays out, as its
    page would be not found. Those left out take no place in the `limit`: the query reads on
    until the queue is full or nothing is left."""
    communities = await moderated(session, viewer)
    if communities == []:
        return []
    queue: list[Article] = []
    after = 0
    while len(queue) < limit:
        page = await queries.awaiting_review(session, communities, limit=limit, after=after)
        queue += [article for article in page
                  if await may_review(session, article, viewer) and await may_read(session, article, viewer)]
        if len(page) < limit:
            break
        after = page[-1].id
    return queue[:limit]
