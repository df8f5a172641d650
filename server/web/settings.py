"""The practitioner's settings pages. So far: the browsers signed in to the account, each of
which can be signed out from here (a lost or shared workstation)."""

from __future__ import annotations

from aiohttp import web

from federation.social import web_sessions
from server.appkeys import CLOCK, DATABASE
from server.web.sessions import me, redirect
from server.web.templates import render


async def sessions_page(request: web.Request) -> web.Response:
    signed = await me(request)
    async with request.app[DATABASE].sessions() as session:
        live = await web_sessions.sessions_of(session, signed.account, now=request.app[CLOCK].now())
    response = await render(request, "settings_sessions.html", sessions=live, current=signed.session.id)
    response.headers["Cache-Control"] = "no-store"
    return response


async def end_session(request: web.Request) -> web.Response:
    """Sign one of the practitioner's browsers out (this one too, if it is the one chosen)."""
    signed = await me(request)
    session_id = request.match_info["id"]
    if session_id.isdigit() and len(session_id) <= 19:
        async with request.app[DATABASE].sessions.begin() as session:
            await web_sessions.end_session(session, signed.account, int(session_id), at=request.app[CLOCK].now())
    return redirect("/settings/sessions")


def setup(app: web.Application) -> None:
    app.router.add_get("/settings/sessions", sessions_page)
    app.router.add_post("/settings/sessions/{id}/end", end_session)
