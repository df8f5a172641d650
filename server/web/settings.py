"""The practitioner's settings pages. So far: preferences (the pages' language, the default
visibility of a post), and the browsers signed in to the account, each of which can be signed
out from here (a lost or shared workstation).

The preferences form posts the default visibility as `source[privacy]`, parsed by the client
API's own function (PATCH /api/v1/accounts/update_credentials takes the same field), and the
pages' language as `ui_language` (the client API has no such preference: it is the web's own).
"""

from __future__ import annotations

from aiohttp import web

from federation.social import accounts, web_sessions
from server.api.auth import ApiError
from server.api.preferences import parse_preferences
from server.appkeys import CLOCK, DATABASE
from server.web.i18n import CATALOGUES, PREFERENCE
from server.web.sessions import me, redirect
from server.web.templates import render


async def sessions_page(request: web.Request) -> web.Response:
    signed = await me(request)
    async with request.app[DATABASE].sessions() as session:
        live = await web_sessions.sessions_of(session, signed.account, now=request.app[CLOCK].now())
    return await render(request, "settings_sessions.html", sessions=live, current=signed.session.id)


async def end_session(request: web.Request) -> web.Response:
    """Sign one of the practitioner's browsers out (this one too, if it is the one chosen)."""
    signed = await me(request)
    session_id = request.match_info["id"]
    if session_id.isdigit() and len(session_id) <= 19:
        async with request.app[DATABASE].sessions.begin() as session:
            await web_sessions.end_session(session, signed.account, int(session_id), at=request.app[CLOCK].now())
    return redirect("/settings/sessions")


async def preferences_page(request: web.Request, *, status: int = 200, error: str = "") -> web.Response:
    signed = await me(request)
    preferences = signed.account.preferences or {}
    return await render(request, "settings_preferences.html", status=status, error=error,
                            privacy=preferences.get("posting:default:visibility", "public"),
                            ui_language=preferences.get(PREFERENCE) or "",
                            languages=sorted(request.app[CATALOGUES]), saved="saved" in request.query)


async def save_preferences(request: web.Request) -> web.Response:
    signed = await me(request)
    form = await request.post()
    values = {name: value for name, value in form.items() if isinstance(value, str)}
    language = values.get("ui_language", "")
    try:
        changes = parse_preferences({"source[privacy]": values.get("source[privacy]", "")})
        if language and language not in request.app[CATALOGUES]:
            raise ApiError(422, "Validation failed: ui_language must be one of " + ", ".join(request.app[CATALOGUES]))
    except ApiError as exc:
        return await preferences_page(request, status=422, error=str(exc))
    async with request.app[DATABASE].sessions.begin() as session:
        await accounts.set_preferences(session, signed.account, {**changes, PREFERENCE: language or None})
    return redirect("/settings/preferences?saved")


def setup(app: web.Application) -> None:
    app.router.add_get("/settings/preferences", preferences_page)
    app.router.add_post("/settings/preferences", save_preferences)
    app.router.add_get("/settings/sessions", sessions_page)
    app.router.add_post("/settings/sessions/{id}/end", end_session)
