"""The signed-in practitioner's notifications page, its answers to follow requests, and the
unread count the navigation shows on every signed-in page.

The count follows Mastodon's markers: the `notifications` marker (the one GET/POST
/api/v1/markers read and write) holds the newest notification read, and whatever the list would
show above it is unread. Viewing the unfiltered list moves the marker forward to the newest
notification shown, before the page is drawn, so the page itself shows nothing unread; a
filtered view (mentions only) moves nothing, since it did not show what lies between.
"""

from __future__ import annotations

from aiohttp import web
from sqlalchemy.exc import IntegrityError

from server.api.accounts import answer_request, target_account
from server.api.auth import ApiError
from server.api.entities import render as render_entities
from server.api.notifications import list_scope, notifications_page
from server.appkeys import CLOCK, DATABASE, FEDERATION, TEMPLATES
from server.web.sessions import me, redirect, signed_in
from server.web.templates import provide, render
from server.web.timelines import page_cursor, pager
from storage import accounts_api as q
from storage import notifications as stored_notifications
from storage.instance_api import advance_marker

UNREAD_CAP = 100  # counted up to here; shown as "99+" past 99
UNREAD = web.RequestKey("unread_notifications", int)
TABS = {"all": {}, "mentions": {"types[]": "mention"}}


async def _unread_context(request: web.Request) -> dict[str, int]:
    return {"unread": await unread(request)}


async def unread(request: web.Request) -> int:
    """How many notifications the signed-in practitioner has not seen yet (at most UNREAD_CAP);
    0 for a stranger. Looked up once per request."""
    if UNREAD not in request:
        signed = await signed_in(request)
        count = 0
        if signed is not None:
            async with request.app[DATABASE].sessions() as session:
                count = await stored_notifications.count_unread(session, signed.actor.id, cap=UNREAD_CAP)
        request[UNREAD] = count
    return request[UNREAD]


def unread_label(count: int) -> str:
    return "99+" if count > 99 else str(count)


async def index(request: web.Request) -> web.Response:
    signed = await me(request)
    cursor = page_cursor(request)
    scope = list_scope(request)
    rows, entities = await render_entities(
        request, signed.actor, lambda renderer: notifications_page(renderer, cursor, scope))
    if rows and scope.types is None and not scope.exclude:
        try:
            async with request.app[DATABASE].sessions.begin() as session:
                await advance_marker(session, signed.actor.id, "notifications", max(row.id for row in rows),
                                     request.app[CLOCK].now())
        except IntegrityError:  # another tab saved the first marker at the same moment: it stands
            pass
    requesters = {int(entity["account"]["id"]) for entity in entities if entity["type"] == "follow_request"}
    async with request.app[DATABASE].sessions() as session:
        pending = (await q.relations(session, signed.actor.id, requesters, request.app[CLOCK].now())).requested_by
    types, exclude = scope.types, scope.exclude
    tab = "all" if types is None and not exclude else "mentions" if types == {"mention"} and not exclude else ""
    return await render(request, "notifications.html", notifications=entities, tab=tab,
                            pending={str(i) for i in pending},
                            pager=pager("/notifications", cursor, [row.id for row in rows], TABS.get(tab)))


async def _answer(request: web.Request, *, accept: bool) -> web.Response:
    """Accept or reject a follow request, as POST /api/v1/follow_requests/:id/authorize or
    /reject would; one already answered (in another tab, from an app) is left as it is."""
    signed = await me(request)
    try:
        requester = await target_account(request)
        await answer_request(request.app[FEDERATION], signed.actor, requester, accept=accept)
    except ApiError:
        pass
    return redirect("/notifications")


async def authorize(request: web.Request) -> web.Response:
    return await _answer(request, accept=True)


async def reject(request: web.Request) -> web.Response:
    return await _answer(request, accept=False)


def setup(app: web.Application) -> None:
    app[TEMPLATES].globals.update(unread_label=unread_label)
    provide(app, _unread_context)
    app.router.add_get("/notifications", index)
    app.router.add_post(r"/follow_requests/{id:\d+}/authorize", authorize)
    app.router.add_post(r"/follow_requests/{id:\d+}/reject", reject)
