"""OAuth 2 endpoints: /oauth/authorize (a login and consent page), /oauth/token and /oauth/revoke.

Where a request goes wrong decides how it fails. Until the client and its redirect_uri are known
to match a registration, nothing is ever redirected: the person sees a 400 page, so a forged link
cannot bounce them (or a code) to an attacker's address. After that, refusals go back to the app
as `error=` redirects, the way RFC 6749 says. The form is protected by a double-submit token: a
random value in an HttpOnly, SameSite cookie that the form must echo. Failed logins are counted
by server/logins.py, shared with the web sign-in form, and answered 429 past the limit.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus, urlencode, urlsplit, urlunsplit

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from federation.social import accounts, oauth, second_factor
from federation.social.accounts import LoginError
from federation.social.oauth import OAuthError
from server.api.auth import ApiError
from server.api.params import params
from server.appkeys import CLOCK, DATABASE, SETTINGS
from server.headers import allow_form_target
from server.logins import login_failed, login_wait
from server.responses import json_response
from server.web.templates import render
from storage import tokens as token_queries
from storage.models import OAuthApp

CSRF_COOKIE = "rounds_oauth_csrf"  # "__Host-" prefixed over https, so no sibling host can set it
CSRF_FIELD = "csrf_token"
GRANTS = ("authorization_code", "client_credentials", "password")
STATUS = {"invalid_client": 401, "unauthorized_client": 403}
PAGE_HEADERS = {"Cache-Control": "no-store"}  # server/headers.py adds the page policy
SCOPE_WORDS = {
    "read": "read everything in your account", "write": "post and change anything in your account",
    "follow": "follow, block and mute accounts", "push": "receive push notifications",
    "profile": "see your profile, and nothing else", "admin:read": "read all data on this server (admins)",
    "admin:write": "moderate this server (admins)",
}
GRANULAR_WORDS = {"read": "read your", "write": "change your", "admin:read": "read the server's",
                  "admin:write": "manage the server's"}


def _text(values: dict[str, Any], name: str) -> str:
    value = values.get(name)
    return value.strip() if isinstance(value, str) else ""


def _with_query(uri: str, **values: str) -> str:
    parts = urlsplit(uri)
    extra = urlencode({k: v for k, v in values.items() if v})
    return urlunsplit(parts._replace(query=f"{parts.query}&{extra}" if parts.query else extra))


def _scope_lines(scopes: str) -> list[tuple[str, str]]:
    lines = []
    for scope in scopes.split():
        head, _, tail = scope.rpartition(":")
        words = SCOPE_WORDS.get(scope) or f"{GRANULAR_WORDS.get(head, head)} {tail.replace('_', ' ')}"
        lines.append((scope, words))
    return lines


# /oauth/authorize --------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuthorizeRequest:
    app: OAuthApp
    redirect_uri: str
    scopes: str
    state: str
    code_challenge: str

    def form_fields(self) -> dict[str, str]:
        fields = {"response_type": "code", "client_id": self.app.client_id, "redirect_uri": self.redirect_uri,
                  "scope": self.scopes, "state": self.state, "code_challenge": self.code_challenge,
                  "code_challenge_method": "S256" if self.code_challenge else ""}
        return {name: value for name, value in fields.items() if value}


class TooManyLogins(Exception):
    """Over the failed-login limit; `wait` is in seconds."""

    def __init__(self, wait: int) -> None:
        super().__init__(f"too many failed sign-ins; try again in {wait} seconds")
        self.wait = wait


class PageRefusal(Exception):
    """The request cannot go back to the app: show the person a page."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class AppRefusal(Exception):
    """A refusal the app should hear about, at its verified redirect_uri."""

    def __init__(self, redirect_uri: str, state: str, error: str, description: str) -> None:
        super().__init__(description)
        self.redirect_uri, self.state, self.error = redirect_uri, state, error


async def _page(request: web.Request, template: str, *, status: int = 200, **context) -> web.Response:
    response = await render(request, template, status=status, **context)
    response.headers.update(PAGE_HEADERS)
    return response


async def _refused(request: web.Request, exc: PageRefusal | AppRefusal) -> web.Response:
    if isinstance(exc, AppRefusal) and exc.redirect_uri != oauth.OOB_REDIRECT_URI:
        location = _with_query(exc.redirect_uri, error=exc.error, error_description=str(exc), state=exc.state)
        return web.Response(status=302, headers={"Location": location, "Cache-Control": "no-store"})
    if isinstance(exc, AppRefusal) and exc.error == "access_denied":
        return await _page(request, "oauth_authorize.html", denied=True)
    return await _page(request, "oauth_authorize.html", status=getattr(exc, "status", 400), error=str(exc))


