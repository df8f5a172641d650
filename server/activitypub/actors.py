"""Local actor documents, served as ActivityStreams JSON or as the HTML profile page.

Actor documents are the most fetched thing on a server (every signature check by a peer starts
with one), so their serialised bytes are cached per actor for a few seconds. The cache is
per-process; its short lifetime bounds how stale another process's copy can be.
"""

from __future__ import annotations

from aiohttp import web

from federation.social.access import Reader, Reads
from federation.protocol.authn import Rejection
from federation.protocol.urls import INSTANCE_ACTOR_USERNAME
from server.access import allows
from server.activitypub.actor_documents import ACTOR_DOCUMENTS, ActorDocuments
from server.activitypub.negotiation import Representation, negotiate
from server.activitypub.readers import reader
from server.responses import error_response
from server.web.pages import render_profile


def user_from_path(request: web.Request) -> str | None:
    """The username in a /users/{username} path; None for the instance actor, which lives at
    /actor only."""
    username = request.match_info["username"].lower()
    return None if username == INSTANCE_ACTOR_USERNAME else username


def no_such_actor(username: str) -> web.Response:
    return error_response(404, f"no actor named {username!r} on this server")


def not_acceptable() -> web.Response:
    return error_response(
        406,
        "not acceptable: ask for application/activity+json, "
        'application/ld+json; profile="https://www.w3.org/ns/activitystreams" or text/html',
    )


async def _actor_response(request: web.Request, username: str) -> web.StreamResponse:
    representation = negotiate(request.headers.get("Accept"))
    if representation is None:
        return not_acceptable()
    if representation is Representation.html:
        return await render_profile(request, username)
    key_only = False
    if username != INSTANCE_ACTOR_USERNAME:
        try:
            signer = await reader(request)  # anyone reads the key-only form; a bad signature does not
        except Rejection as exc:
            return error_response(exc.status, str(exc))
        # in full where ActivityPub documents may be read (the read rule), else just the key
        key_only = not allows(request, Reads.federation, Reader.anonymous if signer is None else Reader.peer)
    body = await request.app[ACTOR_DOCUMENTS].get(request.app, username, key_only=key_only)
    if body is None:
        return no_such_actor(username)
    return web.Response(
        body=body, headers={"Content-Type": representation.value, "Vary": "Accept"}
    )


async def get_user(request: web.Request) -> web.StreamResponse:
    username = user_from_path(request)
    if username is None:
        return no_such_actor(request.match_info["username"])
    return await _actor_response(request, username)


async def get_instance_actor(request: web.Request) -> web.StreamResponse:
    return await _actor_response(request, INSTANCE_ACTOR_USERNAME)


def setup(app: web.Application) -> None:
    app[ACTOR_DOCUMENTS] = ActorDocuments()
    app.router.add_get("/users/{username}", get_user)
    app.router.add_get("/actor", get_instance_actor)
