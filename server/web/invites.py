"""/auth/invite/{code}: a newcomer's sign-up with an invitation link staff made.

A live link shows a form (username, password, its confirmation); a good one creates the
account, counts the use and signs this browser in, all in one transaction, then sends it home.
A dead link answers a page saying why: 404 for a code that names nothing, 410 for one revoked,
expired or used up; nothing is written. The rules are federation.admin.invites' (staff-made
links work whatever the registrations setting); an unknown code counts as a failed login of the
client address (server/logins.py), so codes cannot be guessed quickly.
"""

from __future__ import annotations

from aiohttp import web

from federation.admin import invites
from federation.admin.invites import InvitationRefused
from federation.social.accounts import AccountError
from server.appkeys import CLOCK, DATABASE, URLS
from server.logins import guess_failed, guess_wait
from server.web.sessions import open_browser_session, open_web_session
from server.web.templates import render

PATH = "/auth/invite/{code}"


async def _form(request: web.Request, *, status: int = 200, error: str = "", username: str = "") -> web.Response:
    return await render(request, "invite.html", status=status, error=error, username=username,
                        code=request.match_info["code"])


async def _gone(request: web.Request, reason: str) -> web.Response:
    if reason == invites.UNKNOWN:
        guess_failed(request)
    response = await render(request, "invite_gone.html", status=404 if reason == invites.UNKNOWN else 410,
                            reason=reason)
    response.headers["Cache-Control"] = "no-store"
    return response


async def _too_many(request: web.Request, wait: int) -> web.Response:
    response = await _form(request, status=429, error="too_many")
    response.headers["Retry-After"] = str(wait)
    return response


async def invite_page(request: web.Request) -> web.Response:
    if wait := guess_wait(request):
        return await _too_many(request, wait)
    try:
        async with request.app[DATABASE].sessions() as session:
            await invites.usable(session, request.match_info["code"], request.app[CLOCK].now())
    except InvitationRefused as exc:
        return await _gone(request, exc.reason)
    return await _form(request)


async def sign_up(request: web.Request) -> web.Response:
    """Create the account (the form's token was checked by server/web/forms.py), open a session."""
    if wait := guess_wait(request):
        return await _too_many(request, wait)
    form = await request.post()
    username = str(form.get("username", "")).strip()
    password, confirmation = str(form.get("password", "")), str(form.get("password_confirmation", ""))
    code, now = request.match_info["code"], request.app[CLOCK].now()
    try:
        async with request.app[DATABASE].sessions.begin() as session:
            if password != confirmation:  # after the link's check: a dead link says so first
                await invites.usable(session, code, now)
                raise AccountError("the password and its confirmation differ")
            account = await invites.sign_up(session, request.app[URLS], code, username, password, at=now)
            name = account.username
            token = await open_web_session(session, request, account)
    except InvitationRefused as exc:
        return await _gone(request, exc.reason)
    except AccountError as exc:
        return await _form(request, status=422, error=str(exc), username=username)
    return open_browser_session(request, name, token)


def setup(app: web.Application) -> None:
    app.router.add_get(PATH, invite_page)
    app.router.add_post(PATH, sign_up)