async def _authorize_request(request: web.Request, values: dict[str, Any]) -> AuthorizeRequest:
    client_id = _text(values, "client_id")
    async with request.app[DATABASE].sessions() as session:
        app = await token_queries.app_by_client_id(session, client_id) if client_id else None
    if app is None:
        raise PageRefusal(400, "This link names an app that is not registered here (unknown client_id).")
    try:
        redirect_uri = oauth.check_redirect_uri(app, _text(values, "redirect_uri"))
    except OAuthError:
        raise PageRefusal(400, f"The redirect_uri in this link is not one that {app.name} registered, "
                               "so this server will not send you there.") from None
    state = values.get("state") if isinstance(values.get("state"), str) else ""
    if _text(values, "response_type") != "code":
        raise AppRefusal(redirect_uri, state, "unsupported_response_type", "response_type must be code")
    try:
        scopes = oauth.requested_scopes(app, _text(values, "scope") or _text(values, "scopes"))
        challenge = _text(values, "code_challenge")
        oauth.check_code_challenge(challenge, _text(values, "code_challenge_method"))
    except OAuthError as exc:
        raise AppRefusal(redirect_uri, state, exc.error, str(exc)) from None
    return AuthorizeRequest(app, redirect_uri, scopes, state, challenge)


async def _login_form(request: web.Request, auth: AuthorizeRequest, csrf: str, *, status: int = 200,
                      error: str = "", username: str = "") -> web.Response:
    response = await _page(request, "oauth_login.html", status=status, app=auth.app, fields=auth.form_fields(),
                           scopes=_scope_lines(auth.scopes), redirect_uri=auth.redirect_uri, csrf_token=csrf,
                           error=error, username=username)
    if auth.redirect_uri != oauth.OOB_REDIRECT_URI:
        allow_form_target(response, auth.redirect_uri)  # approving or denying redirects there
    https = _https(request)
    response.set_cookie(_csrf_cookie(request), csrf, httponly=True, samesite="Lax", max_age=3600,
                        path="/" if https else "/oauth", secure=https)
    return response


def _https(request: web.Request) -> bool:
    return request.app[SETTINGS].public_url.startswith("https:")


def _csrf_cookie(request: web.Request) -> str:
    return f"__Host-{CSRF_COOKIE}" if _https(request) else CSRF_COOKIE


def _same(a: str, b: str) -> bool:
    return secrets.compare_digest(a.encode("utf-8", "surrogatepass"), b.encode("utf-8", "surrogatepass"))


async def authorize_page(request: web.Request) -> web.Response:
    try:
        auth = await _authorize_request(request, dict(request.query))
    except (PageRefusal, AppRefusal) as exc:
        return await _refused(request, exc)
    csrf = request.cookies.get(_csrf_cookie(request), "")
    return await _login_form(request, auth, csrf if len(csrf) == 43 else secrets.token_urlsafe(32))


async def authorize_submit(request: web.Request) -> web.Response:
    try:
        values = await params(request)
    except ApiError as exc:
        return await _page(request, "oauth_authorize.html", status=400, error=str(exc))
    csrf = request.cookies.get(_csrf_cookie(request), "")
    if not csrf or not _same(csrf, _text(values, CSRF_FIELD)):
        return await _page(request, "oauth_authorize.html", status=403,
                           error="This form has expired or did not come from this server. Go back to the app "
                                 "and start signing in again.")
    try:
        auth = await _authorize_request(request, values)
        if _text(values, "decision") == "deny":
            raise AppRefusal(auth.redirect_uri, auth.state, "access_denied", "the user denied access")
    except (PageRefusal, AppRefusal) as exc:
        return await _refused(request, exc)
    username, password = _text(values, "username"), values.get("password")
    if wait := login_wait(request, username):
        response = await _login_form(request, auth, csrf, status=429, username=username,
                                     error=f"Too many failed sign-ins. Try again in {wait} seconds.")
        response.headers["Retry-After"] = str(wait)
        return response
    now = request.app[CLOCK].now()
    try:
        async with request.app[DATABASE].sessions.begin() as session:
            account = await accounts.check_login(session, username, password if isinstance(password, str) else "",
                                                 at=now)
            if await second_factor.enrolled(session, account) and not await second_factor.check_code(
                    session, account, _text(values, "otp_attempt"), at=now):
                raise LoginError("wrong or missing code from the authenticator app")
            code = await oauth.issue_code(session, auth.app, account, redirect_uri=auth.redirect_uri,
                                             scopes=auth.scopes, code_challenge=auth.code_challenge, at=now)
    except LoginError as exc:
        if not exc.disabled:
            login_failed(request, username)
        return await _login_form(request, auth, csrf, status=400, error=f"Could not sign in: {exc}.",
                                 username=username)
    if auth.redirect_uri == oauth.OOB_REDIRECT_URI:
        return await _page(request, "oauth_authorize.html", app=auth.app, code=code)
    location = _with_query(auth.redirect_uri, code=code, state=auth.state)
    return web.Response(status=302, headers={"Location": location, "Cache-Control": "no-store"})


