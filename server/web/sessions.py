"""Signing in and out of the web pages, and who a request's session cookie signs in.

The cookie holds an opaque token (federation.social.web_sessions keeps its digest and says
whether it is live); it is HttpOnly, SameSite=Lax, and Secure with a `__Host-` name when the
public URL is https, so no script and no sibling host can read or plant it. Failed sign-ins are
counted with the OAuth form's and the password grant's (server/logins.py). An account with a
second factor gets, for its password, a session that signs no one in until its code arrives
(server/web/second_factor.py).
"""

from __future__ import annotations

import logging

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from federation.social import accounts, second_factor, web_sessions
from federation.social.accounts import LoginError
from federation.social.access import Reader
from federation.social.web_sessions import SignedIn
from server.appkeys import CLOCK, DATABASE, SETTINGS
from server.client_address import client_address
from server.logins import login_failed, login_wait
from server.web.templates import render
from storage.models import Account

log = logging.getLogger(__name__)

SESSION_COOKIE = "rounds_session"
SIGNED_IN = web.RequestKey("signed_in", object)  # SignedIn, or None once looked up and absent
HOME = "/home"
SIGN_IN = "/auth/sign_in"
SECOND_FACTOR = "/auth/second_factor"  # the code after the password (server/web/second_factor.py)


def https(request: web.Request) -> bool:
    return request.app[SETTINGS].public_url.startswith("https:")


def cookie_name(request: web.Request, name: str) -> str:
    """`name`, prefixed `__Host-` over https: such a cookie must be Secure, for this host, path /."""
    return f"__Host-{name}" if https(request) else name


def set_cookie(request: web.Request, response: web.StreamResponse, name: str, value: str, *,
               max_age: int | None = None) -> None:
    """Set one of the web pages' cookies, with the attributes every one of them has."""
    response.set_cookie(cookie_name(request, name), value, httponly=True, samesite="Lax", secure=https(request),
                        path="/", max_age=max_age)


def session_token(request: web.Request) -> str:
    return request.cookies.get(cookie_name(request, SESSION_COOKIE), "")


async def signed_in(request: web.Request) -> SignedIn | None:
    """Who the request's session cookie signs in, if anyone; looked up once per request."""
    if SIGNED_IN not in request:
        token, now = session_token(request), request.app[CLOCK].now()
        found = await request.app[DATABASE].read(lambda session: web_sessions.signed_in(session, token, now)) \
            if token else None
        if found is not None:
            await accounts.note_activity(request.app[DATABASE], found.account, now)
        request[SIGNED_IN] = found
    return request[SIGNED_IN]


async def page_context(request: web.Request) -> dict[str, SignedIn | None]:
    """What every template reads: `me`, who is signed in (None for a stranger)."""
    return {"me": await signed_in(request)}


def session_reader(found: SignedIn) -> Reader:
    """Who a signed-in browser reads as, for the read rule: its account's role."""
    account = found.account
    return Reader.admin if account.is_admin else Reader.moderator if account.is_moderator else Reader.user


async def me(request: web.Request) -> SignedIn:
    """The signed-in practitioner, for a page the read rule opens only to a live session
    (Reads.signed_in_page), or a form's POST (then a stranger is sent to the sign-in form)."""
    found = await signed_in(request)
    if found is None:
        raise web.HTTPSeeOther(SIGN_IN)
    return found


async def _form(request: web.Request, *, status: int = 200, error: str = "", username: str = "") -> web.Response:
    return await render(request, "sign_in.html", status=status, error=error, username=username)


async def sign_in_page(request: web.Request) -> web.Response:
    if await signed_in(request) is not None:
        return redirect(HOME)
    return await _form(request)


async def sign_in(request: web.Request) -> web.Response:
    """Check the password (the form's token was checked by server/web/forms.py) and open a session."""
    form = await request.post()
    username, password = str(form.get("username", "")).strip(), str(form.get("password", ""))
    if wait := login_wait(request, username):
        response = await _form(request, status=429, username=username, error="too_many")
        response.headers["Retry-After"] = str(wait)
        return response
    now = request.app[CLOCK].now()
    try:
        async with request.app[DATABASE].sessions.begin() as session:
            account = await accounts.check_login(session, username, password, at=now)
            pending = await second_factor.enrolled(session, account)
            token = await open_web_session(session, request, account, pending_second_factor=pending)
    except LoginError as exc:
        if not exc.disabled:
            login_failed(request, username)
        return await _form(request, status=400, username=username, error="disabled" if exc.disabled else "wrong")
    if pending:
        response = redirect(SECOND_FACTOR)
        set_cookie(request, response, SESSION_COOKIE, token,
                   max_age=int(web_sessions.PENDING_LIFETIME.total_seconds()))
        return response
    return open_browser_session(request, account.username, token)


async def open_web_session(session: AsyncSession, request: web.Request, account: Account, *,
                           pending_second_factor: bool = False) -> str:
    """Open a web session for `account` from this browser (its address and user agent, at the
    clock's now), in the caller's transaction; its token, for `open_browser_session`."""
    return await web_sessions.open_session(session, account, at=request.app[CLOCK].now(),
                                           address=client_address(request) or "",
                                           user_agent=request.headers.get("User-Agent", ""),
                                           pending_second_factor=pending_second_factor)


def open_browser_session(request: web.Request, username: str, token: str) -> web.Response:
    """The answer that signs this browser in with the new session `token`: home, with its cookie."""
    log.info("web sign-in for %s from %s", username, client_address(request))
    response = redirect(HOME)
    set_cookie(request, response, SESSION_COOKIE, token, max_age=int(web_sessions.LIFETIME.total_seconds()))
    return response


async def sign_out(request: web.Request) -> web.Response:
    token = session_token(request)
    if token:
        async with request.app[DATABASE].sessions.begin() as session:
            await web_sessions.close_session(session, token, at=request.app[CLOCK].now())
    response = redirect(SIGN_IN)
    set_cookie(request, response, SESSION_COOKIE, "", max_age=0)
    return response


def redirect(location: str) -> web.Response:
    """303 See Other: after a form's POST the browser GETs `location`."""
    return web.Response(status=303, headers={"Location": location, "Cache-Control": "no-store"})


def setup(app: web.Application) -> None:
    app.router.add_get(SIGN_IN, sign_in_page)
    app.router.add_post(SIGN_IN, sign_in)
    app.router.add_post("/auth/sign_out", sign_out)
