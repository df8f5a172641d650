"""Rounds' own client API for articles, their review and alerts, under /api/rounds/v1/.

    GET    articles                          published articles the caller may read, newest first
                                             (limit, offset)
    POST   articles                          title, summary, body (Markdown), tags[], references[],
                                             visibility, institution_only (or local_only),
                                             community_id, media_ids[] (the author's uploads from
                                             POST /api/v2/media, at most 4), state (draft, the
                                             default, or published: submitted at once)
    GET    articles/drafts                   the caller's drafts and articles in review
    GET    articles/:id                      the Article entity
    PUT    articles/:id                      the same fields and change_note: a new version once
                                             published (in place while a draft); media_ids[]
                                             replaces the attachments, left out keeps them
    DELETE articles/:id
    GET    articles/:id/versions             every version, oldest first (the current one last)
    GET    articles/:id/versions/:n
    POST   articles/:id/submit               draft -> in review (or published where no review)
    POST   articles/:id/approve              a moderator of its community: -> published
    POST   articles/:id/reject               a moderator: -> draft, with `reason`
    GET    communities/:id/articles/review   the community's articles in review (moderators)
    PUT    communities/:id/articles/review   require_approval=true|false (moderators)
    GET    alerts                            the tags and communities one is alerted of
    POST   alerts/tags/:name                 follow the tag (if not yet) and be alerted of its
                                             new articles; DELETE: no more alerts (still followed)
    POST   alerts/communities/:id            be alerted of a community's new articles (a member);
                                             DELETE: no more alerts

`:id` of an article is its own id (not its post's: a draft has no post). An article nobody may
read (`federation.articles.access`) is a 404. The Article entity: id, uri (its post's
ActivityPub id, null until published), url (its page), title, summary, content (sanitised HTML
of the body and references), source (the Markdown), tags, references, state, version,
versions_count, change_note, review_note (author and moderators only), published_at,
updated_at, validated_by (an Account or null), validated_at, validated_version, visibility,
institution_only, community (an Account or null), account (the author), local, and status (the
Status that represents it, null until published; a client shows it as Mastodon shows an
Article: title, summary, link), and media_attachments (its attachments as the client API's
MediaAttachment: its status's once published, the chosen uploads before).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from federation.articles import access, alerts, review, writing
from federation.articles.documents import page_url
from federation.articles.writing import ArticleDraft, ArticleError, NoSuchArticle, NotAllowed
from federation.communities.groups import CommunityError
from federation.communities.moderation import may_moderate
from federation.outbox.actions import OutboxError
from federation.social.access import Reader, may_reach
from server.api.auth import ApiError
from server.api.common import add_route, api, optional_viewer, viewer
from server.api.entities import render
from server.api.media import media_entity
from server.api.params import bool_param, list_param, params, text_param
from server.api.statuses import MAX_MEDIA
from server.api.times import iso
from server.appkeys import DATABASE, FEDERATION, URLS
from server.responses import json_response
from storage import articles as queries
from storage import communities as community_queries
from storage.actors import actor_by_id
from storage.media import owned_media
from storage.models import Actor, Article, ArticleState, ArticleVersion, Visibility
from storage.posts import post_by_id

BASE = "/api/rounds/v1/articles"
READ, WRITE = ("read:statuses", "read"), ("write:statuses", "write")
MAX_LIST = 40


def _fail(exc: Exception) -> ApiError:
    if isinstance(exc, NoSuchArticle):
        return ApiError(404, "Record not found")
    if isinstance(exc, (NotAllowed, CommunityError)):
        return ApiError(403, str(exc))
    return ApiError(422, str(exc) if str(exc).startswith("Validation failed") else f"Validation failed: {exc}")


def parse_draft(values: dict[str, Any], *, required: bool = True) -> ArticleDraft:
    name = text_param(values, "visibility", default="public")
    try:
        visibility = Visibility(name)
    except ValueError:
        raise ApiError(422, f"Validation failed: visibility {name!r} is not public, unlisted or private") from None
    media_ids = None  # absent: none on a new article, unchanged on an edit (the pages send none)
    if "media_ids" in values or "media_ids[]" in values:
        media_ids = tuple(str(m) for m in list_param(values, "media_ids") if str(m))
    if media_ids is not None and len(media_ids) > MAX_MEDIA:
        raise ApiError(422, f"Validation failed: at most {MAX_MEDIA} attachments")
    return ArticleDraft(
        title=text_param(values, "title", required=required), summary=text_param(values, "summary"),
        body=text_param(values, "body"), tags=tuple(str(t) for t in list_param(values, "tags")),
        references=tuple(str(r) for r in list_param(values, "references")), visibility=visibility,
        local_only=bool_param(values, "institution_only") or bool_param(values, "local_only"),
        community_id=text_param(values, "community_id") or None, media_ids=media_ids)


async def readable(session: AsyncSession, raw: str, me: Actor | None) -> Article:
    """The article `raw` names if `me` may read it; ApiError 404 otherwise."""
    article = await queries.article_by_id(session, int(raw)) if raw.isdigit() and len(raw) <= 19 else None
    if article is None or not await access.may_read(session, article, me):
        raise ApiError(404, "Record not found")
    return article


async def article_entity(request: web.Request, session: AsyncSession, me: Actor | None,
                         article: Article) -> dict[str, Any]:
    item = await post_by_id(session, article.object_id) if article.object_id is not None else None
    people = {actor_id: await actor_by_id(session, actor_id) for actor_id in
              {article.author_id, article.validated_by_id, article.community_id} if actor_id is not None}
    known = [actor for actor in people.values() if actor is not None]

    def rendered(renderer):
        accounts = dict(zip([actor.id for actor in known], renderer.accounts(known)))
        return accounts, renderer.status(item) if item is not None else None
    accounts, status = await render(request, me, rendered, session)
    if status is not None:
        attachments = status["media_attachments"]
    else:  # a draft's chosen uploads (its author's, or it would not have kept them)
        base = request.app[URLS].base
        rows = [await owned_media(session, article.author_id, int(m)) for m in article.media_ids or []]
        attachments = [media_entity(row, base) for row in rows if row is not None]
    insider = me is not None and (me.id == article.author_id or await access.may_review(session, article, me))
    return {
        "id": str(article.id), "uri": item.uri if item is not None else None,
        "url": page_url(request.app[URLS].base, article.id) if article.local else (item.url or item.uri if item else None),
        "title": article.title, "summary": article.summary, "content": article.content, "source": article.source,
        "tags": list(article.tags or []), "references": list(article.references or []),
        "state": article.state.value, "version": article.version,
        "versions_count": await queries.versions_count(session, article.id),
        "change_note": article.change_note, "review_note": article.review_note if insider else "",
        "published_at": iso(article.published_at), "updated_at": iso(article.updated_at),
        "validated_by": accounts.get(article.validated_by_id), "validated_at": iso(article.validated_at),
        "validated_version": article.validated_version, "visibility": article.visibility.value,
        "institution_only": article.local_only, "community": accounts.get(article.community_id),
        "account": accounts.get(article.author_id), "local": article.local, "status": status,
        "media_attachments": attachments,
    }


def version_entity(row: ArticleVersion | Article) -> dict[str, Any]:
    made = row.made_at if isinstance(row, ArticleVersion) else row.updated_at
    return {"version": row.version, "title": row.title, "summary": row.summary, "content": row.content,
            "source": row.source, "references": list(row.references or []), "change_note": row.change_note,
            "created_at": iso(made)}


# --- reading ---------------------------------------------------------------------------------------

@api
async def index(request: web.Request) -> web.Response:
    me = await optional_viewer(request, "read:statuses")
    limit, offset = _int(request, "limit", 20, MAX_LIST), _int(request, "offset", 0, 10_000)
    async with request.app[DATABASE].sessions() as session:
        rows = await queries.published_seen_by(session, me.id if me else None, limit=limit, offset=offset,
                                               include_local_only=me is not None and me.local)
        return json_response([await article_entity(request, session, me, article) for article, _ in rows])


def _int(request: web.Request, name: str, default: int, maximum: int) -> int:
    raw = request.query.get(name, "")
    if not raw:
        return default
    if not raw.isdigit():
        raise ApiError(422, f"Validation failed: {name} must be a number")
    return min(int(raw), maximum)


@api
async def drafts(request: web.Request) -> web.Response:
    _caller, me = await viewer(request, *READ)
    async with request.app[DATABASE].sessions() as session:
        rows = await queries.unpublished_of(session, me.id)
        return json_response([await article_entity(request, session, me, article) for article in rows])


@api
async def show(request: web.Request) -> web.Response:
    me = await optional_viewer(request, "read:statuses")
    async with request.app[DATABASE].sessions() as session:
        article = await readable(session, request.match_info["id"], me)
        return json_response(await article_entity(request, session, me, article))


@api
async def versions(request: web.Request) -> web.Response:
    me = await optional_viewer(request, "read:statuses")
    async with request.app[DATABASE].sessions() as session:
        article = await readable(session, request.match_info["id"], me)
        rows = await queries.versions_of(session, article.id)
    return json_response([*map(version_entity, rows), version_entity(article)])


@api
async def version(request: web.Request) -> web.Response:
    me = await optional_viewer(request, "read:statuses")
    raw = request.match_info["n"]
    async with request.app[DATABASE].sessions() as session:
        article = await readable(session, request.match_info["id"], me)
        number = int(raw) if raw.isdigit() and len(raw) <= 9 else 0
        row = article if number == article.version else await queries.version_of(session, article.id, number)
    if row is None:
        raise ApiError(404, "Record not found")
    return json_response(version_entity(row))


# --- writing ---------------------------------------------------------------------------------------

def _number(raw: str) -> int:
    return int(raw) if raw.isdigit() and len(raw) <= 18 else -1


async def _write(request: web.Request, act, values: dict[str, Any] | None = None) -> web.Response:
    """`act(fed, session, me, values)` -> the article, in one transaction; its entity."""
    _caller, me = await viewer(request, *WRITE)
    values = values if values is not None else await params(request)
    fed = request.app[FEDERATION]
    try:
        async with fed.transaction() as session:
            article = await act(fed, session, me, values)
            entity = await article_entity(request, session, me, article)
    except (ArticleError, CommunityError, OutboxError) as exc:
        raise _fail(exc) from None
    return json_response(entity)


@api
async def create(request: web.Request) -> web.Response:
    await viewer(request, *WRITE)
    values = await params(request)
    draft, state = parse_draft(values), text_param(values, "state", default="draft")
    if state not in (ArticleState.draft.value, ArticleState.published.value):
        raise ApiError(422, "Validation failed: state is draft or published (submitted for review where "
                            "its community reviews articles)")

    async def act(fed, session, me, _values):
        article = await writing.write(fed, session, me, draft)
        if state == ArticleState.published.value:
            await review.submit(fed, session, me, article)
        return article
    return await _write(request, act, values)


@api
async def update(request: web.Request) -> web.Response:
    await viewer(request, *WRITE)
    values = await params(request)
    draft, note = parse_draft(values), text_param(values, "change_note")

    async def act(fed, session, me, _values):
        article = await writing.own(session, request.match_info["id"], me)
        return await writing.revise(fed, session, me, article, draft, change_note=note)
    return await _write(request, act, values)


@api
async def delete(request: web.Request) -> web.Response:
    _caller, me = await viewer(request, *WRITE)
    fed = request.app[FEDERATION]
    try:
        async with fed.transaction() as session:
            article = await writing.own(session, request.match_info["id"], me)
            await writing.delete(fed, session, me, article)
    except (ArticleError, OutboxError) as exc:
        raise _fail(exc) from None
    return json_response({})


@api
async def submit(request: web.Request) -> web.Response:
    async def act(fed, session, me, values):
        return await review.submit(fed, session, me, await writing.own(session, request.match_info["id"], me))
    return await _write(request, act)


def _moderate(approve: bool):
    @api
    async def handler(request: web.Request) -> web.Response:
        async def act(fed, session, me, values):
            article = await queries.article_by_id(session, _number(request.match_info["id"]))
            if article is None or not await access.may_read(session, article, me):
                raise NoSuchArticle(request.match_info["id"])
            if approve:
                return await review.approve(fed, session, me, article)
            return await review.reject(fed, session, me, article, text_param(values, "reason"))
        return await _write(request, act)
    return handler


# --- a community's review --------------------------------------------------------------------------

async def _group(session: AsyncSession, raw: str, me: Actor) -> Actor:
    group = await actor_by_id(session, _number(raw))
    community = await community_queries.community_of(session, group.id) if group is not None else None
    if community is None or not may_reach(community.local_only, Reader.user):
        raise ApiError(404, "Record not found")
    return group


@api
async def in_review(request: web.Request) -> web.Response:
    _caller, me = await viewer(request, *READ)
    async with request.app[DATABASE].sessions() as session:
        group = await _group(session, request.match_info["id"], me)
        rows = [article for article in await queries.in_review(session, group.id)
                if await access.may_review(session, article, me)]
        if not rows and not await may_moderate(session, group, me):
            raise ApiError(403, f"only a moderator of {group.username} may do this")
        return json_response([await article_entity(request, session, me, article) for article in rows])


@api
async def set_review(request: web.Request) -> web.Response:
    _caller, me = await viewer(request, "write:accounts", "write")
    values = await params(request)
    fed = request.app[FEDERATION]
    try:
        async with fed.transaction() as session:
            group = await _group(session, request.match_info["id"], me)
            community = await review.require_approval(session, me, group, bool_param(values, "require_approval"),
                                                      fed.clock.now())
            answer = {"id": str(group.id), "articles_require_approval": community.articles_require_approval}
    except (ArticleError, CommunityError) as exc:
        raise _fail(exc) from None
    return json_response(answer)


# --- alerts ----------------------------------------------------------------------------------------

async def _alerts(request: web.Request, session: AsyncSession, me: Actor) -> dict[str, Any]:
    names, groups = await queries.alerts_of(session, me.id)
    accounts = await render(request, me, lambda renderer: renderer.accounts(groups), session)
    return {"tags": names, "communities": accounts}


@api
async def alerts_index(request: web.Request) -> web.Response:
    _caller, me = await viewer(request, "read:follows", "read")
    async with request.app[DATABASE].sessions() as session:
        return json_response(await _alerts(request, session, me))


def _alert(kind: str, on: bool):
    @api
    async def handler(request: web.Request) -> web.Response:
        _caller, me = await viewer(request, "write:follows", "write")
        fed = request.app[FEDERATION]
        try:
            async with fed.transaction() as session:
                if kind == "tags":
                    await alerts.alert_tag(session, me, request.match_info["name"], on)
                else:
                    raw = request.match_info["id"]
                    group = await actor_by_id(session, _number(raw))
                    if group is None:
                        raise ApiError(404, "Record not found")
                    await alerts.alert_community(session, me, group, on)
                answer = await _alerts(request, session, me)
        except alerts.AlertError as exc:
            raise ApiError(422, f"Validation failed: {exc}") from None
        return json_response(answer)
    return handler


def setup(app: web.Application) -> None:
    """Register this module's routes."""
    one = BASE + r"/{id:\d+}"
    add_route(app, "GET", BASE, index)
    add_route(app, "POST", BASE, create)
    add_route(app, "GET", f"{BASE}/drafts", drafts)
    add_route(app, "GET", one, show)
    add_route(app, "PUT", one, update)
    add_route(app, "DELETE", one, delete)
    add_route(app, "GET", f"{one}/versions", versions)
    add_route(app, "GET", one + r"/versions/{n:\d+}", version)
    add_route(app, "POST", f"{one}/submit", submit)
    add_route(app, "POST", f"{one}/approve", _moderate(True))
    add_route(app, "POST", f"{one}/reject", _moderate(False))
    review_path = r"/api/rounds/v1/communities/{id:\d+}/articles/review"
    add_route(app, "GET", review_path, in_review)
    add_route(app, "PUT", review_path, set_review)
    add_route(app, "GET", "/api/rounds/v1/alerts", alerts_index)
    for on, method in ((True, "POST"), (False, "DELETE")):
        add_route(app, method, "/api/rounds/v1/alerts/tags/{name}", _alert("tags", on))
        add_route(app, method, r"/api/rounds/v1/alerts/communities/{id:\d+}", _alert("communities", on))