# /oauth/token and /oauth/revoke ------------------------------------------------------------------


def _oauth_error(error: str, description: str, *, headers: dict[str, str] | None = None) -> web.Response:
    status = STATUS.get(error, 400)
    if status == 401:
        headers = (headers or {}) | {"WWW-Authenticate": 'Basic realm="oauth"'}
    return json_response({"error": error, "error_description": description}, status=status,
                         headers=(headers or {}) | {"Cache-Control": "no-store"})


def _client_credentials(request: web.Request, values: dict[str, Any]) -> tuple[str, str]:
    """(client_id, client_secret) from HTTP Basic (RFC 6749 2.3.1) or else the body."""
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return _text(values, "client_id"), _text(values, "client_secret")
    try:
        client_id, sep, secret = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        sep = ""
    if not sep:
        raise OAuthError("invalid_client", "the Basic authorization header is malformed")
    return unquote_plus(client_id), unquote_plus(secret)


async def _password_token(
    request: web.Request, session: AsyncSession, app: OAuthApp, values: dict[str, Any]
) -> accounts.NewToken:
    username = _text(values, "username")
    if wait := login_wait(request, username):
        raise TooManyLogins(wait)
    scopes = oauth.requested_scopes(app, _text(values, "scope"))
    password = values.get("password")
    now = request.app[CLOCK].now()
    try:
        account = await accounts.check_login(session, username, password if isinstance(password, str) else "", at=now)
    except LoginError as exc:
        if not exc.disabled:
            login_failed(request, username)
        raise OAuthError("invalid_grant", str(exc)) from None
    if await second_factor.enrolled(session, account):  # a code cannot travel with this grant
        raise OAuthError("invalid_grant", "this account has a second factor: sign in through the browser "
                                          "(the authorization code flow)")
    return await oauth.issue_token(session, app, account, scopes, at=now)


async def token(request: web.Request) -> web.Response:
    now = request.app[CLOCK].now()
    try:
        values = await params(request)
    except ApiError as exc:
        return _oauth_error("invalid_request", str(exc))
    grant = _text(values, "grant_type")
    try:
        if grant not in GRANTS:
            raise OAuthError("unsupported_grant_type", f"grant_type must be one of {', '.join(GRANTS)}")
        if grant == "password" and not request.app[SETTINGS].api.password_grant:
            raise OAuthError("unsupported_grant_type",
                             "the password grant is turned off on this server; use the authorization code flow")
        client_id, client_secret = _client_credentials(request, values)
        async with request.app[DATABASE].sessions.begin() as session:
            app = await oauth.authenticate_client(session, client_id, client_secret)
            if grant == "authorization_code":
                issued = await oauth.redeem_code(
                    session, app, _text(values, "code"), redirect_uri=_text(values, "redirect_uri"),
                    code_verifier=_text(values, "code_verifier"), at=now)
            elif grant == "client_credentials":
                issued = await oauth.issue_token(session, app, None, oauth.requested_scopes(
                    app, _text(values, "scope")), at=now)
            else:
                issued = await _password_token(request, session, app, values)
    except OAuthError as exc:
        return _oauth_error(exc.error, str(exc))
    except TooManyLogins as exc:
        return json_response({"error": "too_many_attempts", "error_description": str(exc)}, status=429,
                             headers={"Retry-After": str(exc.wait), "Cache-Control": "no-store"})
    return json_response({"access_token": issued.token, "token_type": "Bearer", "scope": issued.scopes,
                          "created_at": int(now.timestamp())},
                         headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


async def revoke(request: web.Request) -> web.Response:
    try:
        values = await params(request)
    except ApiError as exc:
        return _oauth_error("invalid_request", str(exc))
    try:
        client_id, client_secret = _client_credentials(request, values)
        async with request.app[DATABASE].sessions.begin() as session:
            app = await oauth.authenticate_client(session, client_id, client_secret)
            if not _text(values, "token"):
                raise OAuthError("invalid_request", "token can't be blank")
            await oauth.revoke_app_token(session, app, _text(values, "token"), at=request.app[CLOCK].now())
    except OAuthError as exc:
        return _oauth_error(exc.error, str(exc))
    return json_response({})


def setup(app: web.Application) -> None:
    for path in ("/oauth/authorize", "/oauth/authorize/"):
        app.router.add_get(path, authorize_page)
        app.router.add_post(path, authorize_submit)
    for path, handler in (("/oauth/token", token), ("/oauth/revoke", revoke)):
        app.router.add_post(path, handler)
        app.router.add_post(path + "/", handler)
