"""The admin console, under /admin: server-rendered pages whose every action is a plain POST
form with the form token, so it works without JavaScript.

The decision to know: who may do what is decided twice, by the same roles. The read rule
(server/access.py ROUTES: Reads.moderator_page, Reads.admin_page) guards every GET; `console`
guards every POST, since the read rule does not look at writes. Moderators look after users
and queues and read the audit log; admins also decide about peers and the instance's settings,
and give roles. Each action is one call into federation (the same as the CLI's and the admin
API's), which writes its audit entry in the same transaction, as `web:<username>`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps

from aiohttp import web

from federation.social.access import Reader
from federation.social.web_sessions import SignedIn
from server.web.sessions import me, session_reader
from server.web.templates import render

READS = frozenset({"GET", "HEAD"})
Handler = Callable[[web.Request, SignedIn], Awaitable[web.StreamResponse]]


def by(signed: SignedIn) -> str:
    """Who the audit log says made a change from these pages."""
    return f"web:{signed.account.username}"


def is_admin(signed: SignedIn) -> bool:
    return session_reader(signed) is Reader.admin


def console(*, admin: bool) -> Callable[[Handler], Callable[[web.Request], Awaitable[web.StreamResponse]]]:
    """A console handler, for admins only or for moderators too. A GET was let in by the read
    rule (its route's Reads.admin_page or Reads.moderator_page); a POST is checked here, by the
    same roles: a stranger is sent to sign in, a signed-in user without the role gets the
    not-found page, as the read rule answers a GET."""
    def wrap(handler: Handler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        @wraps(handler)
        async def guarded(request: web.Request) -> web.StreamResponse:
            signed = await me(request)
            reader = session_reader(signed)
            if request.method in READS:  # the read rule let this reader in (server/access.py)
                return await handler(request, signed)
            if reader is not Reader.admin and (admin or reader is not Reader.moderator):
                return await render(request, "not_found.html", status=404, what="such page")
            return await handler(request, signed)
        return guarded
    return wrap


async def page(request: web.Request, name: str, signed: SignedIn, *, status: int = 200, **context) -> web.Response:
    """Render a console page: never cached, with the console's tabs for this role."""
    return await render(request, name, status=status, console_admin=is_admin(signed), **context)


async def form_values(request: web.Request) -> dict[str, str]:
    """The form's text fields (files are read by the handler that expects one)."""
    form = await request.post()
    return {name: value.strip() if name != "password" else value for name, value in form.items()
            if isinstance(value, str)}
