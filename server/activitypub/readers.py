"""Who is reading: the signer of an ActivityPub GET (authorized fetch), under the policy.

A signed GET is checked whatever the mode: a refused peer gets 403 before any key is fetched,
a bad signature 401. Whether the reader (an allowed peer, or the anonymous reader of an unsigned
GET) may read the route is the read rule's (federation.access.may_read, through
server.access.admit): in allowlist mode ActivityPub documents need a signature from an allowed
peer, and only the instance actor and the key-only form of each local actor stay readable
unsigned, so that peers can verify our signatures without a chicken-and-egg loop.
"""

from __future__ import annotations

from aiohttp import web

from federation.access import Reader
from federation.authn import authenticate
from federation.signatures import SignedRequest
from server.access import admit
from server.appkeys import FEDERATION, URLS


def is_signed(request: web.Request) -> bool:
    return "Signature" in request.headers or "Signature-Input" in request.headers


async def reader(request: web.Request) -> str | None:
    """The signing actor's id, or None for an unsigned read, once the route admits the reader.

    Raises Rejection (401 for a bad signature, 403 for a refused peer) or ReadRefused (an
    unsigned read the route's rule refuses; server.access renders it).
    """
    if not is_signed(request):
        admit(request, Reader.anonymous)
        return None
    signed = SignedRequest(request.method, request.app[URLS].base + request.raw_path, request.headers, b"")
    owner = (await authenticate(request.app[FEDERATION], signed)).owner
    admit(request, Reader.peer)
    return owner
