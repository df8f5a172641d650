"""A peer's Article or Page, stored whole.

The post a client sees of it (`parse.ap_to_object`: the title, the summary and a link, as
Mastodon shows it) is the post's; its whole text (title, summary, full sanitised content, the
Markdown source if it sent one) is kept here, so Rounds' pages show it in full. Each Update that
changes it keeps the version it replaces and counts one more version on this side: the sender's
own `version` (Rounds' namespace) is taken when it is ahead, and its `changeNote` is kept with
the new version (federation.protocol.vocab.articles says how they travel).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from federation.articles import alerts
from federation.articles.rules import ARTICLE_TYPES
from federation.protocol.sanitize import plain_text, sanitize_article_html
from federation.protocol.vocab.articles import ap_to_article
from federation.protocol.vocab.parse import APObject
from storage import actors as actor_queries
from storage import articles as queries
from storage.models import Actor, Article, ArticleState, Object


def _fields(ap: APObject) -> dict:
    text = ap_to_article(ap.raw if isinstance(ap.raw, dict) else {})
    return {"title": plain_text(text.title)[:1000], "summary": plain_text(text.summary),
            "content": sanitize_article_html(text.content), "source": text.source}, text


async def keep(session: AsyncSession, item: Object, ap: APObject, author: Actor, now: datetime) -> Article | None:
    """Store a newly stored remote post's article whole, and alert whoever asked to hear of it;
    None for any other post."""
    if item.type not in ARTICLE_TYPES or item.local:
        return None
    fields, text = _fields(ap)
    groups = await actor_queries.actors_by_uris(session, list(ap.groups))
    group = next(iter(groups.values()), None)
    article = await queries.add_article(session, Article(
        author_id=item.actor_id, object_id=item.id, community_id=group.id if group is not None else None, local=False,
        **fields, tags=list(ap.hashtags) or None, visibility=item.visibility, local_only=False,
        state=ArticleState.published, version=text.version or 1, change_note=text.change_note,
        created_at=now, updated_at=min(text.updated or item.published, now), published_at=item.published))
    item.search_body = article.content  # found by its whole body (storage.search)
    await alerts.new_article(session, item, author, ap.hashtags, [g.id for g in groups.values()], now)
    return article


async def revise(session: AsyncSession, item: Object, ap: APObject, author: Actor, now: datetime) -> bool:
    """Take a remote article's new version, keeping the one it replaces; False if its text did
    not change (or the post is no article)."""
    if item.type not in ARTICLE_TYPES or item.local:
        return False
    article = await queries.article_of_post(session, item.id)
    if article is None:
        return await keep(session, item, ap, author, now) is not None
    fields, text = _fields(ap)
    if all(getattr(article, key) == value for key, value in fields.items()):
        return False
    await queries.keep_version(session, article)
    for key, value in fields.items():
        setattr(article, key, value)
    article.version = max(article.version + 1, text.version or 0)
    article.change_note = text.change_note
    article.updated_at = min(text.updated or now, now)
    item.search_body = article.content
    return True
