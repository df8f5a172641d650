"""Articles' pages: browse them (with her drafts, and for a moderator the articles awaiting her
review), write one (a Markdown editor with a preview the server renders:
the form's Preview button posts it, no script needed), read one ("revised on ..., version n",
"validated by"), its versions, one version, and a diff of two; and the author's and the
moderators' forms (submit, approve, reject, delete).

The forms take the client API's parameter names and go through its parsing
(`server.api.articles.parse_draft`) and the same `federation.articles` calls its handlers make;
pages show the API's Article entity (`server.api.articles.article_entity`) and read through its
`readable`, so a page shows what the API would, to whom the API would (an article one may not
read is a 404). Every POST answers 303, or the form again with the refusal.
"""

from __future__ import annotations

import difflib
from typing import Any

from aiohttp import web

from federation.articles import review, writing
from federation.articles.access import REVIEW_QUEUE, may_review, to_review
from federation.articles.markdown import article_html
from federation.articles.writing import ArticleError, NotAllowed
from federation.communities.groups import CommunityError
from federation.outbox.actions import OutboxError
from server.api.articles import article_entity, parse_draft, readable, version_entity
from server.api.auth import ApiError
from server.appkeys import DATABASE, FEDERATION
from server.web.sessions import me, redirect
from server.web.templates import render
from storage import articles as queries
from storage import communities as community_queries

PAGE_SIZE = 20
FIELDS = ("title", "summary", "body", "tags", "references", "visibility", "institution_only", "community_id",
          "change_note")


def _values(form: Any) -> dict[str, Any]:
    """The form's fields as the API's parameters: tags split on commas and spaces, one reference
    a line."""
    typed = {name: form.get(name, "") for name in FIELDS if isinstance(form.get(name, ""), str)}
    values: dict[str, Any] = dict(typed)
    values["tags"] = [tag for tag in typed.get("tags", "").replace(",", " ").split() if tag]
    values["references"] = [line for line in typed.get("references", "").splitlines() if line.strip()]
    return values


def _typed(article: dict[str, Any]) -> dict[str, Any]:
    """An Article entity as the form shows it."""
    return {"title": article["title"], "summary": article["summary"], "body": article["source"],
            "tags": " ".join(article["tags"]), "references": "\n".join(article["references"]),
            "visibility": article["visibility"], "institution_only": "true" if article["institution_only"] else "",
            "community_id": article["community"]["id"] if article["community"] else ""}


async def _communities(request: web.Request) -> list[dict[str, str]]:
    """The communities hosted here one may pick for an article (the write rule is checked on save)."""
    async with request.app[DATABASE].sessions() as session:
        rows = await community_queries.communities(session, include_local_only=True)
    return [{"id": str(actor.id), "name": actor.display_name or actor.username} for _, actor in rows]


async def _form(request: web.Request, *, typed: dict[str, Any], action: str, article: dict[str, Any] | None = None,
                preview: str | None = None, error: str = "", status: int = 200) -> web.Response:
    return await render(request, "article_form.html", status=status, typed=typed, action=action, article=article,
                        preview=preview, error=error, communities=await _communities(request))


# --- reading ---------------------------------------------------------------------------------------

async def browse(request: web.Request) -> web.Response:
    signed = await me(request)
    page = _page(request)
    async with request.app[DATABASE].sessions() as session:
        rows = await queries.published_seen_by(session, signed.actor.id, limit=PAGE_SIZE + 1, offset=page * PAGE_SIZE,
                                               include_local_only=True)
        published = [await article_entity(request, session, signed.actor, article) for article, _ in rows[:PAGE_SIZE]]
        mine = [await article_entity(request, session, signed.actor, article)
                for article in await queries.unpublished_of(session, signed.actor.id)] if page == 0 else []
        waiting = [await article_entity(request, session, signed.actor, article)
                   for article in await to_review(session, signed.actor, limit=REVIEW_QUEUE)] if page == 0 else []
    return await render(request, "articles.html", published=published, mine=mine, review=waiting,
                        review_full=len(waiting) >= REVIEW_QUEUE,
                        more=f"/articles?page={page + 1}" if len(rows) > PAGE_SIZE else None)


def _page(request: web.Request) -> int:
    raw = request.query.get("page", "0")
    return min(int(raw), 1000) if raw.isdigit() and len(raw) <= 4 else 0


async def _readable(request: web.Request) -> tuple[Any, dict[str, Any], list[Any]] | None:
    """(the signed-in practitioner, the Article entity, its versions' rows) of the route's
    article, or None if she may not read it."""
    signed = await me(request)
    async with request.app[DATABASE].sessions() as session:
        try:
            article = await readable(session, request.match_info["id"], signed.actor)
        except ApiError:
            return None
        entity = await article_entity(request, session, signed.actor, article)
        entity["may_review"] = await may_review(session, article, signed.actor)
        versions = [*await queries.versions_of(session, article.id), article]
    return signed, entity, versions


async def _missing(request: web.Request) -> web.Response:
    return await render(request, "not_found.html", status=404, what="such article")


async def read(request: web.Request) -> web.Response:
    found = await _readable(request)
    if found is None:
        return await _missing(request)
    signed, article, _ = found
    return await render(request, "article.html", article=article,
                        mine=article["account"] is not None and article["account"]["id"] == str(signed.actor.id))


async def versions(request: web.Request) -> web.Response:
    found = await _readable(request)
    if found is None:
        return await _missing(request)
    _, article, rows = found
    return await render(request, "article_versions.html", article=article, versions=[version_entity(r) for r in rows])


async def version(request: web.Request) -> web.Response:
    found = await _readable(request)
    if found is None:
        return await _missing(request)
    _, article, rows = found
    chosen = next((version_entity(r) for r in rows if str(r.version) == request.match_info["n"]), None)
    if chosen is None:
        return await _missing(request)
    return await render(request, "article_version.html", article=article, version=chosen)


