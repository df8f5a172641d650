"""/admin: what waits on the admins and moderators, with a link to each console page."""

from __future__ import annotations

from aiohttp import web

from federation.admin import queues
from federation.admin.queues import DELIVERIES, INBOX
from federation.peers import decisions
from federation.social.web_sessions import SignedIn
from server.appkeys import DATABASE, SETTINGS
from server.web.admin import audit, console, is_admin, page
from server.web.admin import peers, settings, users
from server.web.admin import invites as invites_console  # invitations (issue 14)
from server.web.admin import queues as queues_page
from server.web.admin import reports as reports_page
from storage import reports as report_queries
from storage.models import PeerState

LIMIT = 1000


@console(admin=False)
async def index(request: web.Request, signed: SignedIn) -> web.Response:
    async with request.app[DATABASE].sessions() as session:
        pending = len(await decisions.list_peers(session, PeerState.pending)) if is_admin(signed) else 0
        waiting = len(await queues.troubled(session, INBOX, LIMIT)) + len(await queues.troubled(session, DELIVERIES, LIMIT))
        reported = await report_queries.count_open(session)
    return await page(request, "admin/index.html", signed, pending=pending, waiting=waiting, reported=reported,
                      mode=request.app[SETTINGS].federation.mode)


def setup(app: web.Application) -> None:
    app.router.add_get("/admin", index)
    for module in (peers, queues_page, reports_page, users, audit, settings):
        module.setup(app)
    invites_console.setup(app)
