"""The signed-in practitioner's pages: the home, local and federated timelines (with the
composer on home), a hashtag's timeline, and a post with its thread.

Who may read them is the read rule's (Reads.signed_in_page: a live session cookie; without one
server/access.py sends the browser to the sign-in form before these handlers run). Statuses
are rendered by the client API's renderer (server/api/entities.py), so a page shows exactly
what the API would show this practitioner, and templates read the same fields (`account`,
`content`, `spoiler_text`, `reblog`, ...). Paging follows the API's ids: older is `max_id`,
newer is `min_id`.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlencode

from aiohttp import web

from federation.social.posts import visible_post, visible_thread
from federation.social.web_sessions import SignedIn
from server.api.auth import ApiError
from server.api.common import page_args
from server.api.entities import render as render_entities
from server.api.filtering import shown
from server.appkeys import DATABASE, SETTINGS
from server.web.sessions import me
from server.web.templates import render
from storage import timelines
from storage.paging import Cursor

PAGE_SIZE = 40
POLL_FIELDS = 4                                  # the composer's poll options (Mastodon's default maximum)
POLL_DURATIONS = (3600, 86400, 3 * 86400, 7 * 86400)  # the composer's poll durations, in seconds
TIMELINES = ("home", "local", "federated")
VISIBILITIES = ("public", "unlisted", "private", "direct")  # from the widest audience to the narrowest


def page_cursor(request: web.Request) -> Cursor:
    try:
        return page_args(request, default=PAGE_SIZE, maximum=PAGE_SIZE)
    except ApiError:
        return Cursor(limit=PAGE_SIZE)  # a mangled link shows the newest page, not an error


def pager(path: str, cursor: Cursor, ids: list[int], keep: Mapping[str, str] | None = None) -> dict[str, str | None]:
    """Links to the older and newer pages around a page showing `ids` (newest first), keeping
    the query parameters `keep` (a filter) in them."""
    keep = dict(keep or {})
    paged = cursor.max_id is not None or cursor.min_id is not None or cursor.since_id is not None
    full = len(ids) >= cursor.limit
    older = newer = None
    if ids and (full or cursor.min_id is not None):
        older = f"{path}?{urlencode({**keep, 'max_id': min(ids)})}"
    if ids and (cursor.max_id is not None or (cursor.min_id is not None and full)):
        newer = f"{path}?{urlencode({**keep, 'min_id': max(ids)})}"
    if not ids and paged:
        newer = f"{path}?{urlencode(keep)}" if keep else path  # past the end: back to the newest
    return {"older": older, "newer": newer}


def composer(signed: SignedIn, *, typed: Mapping[str, Any] | None = None, in_reply_to: dict | None = None,
             error: str = "") -> dict[str, Any]:
    """What the compose form shows: what was typed (after a refusal), the post answered, the
    visibility (the practitioner's default, or the answered post's if that is narrower, as on
    Mastodon), whether it is institution-only, and a fresh idempotency key, so that a form submitted twice posts once."""
    typed = typed or {}
    default = (signed.account.preferences or {}).get("posting:default:visibility")
    default = default if default in VISIBILITIES else "public"
    if in_reply_to is not None and VISIBILITIES.index(in_reply_to["visibility"]) > VISIBILITIES.index(default):
        default = in_reply_to["visibility"]
    options = list(typed.get("poll[options][]", []))
    return {"status": typed.get("status", ""), "spoiler_text": typed.get("spoiler_text", ""),
            "visibility": typed.get("visibility") or default, "error": error,
            "in_reply_to_id": in_reply_to["id"] if in_reply_to else typed.get("in_reply_to_id", ""),
            "idempotency_key": secrets.token_urlsafe(16),
            "media_ids": list(typed.get("media_ids[]", [])), "description": typed.get("description", ""),
            "poll_options": (options + [""] * POLL_FIELDS)[:max(POLL_FIELDS, len(options))],
            "poll_expires_in": typed.get("poll[expires_in]", str(POLL_DURATIONS[1])),
            "poll_multiple": bool(typed.get("poll[multiple]")),
            # a reply to an institution-only post is one too (federation.outbox.actions.post)
            "local_only": bool(typed.get("local_only")) or bool(in_reply_to and in_reply_to.get("local_only"))}


async def timeline_page(request: web.Request, which: str, *, status: int = 200,
                        compose: dict[str, Any] | None = None) -> web.Response:
    signed = await me(request)
    cursor = page_cursor(request)
    viewer = signed.actor

    tag = request.match_info.get("tag", "").lower()

    def page(renderer):
        if which == "home":
            items = timelines.home(renderer.session, viewer.id, cursor, renderer.now, exclusive=False)
        elif which == "tag":
            items = timelines.tagged(renderer.session, tag, cursor, local=None, viewer_id=viewer.id, now=renderer.now)
        else:
            items = timelines.public(renderer.session, cursor, local=True if which == "local" else None,
                                     viewer_id=viewer.id, now=renderer.now)
        return [item.id for item in items], shown(renderer.statuses(items), "home" if which == "home" else "public")

    ids, statuses = await render_entities(request, viewer, page)
    path = f"/tags/{quote(tag, safe='')}" if which == "tag" else f"/{which}"
    newest = cursor.max_id is None and cursor.min_id is None and cursor.since_id is None
    return await render(
        request, "timeline.html", status=status, timeline=which, tag=tag, statuses=statuses,
        pager=pager(path, cursor, ids), compose=compose or composer(signed),
        max_characters=request.app[SETTINGS].api.status_max_characters, poll_durations=POLL_DURATIONS,
        live=f"/live/{which}" if newest and which in TIMELINES else None,
        return_path=path if status != 200 else None)


def _timeline_handler(which: str):
    async def handler(request: web.Request) -> web.Response:
        return await timeline_page(request, which)
    handler.__name__ = f"{which}_timeline"
    return handler


async def post_page(request: web.Request) -> web.Response:
    """A post the practitioner may see, its thread around it, and a reply form."""
    signed = await me(request)
    async with request.app[DATABASE].sessions() as session:
        post = await visible_post(session, request.match_info["id"], signed.actor)
        thread = await visible_thread(session, post, signed.actor) if post is not None else ([], [])
    if post is None:
        return await render(request, "not_found.html", status=404, what="such post")
    ancestors, descendants = thread
    focus, before, after = await render_entities(request, signed.actor, lambda renderer: (
        renderer.status(post), shown(renderer.statuses(ancestors), "thread"),
        shown(renderer.statuses(descendants), "thread")))
    return await render(request, "thread.html", focus=focus, ancestors=before, descendants=after,
                            compose=composer(signed, in_reply_to=focus), poll_durations=POLL_DURATIONS,
                            max_characters=request.app[SETTINGS].api.status_max_characters)


def setup(app: web.Application) -> None:
    for which in TIMELINES:
        app.router.add_get(f"/{which}", _timeline_handler(which))
    app.router.add_get("/posts/{id}", post_page)
