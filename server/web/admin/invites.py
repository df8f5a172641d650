"""Invitations from the users page: make one (a note, an expiry, a number of uses) or revoke
one; the users page lists the live ones with their links, which only staff see. Each is a
call into federation.admin.invites, as `rounds invite ...`, audited as `web:<username>`."""

from __future__ import annotations

from aiohttp import web

from federation.admin import invites
from federation.admin.invites import InviteError
from federation.social.web_sessions import SignedIn
from server.appkeys import CLOCK, DATABASE
from server.web.admin import by, console, form_values
from server.web.admin.users import users_view
from server.web.sessions import redirect

ANCHOR = "#invitations"


@console(admin=False)
async def create(request: web.Request, signed: SignedIn) -> web.Response:
    values = await form_values(request)
    try:
        expires_days = invites.choice(values.get("expires_days", ""), invites.EXPIRY_DAYS)
        max_uses = invites.choice(values.get("max_uses", ""), invites.MAX_USES)
        async with request.app[DATABASE].sessions.begin() as session:
            await invites.create(session, note=values.get("note", ""), expires_days=expires_days, max_uses=max_uses,
                                 by=by(signed), at=request.app[CLOCK].now())
    except InviteError as exc:
        return await users_view(request, signed, status=422, error=str(exc))
    return redirect(f"/admin/users?done=invite{ANCHOR}")


@console(admin=False)
async def revoke(request: web.Request, signed: SignedIn) -> web.Response:
    values = await form_values(request)
    try:
        invitation_id = int(request.match_info["id"])
        async with request.app[DATABASE].sessions.begin() as session:
            await invites.revoke(session, invitation_id, by=by(signed), at=request.app[CLOCK].now(),
                                 reason=values.get("reason", ""))
    except ValueError:
        return await users_view(request, signed, status=404, error="no such invitation")
    except InviteError as exc:
        return await users_view(request, signed, status=404, error=str(exc))
    return redirect(f"/admin/users?done=revoke{ANCHOR}")


def setup(app: web.Application) -> None:
    app.router.add_post("/admin/invites", create)
    app.router.add_post("/admin/invites/{id}/revoke", revoke)
