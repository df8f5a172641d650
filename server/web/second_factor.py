"""The second factor at sign-in, and the rule that can make it mandatory.

After a right password, an account with a second factor gets a session that signs no one in
yet (federation.social.web_sessions: pending); this page takes its code (`otp_attempt`, as
Mastodon's form names it), a TOTP code or a recovery code, and only then opens the real
session, under a new token. A wrong code counts as a failed sign-in for the username and the
address (server/logins.py), so guessing codes is limited exactly as guessing passwords is.

With [web] require_second_factor, `enrolment_guard` sends a signed-in practitioner without a
second factor to the security settings before any other page or form.
"""

from __future__ import annotations

from aiohttp import web

from federation.social import second_factor, web_sessions
from server.access import COOKIE_PAGES, declared
from server.appkeys import CLOCK, DATABASE, SETTINGS
from server.client_address import client_address
from server.logins import login_failed, login_wait
from server.web.forms import exempt
from server.web.sessions import SECOND_FACTOR, SIGN_IN, open_browser_session, redirect, session_token, signed_in
from server.web.templates import render

SECURITY = "/settings/security"
# what a practitioner who must set up a second factor may still reach
ENROLMENT_ROUTES = frozenset({SECURITY, "/settings/security/totp", "/settings/security/totp/confirm",
                              "/settings/security/totp/disable", "/settings/password", "/auth/sign_out", SIGN_IN, SECOND_FACTOR})


async def _form(request: web.Request, *, status: int = 200, error: str = "") -> web.Response:
    return await render(request, "sign_in_code.html", status=status, error=error)


async def code_page(request: web.Request) -> web.Response:
    async with request.app[DATABASE].sessions() as session:
        pending = await web_sessions.pending_sign_in(session, session_token(request), now=request.app[CLOCK].now())
    if pending is None:
        return redirect(SIGN_IN)
    return await _form(request)


async def submit_code(request: web.Request) -> web.Response:
    """Check the code of a sign-in its password began; open the session if it is right."""
    form = await request.post()
    code, now = str(form.get("otp_attempt", "")), request.app[CLOCK].now()
    async with request.app[DATABASE].sessions() as session:
        pending = await web_sessions.pending_sign_in(session, session_token(request), now=now)
    if pending is None:
        return redirect(SIGN_IN)
    username = pending[1].username
    if wait := login_wait(request, username):
        response = await _form(request, status=429, error="too_many")
        response.headers["Retry-After"] = str(wait)
        return response
    async with request.app[DATABASE].sessions.begin() as session:
        pending = await web_sessions.pending_sign_in(session, session_token(request), now=now)
        proven = pending is not None and await second_factor.check_code(session, pending[1], code, at=now)
        if proven:
            await web_sessions.close_session(session, session_token(request), at=now)
            token = await web_sessions.open_session(session, pending[1], at=now,
                                                    address=client_address(request) or "",
                                                    user_agent=request.headers.get("User-Agent", ""))
    if pending is None:
        return redirect(SIGN_IN)
    if not proven:
        login_failed(request, username)
        return await _form(request, status=400, error="wrong")
    return open_browser_session(request, username, token)


def _guarded(request: web.Request) -> bool:
    """Whether this request is a page or form of the signed-in interface, other than those
    that set the second factor up."""
    resource = request.match_info.route.resource
    if resource is None or resource.canonical in ENROLMENT_ROUTES or request.match_info.http_exception:
        return False
    if request.method in ("GET", "HEAD"):
        return declared(resource) in COOKIE_PAGES  # every page a session cookie opens, the console's too
    return not exempt(request)


@web.middleware
async def enrolment_guard(request: web.Request, handler) -> web.StreamResponse:
    if request.app[SETTINGS].web.require_second_factor and _guarded(request):
        me = await signed_in(request)
        if me is not None:
            async with request.app[DATABASE].sessions() as session:
                if not await second_factor.enrolled(session, me.account):
                    return redirect(SECURITY)
    return await handler(request)


def setup(app: web.Application) -> None:
    app.router.add_get(SECOND_FACTOR, code_page)
    app.router.add_post(SECOND_FACTOR, submit_code)
    app.middlewares.append(enrolment_guard)

