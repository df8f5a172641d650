"""Live updates for the newest page of a timeline: server-sent events at /live/home,
/live/local and /live/federated, for the session cookie's practitioner (the read rule opens them
only to a live session, as the pages themselves).

The decision to know: this is the client API's streaming connection (server.api.streaming:
the same bus, the same per-viewer rendering and filtering, `can_see`, blocks, mutes, the
policy), and only the payload differs: each new or edited status arrives as the page's own
status partial, rendered here, so rounds.js inserts server-rendered HTML and never builds
markup. A deletion carries the post's id. Before each event the session is asked again: a
browser signed out (here, or from another one's settings page) hears nothing more, and its
stream ends."""

from __future__ import annotations

import json

from aiohttp import web

from federation.social import web_sessions
from server.api.streaming import session_events
from server.appkeys import CLOCK, DATABASE
from server.web.sessions import me, session_token
from server.web.templates import render_text

STREAMS = {"home": "user", "local": "public:local", "federated": "public"}


async def live(request: web.Request) -> web.StreamResponse:
    which = request.match_info["timeline"]
    if which not in STREAMS:
        raise web.HTTPNotFound()
    signed = await me(request)

    token = session_token(request)

    async def encode(event: str, payload: str) -> str | None:
        now = request.app[CLOCK].now()
        if await request.app[DATABASE].read(lambda session: web_sessions.signed_in(session, token, now)) is None:
            raise ConnectionResetError("the session has ended")  # ends the stream (the pump's way out)
        if event == "delete":
            return payload
        return await render_text(request, "partials/live_status.html", entry=json.loads(payload),
                                 return_path=f"/{which}")

    return await session_events(request, signed.account, signed.actor, STREAMS[which], encode)


def setup(app: web.Application) -> None:
    app.router.add_get("/live/{timeline}", live, allow_head=False)  # a stream has no head
