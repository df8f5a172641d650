"""An author's article: write it, change it, delete it, and publish its post.

Until it is first published an article is a draft (or in review): an edit replaces it in place
and it stays version 1, since nobody else has read it. Once published every edit keeps the
version it replaces (storage.articles.keep_version), counts one more, takes an optional change
note, and its post's Update carries the new version to the article's audience. Only then does the
article have a post (`publish_post`), made through `outbox.actions.post` like any other: its
audience, its deliveries (none for an institution-only article), homes, streams, and the community
it is posted to (`communities.relay`, which asks `articles.rules` whether it may announce it).

Its attachments are the author's uploads (`media_ids`), checked as a status's are
(`social.media.attachable`) whenever they are chosen and again at publication; a draft keeps only
their ids, and its post gets the rows (`social.media.attach`) when it is made. An edit after
publication replaces the post's attachments as a status's edit does.

Functions take the caller's session and never commit.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from federation.articles import alerts
from federation.articles.documents import page_url
from federation.articles.markdown import article_html, presentation_html
from federation.communities import relay
from federation.outbox import actions
from federation.runtime.context import Federation
from federation.social import media
from federation.social.media import stored_attachment
from federation.social.tags import TagError, valid_name
from storage import articles as queries
from storage import communities as community_queries
from storage.actors import actor_by_id
from storage.models import Actor, ActorType, Article, ArticleState, Media, Object, Visibility
from storage.posts import post_by_id

MAX_TITLE = 300
MAX_SUMMARY = 2000
MAX_SOURCE = 200_000
MAX_TAGS = 20
MAX_REFERENCES = 100
MAX_REFERENCE = 2000
MAX_NOTE = 500


class ArticleError(Exception):
    """The article cannot be written or changed so; one line for the practitioner. Nothing was written."""


class NoSuchArticle(ArticleError):
    """No such article, or one the caller may not read (the two look the same)."""


class NotAllowed(ArticleError):
    """The caller may read the article but not do this to it."""


@dataclass(frozen=True)
class ArticleDraft:
    """An article as a client sends it, unchecked."""

    title: str
    summary: str = ""
    body: str = ""  # Markdown
    tags: tuple[str, ...] = ()
    references: tuple[str, ...] = field(default_factory=tuple)
    visibility: Visibility = Visibility.public
    local_only: bool = False
    community_id: str | None = None  # the community's account id
    media_ids: tuple[str, ...] | None = None  # the author's uploads, in order (None: none, or unchanged on an edit)


def _checked(draft: ArticleDraft) -> ArticleDraft:
    title = " ".join(draft.title.split())
    if not title:
        raise ArticleError("Validation failed: an article needs a title")
    if len(title) > MAX_TITLE or len(draft.summary) > MAX_SUMMARY or len(draft.body) > MAX_SOURCE:
        raise ArticleError(f"Validation failed: at most {MAX_TITLE} characters of title, {MAX_SUMMARY} of summary "
                           f"and {MAX_SOURCE} of body")
    if draft.visibility is Visibility.direct:
        raise ArticleError("Validation failed: an article is public, unlisted or for followers, not direct")
    try:
        tags = tuple(dict.fromkeys(valid_name(tag) for tag in draft.tags if tag.strip()))
    except TagError as exc:
        raise ArticleError(f"Validation failed: {exc}") from exc
    references = tuple(ref.strip() for ref in draft.references if ref.strip())
    if len(tags) > MAX_TAGS or len(references) > MAX_REFERENCES or any(len(r) > MAX_REFERENCE for r in references):
        raise ArticleError(f"Validation failed: at most {MAX_TAGS} tags and {MAX_REFERENCES} references of "
                           f"{MAX_REFERENCE} characters")
    return ArticleDraft(title=title, summary=draft.summary.strip(), body=draft.body, tags=tags, references=references,
                        visibility=draft.visibility, local_only=draft.local_only, community_id=draft.community_id,
                        media_ids=draft.media_ids)


async def _community(session: AsyncSession, author: Actor, raw: str | None) -> tuple[Actor | None, bool]:
    """(the community's Group, whether it is institution-only) of a draft's `community_id`."""
    if not raw:
        return None, False
    group = await actor_by_id(session, int(raw)) if raw.isdigit() and len(raw) <= 19 else None
    if group is None or group.type is not ActorType.Group or group.deleted_at is not None:
        raise ArticleError(f"Validation failed: no community with id {raw}")
    if not group.local:
        return group, False
    community = await community_queries.community_of(session, group.id)
    if community is None:
        raise ArticleError(f"Validation failed: no community with id {raw}")
    if not await relay.may_post(session, community, group, author):
        raise NotAllowed(f"you may not post to {group.username}")
    return group, community.local_only


async def _uploads(session: AsyncSession, author: Actor, media_ids: list[str] | tuple[str, ...],
                   item: Object | None) -> list[Media]:
    """The author's uploads `media_ids`, each still hers to attach to `item` (or to a new post)."""
    try:
        return await media.attachable(session, author, media_ids, item)
    except media.InvalidMedia as exc:
        raise ArticleError(f"Validation failed: {exc}") from exc


def _asked(article: Article, draft: ArticleDraft) -> tuple[str, ...] | list[str]:
    """The uploads an edit asks for: the draft's, or the article's own if it names none."""
    return draft.media_ids if draft.media_ids is not None else (article.media_ids or [])


def _chosen(article: Article, uploads: list[Media]) -> None:
    article.media_ids = [str(row.id) for row in uploads] or None


def _apply(article: Article, draft: ArticleDraft) -> None:
    article.title, article.summary, article.source = draft.title, draft.summary, draft.body
    article.tags = list(draft.tags) or None
    article.references = list(draft.references) or None
    article.content = article_html(draft.body, list(draft.references))


async def write(fed: Federation, session: AsyncSession, author: Actor, draft: ArticleDraft) -> Article:
    """A new draft (the caller submits it next if it asked for more)."""
    draft = _checked(draft)
    group, institution_only = await _community(session, author, draft.community_id)
    uploads = await _uploads(session, author, draft.media_ids or (), None)
    now = fed.clock.now()
    article = Article(author_id=author.id, community_id=group.id if group is not None else None, local=True,
                      visibility=draft.visibility, local_only=draft.local_only or institution_only,
                      state=ArticleState.draft, version=1, change_note="", review_note="",
                      created_at=now, updated_at=now)
    _apply(article, draft)
    _chosen(article, uploads)
    return await queries.add_article(session, article)


async def own(session: AsyncSession, article_id: str, author: Actor) -> Article:
    """The author's article `article_id`: NoSuchArticle if there is none she may read, NotAllowed if not hers."""
    article = await queries.article_by_id(session, int(article_id)) if article_id.isdigit() and len(article_id) <= 19 else None
    if article is None or not article.local:
        raise NoSuchArticle(article_id)
    if article.author_id != author.id:
        raise NotAllowed("only its author may change an article")
    return article


async def revise(fed: Federation, session: AsyncSession, author: Actor, article: Article, draft: ArticleDraft,
                 change_note: str = "") -> Article:
    """Change the article: in place while unpublished; a new version, federated, once published
    (its visibility, institution-only flag and community stay as published)."""
    if len(change_note) > MAX_NOTE:
        raise ArticleError(f"Validation failed: a change note has at most {MAX_NOTE} characters")
    if article.state is not ArticleState.published:
        draft = _checked(draft)
        group, institution_only = await _community(session, author, draft.community_id)
        if article.state is ArticleState.in_review and (group.id if group else None) != article.community_id:
            raise ArticleError("Validation failed: an article in review stays in its community")
        uploads = await _uploads(session, author, _asked(article, draft), None)
        article.community_id = group.id if group is not None else None
        article.visibility, article.local_only = draft.visibility, draft.local_only or institution_only
        _apply(article, draft)
        _chosen(article, uploads)
        article.updated_at = fed.clock.now()
        return article
    draft = _checked(ArticleDraft(title=draft.title, summary=draft.summary, body=draft.body, tags=draft.tags,
                                  references=draft.references, visibility=article.visibility,
                                  media_ids=draft.media_ids))
    item = await post_by_id(session, article.object_id) if article.object_id is not None else None
    if item is None or item.deleted_at is not None:
        raise NoSuchArticle(str(article.id))
    uploads = await _uploads(session, author, _asked(article, draft), item)
    await queries.keep_version(session, article)
    _apply(article, draft)
    article.version += 1
    article.change_note = change_note.strip()
    article.updated_at = fed.clock.now()
    _chosen(article, uploads)
    item.search_body = article.content
    await actions.edit(fed, session, author, item, content=_presentation(fed, article), summary="", sensitive=False,
                       attachments=[stored_attachment(row, fed.urls.base) for row in uploads] or None)
    await media.attach(session, item, uploads)
    return article


def _presentation(fed: Federation, article: Article) -> str:
    return presentation_html(article.title, article.summary, page_url(fed.urls.base, article.id))


async def publish_post(fed: Federation, session: AsyncSession, article: Article) -> Object:
    """The article's post, made now that it is published: created, delivered to its audience,
    announced by its community here when the community lets it (`communities.relay`), and
    alerts sent (`alerts`)."""
    author = await actor_by_id(session, article.author_id)
    group = await actor_by_id(session, article.community_id) if article.community_id is not None else None
    if author is None:
        raise NoSuchArticle(str(article.id))
    uploads = await _uploads(session, author, article.media_ids or [], None)  # still hers, still free

    async def link(item: Object) -> None:
        item.url = page_url(fed.urls.base, article.id)
        item.search_body = article.content  # found by its whole body (storage.search)
        article.object_id = item.id
        await session.flush()

    item = await actions.post(
        fed, session, author, content=_presentation(fed, article), visibility=article.visibility,
        mentions=[group] if group is not None else [], tags=article.tags or [], local_only=article.local_only,
        attachments=[stored_attachment(row, fed.urls.base) for row in uploads] or None, kind="Article", prepare=link)
    await media.attach(session, item, uploads)
    now = fed.clock.now()
    article.published_at = article.published_at or now
    announced = await relay.relay_ours(fed, session, item, author, [group.uri] if group is not None else [])
    await alerts.new_article(session, item, author, article.tags or [], [g.id for g in announced], now)
    return item


async def delete(fed: Federation, session: AsyncSession, author: Actor, article: Article) -> None:
    """Delete the article and its versions; a published one's post is deleted (and its Delete
    federated) first."""
    if article.object_id is not None:
        item = await post_by_id(session, article.object_id)
        if item is not None and item.deleted_at is None:
            await actions.delete(fed, session, author, item)
    await queries.delete_article(session, article.id)
