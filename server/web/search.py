"""The signed-in practitioner's search page: accounts, posts and hashtags she may see, by the
client API's own search (`server.api.search.parse_query` and `search`, as GET /api/v2/search).

The form sends `resolve=true`, as Mastodon's web client does, so a handle such as
`@colleague@other-hospital.org` or a post's URL is looked up over federation when this server
does not know it yet; the next page of results (by `offset`) resolves nothing again.
"""

from __future__ import annotations

from urllib.parse import urlencode

from aiohttp import web

from server.api.auth import ApiError
from server.api.search import parse_query, search
from server.web.sessions import me
from server.web.templates import render

PAGE_SIZE = 20


async def search_page(request: web.Request) -> web.Response:
    signed = await me(request)
    text = request.query.get("q", "").strip()
    results, error, more, status = None, "", None, 200
    if text:
        try:
            query = parse_query(request.query, default_limit=PAGE_SIZE, max_limit=PAGE_SIZE)
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