def diff_lines(before: str, after: str) -> list[tuple[str, str]]:
    """The lines of two Markdown sources, each marked `same`, `removed` or `added` (escaped by the
    template, as any text)."""
    rows: list[tuple[str, str]] = []
    old, new = before.splitlines(), after.splitlines()
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if tag == "equal":
            rows += [("same", line) for line in old[i1:i2]]
            continue
        rows += [("removed", line) for line in old[i1:i2]]
        rows += [("added", line) for line in new[j1:j2]]
    return rows


async def diff(request: web.Request) -> web.Response:
    found = await _readable(request)
    if found is None:
        return await _missing(request)
    _, article, rows = found
    by_number = {str(r.version): version_entity(r) for r in rows}
    newest = str(rows[-1].version)
    first = by_number.get(request.query.get("from", ""), by_number.get(str(max(rows[-1].version - 1, 1))))
    second = by_number.get(request.query.get("to", newest), by_number[newest])
    lines = diff_lines(first["source"], second["source"])
    return await render(request, "article_diff.html", article=article, first=first, second=second, lines=lines,
                        numbers=sorted(by_number, key=int), changed=any(kind != "same" for kind, _ in lines)
                        or first["title"] != second["title"] or first["summary"] != second["summary"])


# --- writing ---------------------------------------------------------------------------------------

async def new(request: web.Request) -> web.Response:
    await me(request)
    return await _form(request, typed={"visibility": "public"}, action="/articles")


async def create(request: web.Request) -> web.Response:
    signed = await me(request)
    form = await request.post()
    values = _values(form)
    if form.get("action") == "preview":
        return await _form(request, typed=dict(form), action="/articles", preview=_preview(values))
    try:
        draft = parse_draft(values)
        fed = request.app[FEDERATION]
        async with fed.transaction() as session:
            article = await writing.write(fed, session, signed.actor, draft)
            if form.get("action") == "publish":
                await review.submit(fed, session, signed.actor, article)
    except (ApiError, ArticleError, CommunityError, OutboxError) as exc:
        return await _form(request, typed=dict(form), action="/articles", error=str(exc), status=_status(exc))
    return redirect(f"/articles/{article.id}")


def _preview(values: dict[str, Any]) -> str:
    body = values.get("body", "")
    return article_html(body if isinstance(body, str) else "", values["references"])


def _status(exc: Exception) -> int:
    if isinstance(exc, ApiError):
        return exc.status
    return 403 if isinstance(exc, (NotAllowed, CommunityError)) else 422


async def edit(request: web.Request) -> web.Response:
    found = await _readable(request)
    if found is None:
        return await _missing(request)
    signed, article, _ = found
    if article["account"]["id"] != str(signed.actor.id) or not article["local"]:
        return await _missing(request)
    return await _form(request, typed=_typed(article), action=f"/articles/{article['id']}/edit", article=article)


async def save(request: web.Request) -> web.Response:
    signed = await me(request)
    form = await request.post()
    values, article_id = _values(form), request.match_info["id"]
    action = f"/articles/{article_id}/edit"
    if form.get("action") == "preview":
        return await _form(request, typed=dict(form), action=action, preview=_preview(values))
    try:
        draft = parse_draft(values)
        fed = request.app[FEDERATION]
        async with fed.transaction() as session:
            article = await writing.own(session, article_id, signed.actor)
            await writing.revise(fed, session, signed.actor, article, draft, change_note=values.get("change_note", ""))
    except writing.NoSuchArticle:
        return await _missing(request)
    except (ApiError, ArticleError, CommunityError, OutboxError) as exc:
        return await _form(request, typed=dict(form), action=action, error=str(exc), status=_status(exc))
    return redirect(f"/articles/{article_id}")


def _act(kind: str):
    """The author's submit and delete, and a moderator's approve and reject: the API's calls."""
    async def handler(request: web.Request) -> web.Response:
        signed = await me(request)
        form = await request.post()
        article_id = request.match_info["id"]
        fed = request.app[FEDERATION]
        try:
            async with fed.transaction() as session:
                if kind in ("submit", "delete"):
                    article = await writing.own(session, article_id, signed.actor)
                    if kind == "submit":
                        await review.submit(fed, session, signed.actor, article)
                    else:
                        await writing.delete(fed, session, signed.actor, article)
                else:
                    article = await readable(session, article_id, signed.actor)
                    if kind == "approve":
                        await review.approve(fed, session, signed.actor, article)
                    else:
                        reason = form.get("reason", "")
                        await review.reject(fed, session, signed.actor, article, reason if isinstance(reason, str) else "")
        except (writing.NoSuchArticle, ApiError):
            return await _missing(request)
        except (ArticleError, CommunityError, OutboxError) as exc:
            return await render(request, "action_refused.html", status=_status(exc), reason=str(exc))
        return redirect("/articles" if kind == "delete" else f"/articles/{article_id}")
    return handler


def setup(app: web.Application) -> None:
    one = r"/articles/{id:\d+}"
    app.router.add_get("/articles", browse)
    app.router.add_post("/articles", create)
    app.router.add_get("/articles/new", new)
    app.router.add_get(one, read)
    app.router.add_get(f"{one}/edit", edit)
    app.router.add_post(f"{one}/edit", save)
    app.router.add_get(f"{one}/versions", versions)
    app.router.add_get(one + r"/versions/{n:\d+}", version)
    app.router.add_get(f"{one}/diff", diff)
    for kind in ("submit", "approve", "reject", "delete"):
        app.router.add_post(f"{one}/{kind}", _act(kind))
