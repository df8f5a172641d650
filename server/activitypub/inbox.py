"""POST to a local actor's inbox or the shared inbox: size and content-type checks here, the
rest in `federation.inbox.intake.receive`."""

from __future__ import annotations

import logging

from aiohttp import web

from federation.protocol.authn import Rejection, claimed_peer
from federation.inbox.intake import receive
from federation.protocol.signatures import SignedRequest
from federation.protocol.urls import INSTANCE_ACTOR_USERNAME
from server.activitypub.actors import no_such_actor, user_from_path
from server.appkeys import DATABASE, FEDERATION, SETTINGS, URLS
from server.client_address import client_address
from server.responses import error_response
from storage import actors as actor_queries

log = logging.getLogger(__name__)

ACTIVITY_TYPES = frozenset({"application/activity+json", "application/ld+json", "application/json"})
LOCAL_IDS = web.AppKey("local_actor_ids", dict)


async def _recipient_id(request: web.Request, username: str) -> int | None:
    cache: dict[str, int] = request.app[LOCAL_IDS]
    if username not in cache:
        async with request.app[DATABASE].sessions() as session:
            actor = await actor_queries.local_actor_by_username(session, username)
        if actor is None:
            return None
        cache[username] = actor.id
    return cache[username]


async def _receive(request: web.Request, recipient_id: int | None) -> web.Response:
    if request.content_type not in ACTIVITY_TYPES:
        log.info("inbox %s: refused content type %r", request.path, request.content_type)
        return error_response(415, f"content type {request.content_type!r} is not an ActivityStreams type; "
                                   "send application/activity+json")
    limit = request.app[SETTINGS].server.max_body_bytes
    if request.content_length is not None and request.content_length > limit:
        log.info("inbox %s: refused a %d-byte body", request.path, request.content_length)
        return error_response(413, f"the body is larger than {limit} bytes")
    try:
        body = await request.read()
    except web.HTTPRequestEntityTooLarge:
        log.info("inbox %s: refused an oversized chunked body", request.path)
        return error_response(413, f"the body is larger than {limit} bytes")
    signed = SignedRequest(request.method, request.app[URLS].base + request.raw_path, request.headers, body)
    try:
        received = await receive(request.app[FEDERATION], signed, recipient_id=recipient_id,
                                 source=client_address(request))
    except Rejection as exc:
        log.info("refused %s from %s: %d %s", f"POST {request.path}", exc.peer or claimed_peer(signed) or "unsigned",
                 exc.status, exc)
        return error_response(exc.status, str(exc))
    if received.duplicate:
        log.debug("inbox: duplicate %s %s acknowledged", received.activity_type, received.activity_id)
    return web.Response(status=202)


async def post_user_inbox(request: web.Request) -> web.Response:
    username = user_from_path(request)
    recipient = await _recipient_id(request, username) if username else None
    if recipient is None:
        return no_such_actor(request.match_info["username"])
    return await _receive(request, recipient)


async def post_shared_inbox(request: web.Request) -> web.Response:
    return await _receive(request, None)


async def post_instance_inbox(request: web.Request) -> web.Response:
    return await _receive(request, await _recipient_id(request, INSTANCE_ACTOR_USERNAME))


def setup(app: web.Application) -> None:
    app[LOCAL_IDS] = {}
    app.router.add_post("/users/{username}/inbox", post_user_inbox)
    app.router.add_post("/inbox", post_shared_inbox)
    app.router.add_post("/actor/inbox", post_instance_inbox)
