"""A local article's ActivityStreams document, its earlier versions, and its page's address.

`post_fields` is what `social.posts.post_to_ap` merges over a post's document when the post is
an article: every document of it (its Create, its Updates, a GET of it) says the same thing.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from federation.articles.markdown import presentation_html
from federation.protocol.vocab.articles import ArticleText, article_fields, article_version_to_ap, versions_to_ap
from federation.protocol.vocab.render import ap_datetime
from storage import articles as queries
from storage.models import Actor, Article, ArticleVersion, Object


def page_url(base_url: str, article_id: int) -> str:
    """The article's web page (its `url`)."""
    return f"{base_url}/articles/{article_id}"


def current_text(article: Article) -> ArticleText:
    return ArticleText(title=article.title, summary=article.summary, content=article.content, source=article.source,
                       version=article.version, change_note=article.change_note, updated=article.updated_at)


def version_text(row: ArticleVersion) -> ArticleText:
    return ArticleText(title=row.title, summary=row.summary, content=row.content, source=row.source,
                       version=row.version, change_note=row.change_note, updated=row.made_at)


async def post_fields(session: AsyncSession, post: Object, author: Actor, base_url: str) -> dict[str, Any]:
    """The article fields of a local article's post (nothing for any other post)."""
    if post.type != "Article" or not post.local:
        return {}
    article = await queries.article_of_post(session, post.id)
    if article is None:
        return {}
    url = page_url(base_url, article.id)
    updated = ap_datetime(article.updated_at) if article.version > 1 else None
    return article_fields(current_text(article), uri=post.uri, url=url, author_uri=author.uri,
                          preview_html=presentation_html(article.title, article.summary, url),
                          published=ap_datetime(post.published), updated=updated)


def versions_document(post: Object, author: Actor, article: Article, rows: list[ArticleVersion],
                      base_url: str) -> dict[str, Any]:
    url = page_url(base_url, article.id)
    return versions_to_ap(post.uri, [article_version_to_ap(version_text(row), uri=post.uri, author_uri=author.uri,
                                                           url=url, made_at=ap_datetime(row.made_at))
                                     for row in rows])


def version_document(post: Object, author: Actor, article: Article, row: ArticleVersion, base_url: str) -> dict[str, Any]:
    return article_version_to_ap(version_text(row), uri=post.uri, author_uri=author.uri,
                                 url=page_url(base_url, article.id), made_at=ap_datetime(row.made_at))
