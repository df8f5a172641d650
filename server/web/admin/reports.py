"""The reports page: the reports no moderator has resolved yet, oldest first (a practitioner's,
from any app, and peers' Flags), each with who reported whom, the posts named, the comment,
and a button to mark it resolved (federation.admin.reports.resolve, audited)."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from federation.admin import reports
from federation.social.web_sessions import SignedIn
from server.appkeys import CLOCK, DATABASE
from server.web.admin import by, console, page
from server.web.sessions import redirect
from storage.ids import parse_id
from storage import actors as actor_queries
from storage import reports as queries
from storage.models import Actor, Object, Report
from storage.posts import post_by_id

LIMIT = 200


@dataclass(frozen=True)
class Listed:
    report: Report
    reporter: Actor | None
    target: Actor | None
    posts: list[Object]


async def _page(request: web.Request, signed: SignedIn, *, status: int = 200, error: str = "") -> web.Response:
    async with request.app[DATABASE].sessions() as session:
        listed = [Listed(report, await actor_queries.actor_by_id(session, report.reporter_id),
                         await actor_queries.actor_by_id(session, report.target_id),
                         [post for post in [await post_by_id(session, i) for i in report.post_ids] if post is not None])
                  for report in await queries.open_reports(session, LIMIT)]
    return await page(request, "admin/reports.html", signed, status=status, error=error, reports=listed,
                      done=request.query.get("done", ""))


@console(admin=False)
async def reports_page(request: web.Request, signed: SignedIn) -> web.Response:
    return await _page(request, signed)


@console(admin=False)
async def resolve(request: web.Request, signed: SignedIn) -> web.Response:
    raw = request.match_info["id"]
    async with request.app[DATABASE].sessions.begin() as session:
        report = await queries.report_by_id(session, report_id) if (report_id := parse_id(raw)) is not None else None
        resolved = report is not None and await reports.resolve(session, report, by=by(signed),
                                                               at=request.app[CLOCK].now())
    if report is None:
        return await _page(request, signed, status=404, error=f"no such report: {raw}")
    if not resolved:
        return await _page(request, signed, status=409, error=f"report {raw} is resolved already")
    return redirect("/admin/reports?done=resolved")


def setup(app: web.Application) -> None:
    app.router.add_get("/admin/reports", reports_page)
    app.router.add_post("/admin/reports/{id}/resolve", resolve)
