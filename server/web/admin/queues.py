"""The queues page: inbox items and deliveries that failed or died, with why, and a button to
retry or discard each (federation.admin.queues, as `rounds queue retry|discard`)."""

from __future__ import annotations

from aiohttp import web

from federation.admin import queues
from federation.admin.queues import DELIVERIES, INBOX, QueueError
from federation.social.web_sessions import SignedIn
from server.appkeys import CLOCK, DATABASE
from server.web.admin import by, console, page
from server.web.sessions import redirect

LIMIT = 200
ACTIONS = {"retry": queues.retry, "discard": queues.discard}


async def _page(request: web.Request, signed: SignedIn, *, status: int = 200, error: str = "") -> web.Response:
    async with request.app[DATABASE].sessions() as session:
        inbox = await queues.troubled(session, INBOX, LIMIT)
        deliveries = await queues.troubled(session, DELIVERIES, LIMIT)
    return await page(request, "admin/queues.html", signed, status=status, error=error, inbox=inbox,
                      deliveries=deliveries, done=request.query.get("done", ""))


@console(admin=False)
async def queues_page(request: web.Request, signed: SignedIn) -> web.Response:
    return await _page(request, signed)


@console(admin=False)
async def act(request: web.Request, signed: SignedIn) -> web.Response:
    queue, item, action = (request.match_info[name] for name in ("queue", "id", "action"))
    if queue not in queues.QUEUES or action not in ACTIONS or not item.isdigit() or len(item) > 19:
        return await _page(request, signed, status=404, error=f"no such item: {item}")
    try:
        async with request.app[DATABASE].sessions.begin() as session:
            await ACTIONS[action](session, queue, [int(item)], by=by(signed), at=request.app[CLOCK].now())
    except QueueError as exc:
        return await _page(request, signed, status=409, error=str(exc))
    return redirect(f"/admin/queues?done={action}")


def setup(app: web.Application) -> None:
    app.router.add_get("/admin/queues", queues_page)
    app.router.add_post("/admin/queues/{queue}/{id}/{action}", act)
