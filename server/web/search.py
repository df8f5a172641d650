"""The signed-in practitioner's search page: accounts, posts and hashtags she may see, by the
client API's own search (`server.api.search.parse_query` and `search`, as GET /api/v2/search).

The form sends `resolve=true`, as Mastodon's web client does, so a handle such as
`@colleague@other-hospital.org` or a post's URL is looked up over federation when this server
does not know it yet; the next page of results (by `offset`) resolves nothing again.

Posts are found by full-text search (storage.search). The form's filters (author, hashtag,
instance, community, dates, media, poll, articles) are written into the query as the API's
operators (`from:`, `#`, `domain:`, `community:`, `after:`, `before:`, `has:`, `is:article`), so
the results page shows the query that found them, and its next page carries it whole; the API's
own parsing does the rest.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode

from aiohttp import web

from server.api.auth import ApiError
from server.api.search import parse_query, search
from server.web.sessions import me
from server.web.templates import render

PAGE_SIZE = 20
OPERATORS = ("from", "domain", "community", "after", "before")  # form fields written as `name:value`
HAS = ("media", "poll")                           # checkboxes `has_media`, `has_poll`: `has:media`, ...


def with_filters(values: Mapping[str, str]) -> str:
    """The query `q` with the form's filters written in as operators (one word each)."""
    parts = [values.get("q", "").strip()]
    for name in OPERATORS:
        value = "".join(values.get(name, "").split())
        if value:
            parts.append(f"{name}:{value}")
    tag = "".join(values.get("tag", "").split()).lstrip("#")
    if tag:
        parts.append(f"#{tag}")
    parts += [f"has:{name}" for name in HAS if values.get(f"has_{name}")]
    if values.get("articles"):
        parts.append("is:article")
    return " ".join(part for part in parts if part)


async def search_page(request: web.Request) -> web.Response:
    signed = await me(request)
    text = with_filters(request.query)
    results, error, more, status = None, "", None, 200
    if text:
        try:
            query = parse_query({**request.query, "q": text}, default_limit=PAGE_SIZE, max_limit=PAGE_SIZE)
        except ApiError as exc:
            error, status = str(exc), exc.status
        else:
            results = await search(request, query, signed.actor)
            if any(len(results[kind]) >= query.limit for kind in query.kinds):
                kind = {"type": request.query["type"]} if request.query.get("type") else {}
                more = f"/search?{urlencode({'q': text, **kind, 'offset': query.offset + query.limit})}"
    return await render(request, "search.html", status=status, q=text, results=results, error=error, more=more)


def setup(app: web.Application) -> None:
    app.router.add_get("/search", search_page)
