"""Who is reading: the signer of an ActivityPub GET (authorized fetch), under the policy.

A signed GET is checked whatever the mode: a refused peer gets 403 before any key is fetched,
a bad signature 401. Whether the reader (an allowed peer, or the anonymous reader of an unsigned
GET) may read the route at all is the read rule's (federation.social.access.may_read), asked by
server/access.py before the handler runs: in allowlist mode ActivityPub documents need a
signature from an allowed peer, and only the instance actor and the key-only form of each local
actor stay readable unsigned, so that peers can verify our signatures without a chicken-and-egg
loop. The signature is checked once per request: that check and the handler share the answer.
Every refusal of a signed read is logged here, one line with the peer, the route and the reason;
a valid signed read counts as the peer reaching us (federation.protocol.authn), so our deliveries to it
stop backing off.
"""

from __future__ import annotations

import logging

from aiohttp import web

from federation.protocol.authn import Rejection, authenticate
from federation.protocol.signatures import SignedRequest
from server.appkeys import FEDERATION, URLS
from server.client_address import client_address

log = logging.getLogger(__name__)

SIGNER = web.RequestKey("signer", str)


def is_signed(request: web.Request) -> bool:
    return "Signature" in request.headers or "Signature-Input" in request.headers


async def reader(request: web.Request) -> str | None:
    """The signing actor's id, or None for an unsigned read.

    Raises Rejection: 401 for a bad signature, 403 for a refused peer.
    """
    if not is_signed(request):
        return None
    if SIGNER not in request:
        signed = SignedRequest(request.method, request.app[URLS].base + request.raw_path, request.headers, b"")
        try:
            signer = await authenticate(request.app[FEDERATION], signed, source=client_address(request))
        except Rejection as exc:
            log.info("refused %s %s from %s: %d %s", request.method, request.path, exc.peer or "an unknown signer", exc.status, exc)
            raise
        request[SIGNER] = signer.owner
    return request[SIGNER]
