"""The practitioner's security settings: her password, and her second factor (TOTP).

A password change needs the current password (a wrong one counts as a failed sign-in, like any
guess: server/logins.py), signs every other browser out, and, if she asks (the box is ticked by
default), revokes the apps' tokens too. Setting a second factor up shows the secret as text and
as an otpauth:// URI (no QR code: no library here renders one, and no outside service may),
turns it on only with a first good code, and then shows the recovery codes once, in the answer
to that POST (never stored in the clear, so never shown again). Turning it off takes a code.
"""

from __future__ import annotations

from aiohttp import web

from federation.social import accounts, second_factor, web_sessions
from federation.social.accounts import AccountError, LoginError
from federation.social.second_factor import SecondFactorError
from server.appkeys import CLOCK, DATABASE, SETTINGS
from server.logins import login_failed, login_wait
from server.web.second_factor import SECURITY
from server.web.sessions import me, redirect
from server.web.templates import render
from storage import tokens as token_queries


async def security_page(request: web.Request, *, status: int = 200, error: str = "",
                        recovery_codes: list[str] | None = None) -> web.Response:
    signed = await me(request)
    async with request.app[DATABASE].sessions() as session:
        factor = await second_factor.factor_of(session, signed.account)
    uri = second_factor.provisioning_uri(factor.secret, f"{signed.actor.username}@{signed.actor.domain}",
                                         request.app[SETTINGS].instance.name) \
        if factor.secret and not factor.confirmed else ""
    return await render(request, "settings_security.html", status=status, error=error, factor=factor, uri=uri,
                            recovery_codes=recovery_codes or [], notice=request.query.get("done", ""))


async def _refused_if_locked(request: web.Request, username: str) -> web.Response | None:
    if wait := login_wait(request, username):
        response = await security_page(request, status=429, error="too_many")
        response.headers["Retry-After"] = str(wait)
        return response
    return None


async def change_password(request: web.Request) -> web.Response:
    signed = await me(request)
    form = await request.post()
    current, new = str(form.get("current_password", "")), str(form.get("password", ""))
    if new != str(form.get("password_confirmation", "")):
        return await security_page(request, status=422, error="mismatch")
    if refusal := await _refused_if_locked(request, signed.account.username):
        return refusal
    now = request.app[CLOCK].now()
    try:
        async with request.app[DATABASE].sessions.begin() as session:
            await accounts.change_password(session, signed.account, current, new)
            await web_sessions.end_other_sessions(session, signed.account, signed.session, at=now)
            if form.get("revoke_tokens"):
                await token_queries.revoke_account_tokens(session, signed.account.id, now)
    except LoginError:
        login_failed(request, signed.account.username)
        return await security_page(request, status=422, error="wrong_password")
    except AccountError:
        return await security_page(request, status=422, error="short_password")
    return redirect(f"{SECURITY}?done=password")


async def begin_totp(request: web.Request) -> web.Response:
    signed = await me(request)
    try:
        async with request.app[DATABASE].sessions.begin() as session:
            await second_factor.begin_enrolment(session, signed.account, at=request.app[CLOCK].now())
    except SecondFactorError:
        pass  # already on: the page says so
    return redirect(SECURITY)


async def confirm_totp(request: web.Request) -> web.Response:
    signed = await me(request)
    form = await request.post()
    if refusal := await _refused_if_locked(request, signed.account.username):
        return refusal
    try:
        async with request.app[DATABASE].sessions.begin() as session:
            codes = await second_factor.confirm_enrolment(session, signed.account, str(form.get("otp_attempt", "")),
                                                          at=request.app[CLOCK].now())
    except SecondFactorError:
        login_failed(request, signed.account.username)
        return await security_page(request, status=422, error="wrong_code")
    return await security_page(request, recovery_codes=codes)  # shown once: the answer to this POST only


async def disable_totp(request: web.Request) -> web.Response:
    signed = await me(request)
    form = await request.post()
    if refusal := await _refused_if_locked(request, signed.account.username):
        return refusal
    try:
        async with request.app[DATABASE].sessions.begin() as session:
            await second_factor.disable(session, signed.account, str(form.get("otp_attempt", "")),
                                        at=request.app[CLOCK].now())
    except SecondFactorError:
        login_failed(request, signed.account.username)
        return await security_page(request, status=422, error="wrong_code")
    return redirect(f"{SECURITY}?done=disabled")


def setup(app: web.Application) -> None:
    app.router.add_get(SECURITY, security_page)
    app.router.add_post("/settings/password", change_password)
    app.router.add_post("/settings/security/totp", begin_totp)
    app.router.add_post("/settings/security/totp/confirm", confirm_totp)
    app.router.add_post("/settings/security/totp/disable", disable_totp)
