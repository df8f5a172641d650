"""The audit log, newest first, filtered by who (`actor`, part of the name), what (`action`, a
prefix: `peer.` or `user.disable`) and when (`since`, `until`: dates, UTC, `until` included),
paged with `max_id` as the client API pages."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from aiohttp import web

from federation.social.web_sessions import SignedIn
from server.appkeys import DATABASE
from server.web.admin import console, page
from storage import audit as audit_queries

PAGE = 50


def _day(value: str) -> datetime | None:
    try:
        return datetime.combine(date.fromisoformat(value), datetime.min.time(), tzinfo=UTC) if value else None
    except ValueError:
        return None


@console(admin=False)
async def audit_page(request: web.Request, signed: SignedIn) -> web.Response:
    query = request.query
    actor, action = query.get("actor", "").strip()[:255], query.get("action", "").strip()[:64]
    since, until = _day(query.get("since", "")), _day(query.get("until", ""))
    max_id = query.get("max_id", "")
    async with request.app[DATABASE].sessions() as session:
        entries = await audit_queries.filtered_entries(
            session, actor=actor, action=action, since=since, until=until + timedelta(days=1) if until else None,
            before_id=int(max_id) if max_id.isdigit() and len(max_id) <= 19 else None, limit=PAGE + 1)
    older = entries[PAGE - 1].id if len(entries) > PAGE else None
    filters = {"actor": actor, "action": action, "since": query.get("since", "") if since else "",
               "until": query.get("until", "") if until else ""}
    return await page(request, "admin/audit.html", signed, entries=entries[:PAGE], filters=filters, older=older)


def setup(app: web.Application) -> None:
    app.router.add_get("/admin/audit", audit_page)
