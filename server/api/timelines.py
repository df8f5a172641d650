"""Timelines (home, public, tag) and the viewer's bookmarks and favourites, paged with
max_id/since_id/min_id/limit and Link headers. Who may read the public and tag timelines is the
read rule's (federation.social.access.may_read, asked before these handlers run): anyone, but only the
instance's users in allowlist mode."""

from __future__ import annotations

from aiohttp import web

from federation.social.access import can_see
from server.api.common import add_route, api, optional_viewer, page_args, paged, viewer
from server.api.entities import render, render_as_user
from server.api.filtering import shown
from server.api.lists import owned_list
from server.api.params import bool_param
from server.appkeys import DATABASE
from storage import timelines
from storage.models import Actor, Bookmark, Like, Object
from storage.paging import Cursor


def _locality(request: web.Request) -> bool | None:
    if bool_param(request.query, "local"):
        return True
    if bool_param(request.query, "remote"):
        return False
    return None


def _page(context: str, select):
    """`fn(renderer)` for a page of the statuses `select(renderer)` chooses: (items, entities), the
    entities without those a `hide` filter of `context` matches (the paging still counts them)."""
    def page(renderer):
        items = select(renderer)
        return items, shown(renderer.statuses(items), context)
    return page


def _paged(request: web.Request, page) -> web.Response:
    items, entities = page
    return paged(request, entities, [item.id for item in items])


@api
async def home(request: web.Request) -> web.Response:
    # the hottest read of all: the token is checked in the page's own read (before the paging
    # parameters, as everywhere: a bad token is a 401 whatever else is wrong)
    return _paged(request, await render_as_user(request, "read:statuses", _page("home",
        lambda renderer: timelines.home(renderer.session, renderer.viewer.id, page_args(request), renderer.now))))


@api
async def of_list(request: web.Request) -> web.Response:
    """One of her lists' timeline (storage.timelines.list_timeline); hide filters of the home
    context apply, as Mastodon's home context covers lists."""
    _, me = await viewer(request, "read:lists")
    cursor = page_args(request)
    async with request.app[DATABASE].sessions() as session:
        row = await owned_list(session, me, request.match_info["list_id"])
    return _paged(request, await render(request, me, _page("home", lambda renderer: timelines.list_timeline(
        renderer.session, me.id, row.id, row.replies_policy, cursor, renderer.now))))


@api
async def public(request: web.Request) -> web.Response:
    actor = await optional_viewer(request, "read:statuses")
    cursor, local, only_media = page_args(request), _locality(request), bool_param(request.query, "only_media")
    return _paged(request, await render(request, actor, _page("public", lambda renderer: timelines.public(
        renderer.session, cursor, local=local, viewer_id=actor.id if actor else None, now=renderer.now,
        only_media=only_media))))


@api
async def tag(request: web.Request) -> web.Response:
    actor = await optional_viewer(request, "read:statuses")
    cursor, local, name = page_args(request), _locality(request), request.match_info["hashtag"]
    return _paged(request, await render(request, actor, _page("public", lambda renderer: timelines.tagged(
        renderer.session, name, cursor, local=local, viewer_id=actor.id if actor else None, now=renderer.now))))


async def marked_posts(request: web.Request, model, actor: Actor, cursor: Cursor) -> list[tuple[int, Object]]:
    """A page of the posts `actor` bookmarked or favourited (`model`), as (mark id, post), newest
    mark first; those she may no longer see left out. Also the web pages /bookmarks, /favourites."""
    rows = await request.app[DATABASE].read(lambda session: timelines.marked(session, model, actor.id, cursor))
    async with request.app[DATABASE].sessions() as session:
        # a followers-only post stays marked after an unfollow, but is no longer shown
        return [(mark_id, post) for mark_id, post in rows if await can_see(session, post, actor)]


def _marks(model, scope: str):
    @api
    async def handler(request: web.Request) -> web.Response:
        _, actor = await viewer(request, scope)
        rows = await marked_posts(request, model, actor, page_args(request))
        entities = await render(request, actor, lambda renderer: renderer.statuses([post for _, post in rows]))
        return paged(request, entities, [mark_id for mark_id, _ in rows])
    return handler


def setup(app: web.Application) -> None:
    add_route(app, "GET", "/api/v1/timelines/home", home)
    add_route(app, "GET", "/api/v1/timelines/public", public)
    add_route(app, "GET", "/api/v1/timelines/tag/{hashtag}", tag)
    add_route(app, "GET", r"/api/v1/timelines/list/{list_id:\d+}", of_list)
    add_route(app, "GET", "/api/v1/bookmarks", _marks(Bookmark, "read:bookmarks"))
    add_route(app, "GET", "/api/v1/favourites", _marks(Like, "read:favourites"))
