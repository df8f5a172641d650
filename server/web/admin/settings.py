"""The instance's settings that are safe to change while it runs: its name, description and
rules, and who may register (federation.admin.instance: stored in the database, read by the
instance API and the about page). Admins only."""

from __future__ import annotations

from aiohttp import web

from federation.admin import instance
from federation.admin.instance import ProfileError
from federation.social.web_sessions import SignedIn
from server.appkeys import CLOCK, DATABASE
from server.profile import PROFILES, profile
from server.web.admin import by, console, form_values, page
from server.web.sessions import redirect


async def _page(request: web.Request, signed: SignedIn, *, status: int = 200, error: str = "",
                values: dict[str, str] | None = None) -> web.Response:
    shown = await profile(request)
    values = values or {"name": shown.name, "description": shown.description, "rules": "\n".join(shown.rules),
                        "registrations": shown.registrations}
    return await page(request, "admin/settings.html", signed, status=status, error=error, values=values,
                      registrations=instance.REGISTRATIONS, saved="saved" in request.query)


@console(admin=True)
async def settings_page(request: web.Request, signed: SignedIn) -> web.Response:
    return await _page(request, signed)


@console(admin=True)
async def save(request: web.Request, signed: SignedIn) -> web.Response:
    values = await form_values(request)
    fields = {name: values.get(name, "") for name in ("name", "description", "rules", "registrations")}
    try:
        async with request.app[DATABASE].sessions.begin() as session:
            await instance.save(session, **fields, by=by(signed), at=request.app[CLOCK].now())
    except ProfileError as exc:
        return await _page(request, signed, status=422, error=str(exc), values=fields)
    request.app[PROFILES].forget()
    return redirect("/admin/settings?saved")


def setup(app: web.Application) -> None:
    app.router.add_get("/admin/settings", settings_page)
    app.router.add_post("/admin/settings", save)
