"""The practitioner's bookmarks and favourites (/bookmarks, /favourites): the posts the client
API's GET /api/v1/bookmarks and /favourites list for her (server.api.timelines.marked_posts),
newest mark first, paged by the marks' ids as the API pages them."""

from __future__ import annotations

from aiohttp import web

from server.api.entities import render as render_entities
from server.api.timelines import marked_posts
from server.web.sessions import me
from server.web.templates import render
from server.web.timelines import page_cursor, pager
from storage.models import Bookmark, Like

MARKS = {"bookmarks": Bookmark, "favourites": Like}


def _handler(which: str):
    async def handler(request: web.Request) -> web.Response:
        signed = await me(request)
        cursor = page_cursor(request)
        rows = await marked_posts(request, MARKS[which], signed.actor, cursor)
        statuses = await render_entities(request, signed.actor,
                                         lambda renderer: renderer.statuses([post for _, post in rows]))
        return await render(request, "timeline.html", timeline=which, tag="", statuses=statuses,
                                pager=pager(f"/{which}", cursor, [mark_id for mark_id, _ in rows]), live=None)
    handler.__name__ = which
    return handler


def setup(app: web.Application) -> None:
    for which in MARKS:
        app.router.add_get(f"/{which}", _handler(which))
