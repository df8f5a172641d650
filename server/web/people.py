"""The signed-in practitioner's pages about people: an account's profile (local or remote, by
the client API's account id) with its posts, its followers and whom it follows, and the Follow,
Unfollow and cancel-request buttons. Notifications (server/web/notifications.py) and search
(server/web/search.py) are set up from here too.

The one decision: nothing here decides anything the client API decides. The account, the posts
this reader may see, the relationship and following or unfollowing are the functions
server/api/accounts.py's handlers call (`target_account`, `visible_statuses`, `relationship`,
`follow_account`, `unfollow_account`), so a page and an app never disagree.
"""

from __future__ import annotations

from aiohttp import web

from server.api.accounts import (
    follow_account,
    relationship,
    target_account,
    unfollow_account,
    visible_statuses,
)
from server.api.auth import ApiError
from server.api.entities import render as render_entities
from server.appkeys import DATABASE, FEDERATION, TEMPLATES
from server.web import notifications, search
from server.web.sessions import me, redirect
from server.web.templates import render
from server.web.timelines import page_cursor, pager
from storage import accounts_api as q
from storage.models import Actor


async def _account_or_none(request: web.Request) -> Actor | None:
    try:
        return await target_account(request)
    except ApiError:
        return None


async def _not_found(request: web.Request) -> web.Response:
    return await render(request, "not_found.html", status=404, what="such account")


async def profile_page(request: web.Request, *, status: int = 200, error: str = "") -> web.Response:
    """An account's header, bio, fields and counts, the viewer's relationship with it and a page
    of its posts the viewer may see."""
    signed = await me(request)
    target = await _account_or_none(request)
    if target is None:
        return await _not_found(request)
    viewer, cursor = signed.actor, page_cursor(request)
    async with request.app[DATABASE].sessions() as session:
        items = await visible_statuses(session, target, viewer, cursor)
        account, statuses = await render_entities(
            request, viewer, lambda renderer: (renderer.account(target), renderer.statuses(items)), session)
    related = await relationship(request, viewer, target.id) if target.id != viewer.id else None
    return await render(
        request, "account.html", status=status, account=account, relationship=related, statuses=statuses,
        error=error, pager=pager(f"/accounts/{target.id}", cursor, [item.id for item in items]))


async def profile(request: web.Request) -> web.Response:
    return await profile_page(request)


async def _follow_list(request: web.Request, *, followers: bool) -> web.Response:
    """A page of an account's followers, or of the accounts it follows (accepted follows only),
    newest first, paged by the follows' ids as the client API pages them."""
    signed = await me(request)
    target = await _account_or_none(request)
    if target is None:
        return await _not_found(request)
    cursor = page_cursor(request)
    async with request.app[DATABASE].sessions() as session:
        rows = await q.follow_page(session, target.id, cursor, followers=followers,
                                   institution_only=True)  # a signed-in page: one of the instance's users
        account, accounts = await render_entities(request, signed.actor, lambda renderer: (
            renderer.account(target), renderer.accounts([actor for _, actor in rows])), session)
    which = "followers" if followers else "following"
    return await render(
        request, "account_follows.html", account=account, accounts=accounts, which=which,
        pager=pager(f"/accounts/{target.id}/{which}", cursor, [follow_id for follow_id, _ in rows]))


async def followers(request: web.Request) -> web.Response:
    return await _follow_list(request, followers=True)


async def following(request: web.Request) -> web.Response:
    return await _follow_list(request, followers=False)


async def _relate(request: web.Request, act) -> web.Response:
    """Follow or unfollow the route's account, as POST /api/v1/accounts/:id/follow or /unfollow
    would, then back to its profile (or the profile again, with the refusal)."""
    signed = await me(request)
    target = await _account_or_none(request)
    if target is None:
        return await _not_found(request)
    try:
        await act(request.app[FEDERATION], signed.actor, target)
    except ApiError as exc:
        return await profile_page(request, status=exc.status, error="refused")
    return redirect(f"/accounts/{target.id}")


async def follow(request: web.Request) -> web.Response:
    return await _relate(request, follow_account)


async def unfollow(request: web.Request) -> web.Response:
    return await _relate(request, unfollow_account)


def local_image(url: str | None, base: str, fallback: str) -> str:
    """`url` if this server serves it, else `fallback`: the page policy loads images from here only."""
    return url if url and url.startswith(base + "/") else fallback


def setup(app: web.Application) -> None:
    app[TEMPLATES].globals.update(local_image=local_image)
    one = r"/accounts/{id:\d+}"
    app.router.add_get(one, profile)
    app.router.add_get(f"{one}/followers", followers)
    app.router.add_get(f"{one}/following", following)
    app.router.add_post(f"{one}/follow", follow)
    app.router.add_post(f"{one}/unfollow", unfollow)
    notifications.setup(app)
    search.setup(app)

