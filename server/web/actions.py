"""What a practitioner does to a post from any page: boost, favourite, bookmark (and undo each),
and vote in a poll. Each is a POST form with the client API's parameter names, made by the
same call as its API route (server.api.statuses.toggle, server.api.polls.cast_vote), then a
303 back to the page it came from.

The decision to know: where the browser goes back to is the form's `return_to`, and only a
path on this site is ever followed (`local_path`); anything else (an absolute URL, `//host`,
a backslash, a control character) is refused and the browser goes home instead. A request
from rounds.js (header `Rounds-In-Place`) gets the post's buttons, re-rendered, instead of the
redirect, so the script swaps them in place.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from aiohttp import web

from server.api.auth import ApiError
from server.api.entities import render as render_entities
from server.api.polls import cast_vote, parse_choices
from server.api.statuses import toggle
from server.appkeys import FEDERATION
from server.web.sessions import HOME, me, redirect
from server.web.templates import html_response, render, render_text

ACTIONS = ("reblog", "unreblog", "favourite", "unfavourite", "bookmark", "unbookmark")
IN_PLACE = "Rounds-In-Place"


def local_path(value: object, default: str = HOME) -> str:
    """`value` if it is a path on this site (`/home?max_id=3#status-4`), else `default`."""
    if not isinstance(value, str) or not value.startswith("/") or value.startswith("//") or "\\" in value \
            or any(ord(char) < 0x20 or ord(char) == 0x7f for char in value):
        return default
    parts = urlsplit(value)
    return default if parts.scheme or parts.netloc else value


async def refused(request: web.Request, exc: ApiError) -> web.Response:
    """An action refused: the not-found page for a post she may not see, else the reason."""
    if exc.status == 404:
        return await render(request, "not_found.html", status=404, what="such post")
    return await render(request, "action_refused.html", status=exc.status, reason=str(exc))


async def _done(request: web.Request, post, back: str) -> web.Response:
    """The 303 back, or for rounds.js the post's buttons as they now are."""
    if not request.headers.get(IN_PLACE):
        return redirect(back)
    signed = await me(request)
    entry = await render_entities(request, signed.actor, lambda renderer: renderer.status(post))
    html = await render_text(request, "partials/live_status.html", entry=entry, back=back, only_actions=True)
    response = html_response(request, html)
    response.headers["Cache-Control"] = "no-store"
    return response


def _action(action: str):
    async def handler(request: web.Request) -> web.Response:
        signed = await me(request)
        back = local_path((await request.post()).get("return_to"))
        try:
            async with request.app[FEDERATION].transaction() as session:
                post = await toggle(request, session, signed.actor, action)
        except ApiError as exc:
            return await refused(request, exc)
        return await _done(request, post, back)
    handler.__name__ = action
    return handler


async def vote(request: web.Request) -> web.Response:
    signed = await me(request)
    form = await request.post()
    back = local_path(form.get("return_to"))
    try:
        choices = parse_choices({"choices[]": form.getall("choices[]", [])})
        async with request.app[FEDERATION].transaction() as session:
            post = await cast_vote(request, session, signed.actor, choices)
    except ApiError as exc:
        return await refused(request, exc)
    return await _done(request, post, back)


def setup(app: web.Application) -> None:
    for action in ACTIONS:
        app.router.add_post(f"/posts/{{id}}/{action}", _action(action))
    app.router.add_post("/polls/{id}/votes", vote)
