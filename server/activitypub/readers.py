"""Who is reading: the signer of an ActivityPub GET (authorized fetch), under the policy.

In allowlist mode every ActivityPub GET needs a signature from an allowed peer or from this
instance: unsigned is 401, a refused peer 403. Two things stay readable unsigned, so that peers
can verify our signatures without a chicken-and-egg loop: the instance actor, and the key-only
form of each local actor. In the other modes unsigned reads of public things are fine, and a
signed read is still checked (a blocked peer gets 403). Every refusal is logged here, one line
with the peer, the route and the reason; a valid signed read counts as the peer reaching us
(federation.authn), so our deliveries to it stop backing off.
"""

from __future__ import annotations

import logging

from aiohttp import web

from federation.authn import Rejection, authenticate
from federation.signatures import SignedRequest
from server.appkeys import FEDERATION, URLS
from server.client_address import client_address

log = logging.getLogger(__name__)


def is_signed(request: web.Request) -> bool:
    return "Signature" in request.headers or "Signature-Input" in request.headers


def signatures_required(request: web.Request) -> bool:
    return request.app[FEDERATION].policy.mode == "allowlist"


async def reader(request: web.Request) -> str | None:
    """The signing actor's id, or None for an unsigned read where that is allowed.

    Raises Rejection: 401 for a bad signature or (allowlist mode) none, 403 for a refused peer.
    """
    route = f"{request.method} {request.path}"
    if not is_signed(request):
        if signatures_required(request):
            log.info("refused %s from an unsigned reader: 401 no signature", route)
            raise Rejection(401, "this server answers only signed requests from peers it federates with")
        return None
    signed = SignedRequest(request.method, request.app[URLS].base + request.raw_path, request.headers, b"")
    try:
        return (await authenticate(request.app[FEDERATION], signed, source=client_address(request))).owner
    except Rejection as exc:
        log.info("refused %s from %s: %d %s", route, exc.peer or "an unknown signer", exc.status, exc)
        raise
