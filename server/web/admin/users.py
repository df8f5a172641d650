"""The users page: every local user with their role and state; create one, disable or enable,
reset a password (their tokens are revoked and their browsers signed out), and, for admins,
give a role. Each is a call into federation.admin.users, as `rounds user ...`.

Moderators may create plain users and act on plain users only (`users.may_manage`); roles are
the admins'. The page also lists the live invitations with their links, for staff only
(made and revoked by server/web/admin/invites.py).
"""

from __future__ import annotations

from aiohttp import web

from federation.admin import invites, users
from federation.social.accounts import AccountError, random_password
from federation.social.web_sessions import SignedIn
from server.appkeys import CLOCK, DATABASE, SETTINGS, URLS
from server.web.admin import by, console, form_values, is_admin, page
from server.web.sessions import redirect
from storage import actors as actor_queries
from storage.models import Invitation

ACTIONS = ("disable", "enable", "reset_password", "role")


def invite_link(request: web.Request, invitation: Invitation) -> str:
    """The link a newcomer follows (server/web/invites.py)."""
    return f"{request.app[SETTINGS].public_url}/auth/invite/{invitation.code}"


async def users_view(request: web.Request, signed: SignedIn, *, status: int = 200, error: str = "",
                     password: str = "", username: str = "") -> web.Response:
    """The users page, with the answer to an action (a password shown once, an error)."""
    async with request.app[DATABASE].sessions() as session:
        rows = await actor_queries.list_accounts(session)
        live = await invites.live(session, request.app[CLOCK].now())
    listed = [(account, actor, users.role_of(account), users.may_manage(signed.account, account))
              for account, actor in rows]
    return await page(request, "admin/users.html", signed, status=status, error=error, users=listed,
                      roles=users.ROLES if is_admin(signed) else (users.USER,), password=password,
                      username=username, done=request.query.get("done", ""),
                      invitations=[(row, invite_link(request, row)) for row in live],
                      expiry_days=invites.EXPIRY_DAYS, max_uses=invites.MAX_USES)


@console(admin=False)
async def users_page(request: web.Request, signed: SignedIn) -> web.Response:
    return await users_view(request, signed)


@console(admin=False)
async def create(request: web.Request, signed: SignedIn) -> web.Response:
    values = await form_values(request)
    role = values.get("role", users.USER)
    if role != users.USER and not is_admin(signed):
        return await users_view(request, signed, status=403, error="only admins give roles")
    chosen = values.get("password", "")
    password = chosen or random_password()
    try:
        async with request.app[DATABASE].sessions.begin() as session:
            account = await users.create(session, request.app[URLS], values.get("username", ""), password,
                                         role=role, by=by(signed), at=request.app[CLOCK].now())
            name = account.username
    except AccountError as exc:
        return await users_view(request, signed, status=422, error=str(exc))
    # a password made here is shown once, on this answer, never in a URL
    return await users_view(request, signed, password="" if chosen else password, username=name)


@console(admin=False)
async def act(request: web.Request, signed: SignedIn) -> web.Response:
    """Disable, enable or reset the password of one user, or (admins) give them a role."""
    username, action = request.match_info["username"], request.match_info["action"]
    if action not in ACTIONS:
        return await page(request, "not_found.html", signed, status=404, what="such action")
    values = await form_values(request)
    now, reason = request.app[CLOCK].now(), values.get("reason", "")
    shown = ""
    try:
        async with request.app[DATABASE].sessions.begin() as session:
            account = await users.account_named(session, username)
            if action == "role":
                if not is_admin(signed) or account.id == signed.account.id:
                    raise AccountError("only an admin gives roles, and not to themself")
                await users.set_role(session, username, values.get("role", ""), by=by(signed), at=now, reason=reason)
            elif not users.may_manage(signed.account, account):
                raise AccountError(f"you may not change @{account.username}")
            elif action in ("disable", "enable"):
                await users.set_disabled(session, username, action == "disable", by=by(signed), at=now, reason=reason)
            else:
                chosen = values.get("password", "")
                shown = "" if chosen else random_password()
                await users.reset_password(session, username, chosen or shown, by=by(signed), at=now, reason=reason)
    except AccountError as exc:
        return await users_view(request, signed, status=422, error=str(exc))
    if shown:
        return await users_view(request, signed, password=shown, username=username)
    return redirect(f"/admin/users?done={action}")


def setup(app: web.Application) -> None:
    app.router.add_get("/admin/users", users_page)
    app.router.add_post("/admin/users", create)
    app.router.add_post("/admin/users/{username}/{action}", act)
