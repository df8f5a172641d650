"""Who is reading: the signer of an ActivityPub GET (authorized fetch), under the policy.

In allowlist mode every ActivityPub GET needs a signature from an allowed peer or from this
instance: unsigned is 401, a refused peer 403. Two things stay readable unsigned, so that peers
can verify our signatures without a chicken-and-egg loop: the instance actor, and the key-only
form of each local actor. In the other modes unsigned reads of public things are fine, and a
signed read is still checked (a blocked peer gets 403).
"""

from __future__ import annotations

from aiohttp import web

from federation.authn import Rejection, authenticate
from federation.signatures import SignedRequest
from server.appkeys import FEDERATION, URLS


def is_signed(request: web.Request) -> bool:
    return "Signature" in request.headers or "Signature-Input" in request.headers


def signatures_required(request: web.Request) -> bool:
    return request.app[FEDERATION].policy.mode == "allowlist"


async def reader(request: web.Request) -> str | None:
    """The signing actor's id, or None for an unsigned read where that is allowed.

    Raises Rejection: 401 for a bad signature or (allowlist mode) none, 403 for a refused peer.
    """
    if not is_signed(request):
        if signatures_required(request):
            raise Rejection(401, "this server answers only signed requests from peers it federates with")
        return None
    signed = SignedRequest(request.method, request.app[URLS].base + request.raw_path, request.headers, b"")
    return (await authenticate(request.app[FEDERATION], signed)).owner
