"""Every route's read access, declared in one table and enforced for every GET and HEAD.

`ROUTES` says what each route serves (`federation.access.Reads`), by its path; the rule that
decides who may read it is `federation.access.may_read`, and nothing else. `read_guard` looks
the route up before its handler runs:

- a route missing from the table is refused (500, and a log line naming it): a GET nobody
  declared reads nothing, and tests/test_read_access.py names it;
- a request with no credentials at all (no token, no signature) is an anonymous reader, and is
  admitted or refused on the spot;
- otherwise the handler learns who the caller is (the token checks in server.api.auth, the
  signature check in server.activitypub.readers), and each of those calls `admit`, which asks
  the rule for that reader. A handler that answers a caller with credentials without ever
  asking is refused after the fact (500 and a log line), so a route cannot forget.

Refusals are rendered here, by what the route serves: JSON `{"error": ...}` for the client
API and ActivityPub (401 for an anonymous reader, 403 for a known one), the not-found page for
HTML. Writes are not reads: they act for a user (server.api.common.viewer) or a signer (the
inboxes), and pass through.
"""

from __future__ import annotations

import logging

from aiohttp import web

from federation.access import Reader, Reads, may_read
from server.appkeys import SETTINGS
from server.responses import error_response
from server.web.templates import render

log = logging.getLogger(__name__)

READING = ("GET", "HEAD")

ROUTES: dict[str, Reads] = {
    # --- anyone, in every mode: register an app and log in, discovery, health, assets ---------
    "/": Reads.open,
    "/about": Reads.open,
    "/static": Reads.open,
    "/healthz": Reads.open,
    "/.well-known/webfinger": Reads.open,  # a signed lookup from a refused peer is still refused
    "/.well-known/host-meta": Reads.open,
    "/.well-known/host-meta.json": Reads.open,
    "/.well-known/nodeinfo": Reads.open,
    "/nodeinfo/{schema}": Reads.open,
    "/.well-known/oauth-authorization-server": Reads.open,
    "/oauth/authorize": Reads.open,
    "/api/v1/apps/verify_credentials": Reads.open,  # shows a token its own app, nothing else
    "/api/v1/instance": Reads.open,
    "/api/v2/instance": Reads.open,
    "/api/v1/instance/rules": Reads.open,
    "/api/v1/instance/extended_description": Reads.open,
    "/api/v1/custom_emojis": Reads.open,
    "/api/v1/streaming/health": Reads.open,
    "/actor": Reads.open,  # the instance actor, whose key verifies the instance's own fetches
    "/media/{name}": Reads.media,
    # --- ActivityPub -------------------------------------------------------------------------
    "/users/{username}": Reads.actor,
    "/users/{username}/{collection}": Reads.documents,
    "/users/{username}/collections/{collection}": Reads.documents,
    "/users/{username}/statuses/{status_id}": Reads.documents,
    "/users/{username}/statuses/{status_id}/{activity}": Reads.documents,
    "/actor/{collection}": Reads.documents,
    "/actor/collections/{collection}": Reads.documents,
    # --- HTML pages --------------------------------------------------------------------------
    "/@{username}": Reads.profile_page,
    "/@{username}/{post_id}": Reads.post_page,
    # --- client API: content -----------------------------------------------------------------
    "/api/v1/accounts/lookup": Reads.content,
    "/api/v1/accounts/{id}": Reads.content,
    "/api/v1/accounts/{id}/statuses": Reads.content,
    "/api/v1/accounts/{id}/followers": Reads.content,
    "/api/v1/accounts/{id}/following": Reads.content,
    "/api/v1/statuses/{id}": Reads.content,
    "/api/v1/statuses/{id}/history": Reads.content,
    "/api/v1/statuses/{id}/context": Reads.content,
    "/api/v1/statuses/{id}/favourited_by": Reads.content,
    "/api/v1/statuses/{id}/reblogged_by": Reads.content,
    "/api/v1/polls/{id}": Reads.content,
    "/api/v1/timelines/public": Reads.content,
    "/api/v1/timelines/tag/{hashtag}": Reads.content,
    "/api/v2/search": Reads.content,
    "/api/v1/streaming": Reads.content,
    "/api/v1/streaming/public": Reads.content,
    "/api/v1/streaming/public/local": Reads.content,
    "/api/v1/streaming/public/remote": Reads.content,
    "/api/v1/streaming/public/media": Reads.content,
    "/api/v1/streaming/public/local/media": Reads.content,
    "/api/v1/streaming/public/remote/media": Reads.content,
    "/api/v1/streaming/hashtag": Reads.content,
    "/api/v1/streaming/hashtag/local": Reads.content,
    # --- client API: the caller's own --------------------------------------------------------
    "/api/v1/accounts/verify_credentials": Reads.own,
    "/api/v1/accounts/relationships": Reads.own,
    "/api/v1/accounts/search": Reads.own,
    "/api/v1/follow_requests": Reads.own,
    "/api/v1/statuses/{id}/source": Reads.own,
    "/api/v1/timelines/home": Reads.own,
    "/api/v1/bookmarks": Reads.own,
    "/api/v1/favourites": Reads.own,
    "/api/v1/notifications": Reads.own,
    "/api/v1/notifications/{id}": Reads.own,
    "/api/v1/media/{id}": Reads.own,
    "/api/v1/preferences": Reads.own,
    "/api/v1/markers": Reads.own,
    "/api/v1/streaming/user": Reads.own,
    "/api/v1/streaming/user/notification": Reads.own,
    # --- client API: admins ------------------------------------------------------------------
    "/api/v1/instance/peers": Reads.peers,
    "/api/v1/admin/{kind}": Reads.admin,
    "/api/v1/admin/{kind}/{id}": Reads.admin,
}

PAGES = frozenset({Reads.profile_page, Reads.post_page})
FEDERATION_DOCUMENTS = frozenset({Reads.actor, Reads.documents})
READS = web.RequestKey("reads", Reads)
ADMITTED = web.RequestKey("admitted", Reader)


class ReadRefused(Exception):
    """The route's rule refuses this reader; `read_guard` renders the refusal."""

    def __init__(self, reads: Reads, reader: Reader) -> None:
        super().__init__(f"{reader.value} may not read {reads.value}")
        self.reads = reads
        self.reader = reader


def declared(resource: web.AbstractResource) -> Reads | None:
    """What the route at `resource` serves, or None if the table does not say."""
    return ROUTES.get(resource.canonical.rstrip("/") or "/")


def undeclared(app: web.Application) -> list[str]:
    """The paths of the app's GET and HEAD routes that ROUTES does not declare."""
    return sorted({route.resource.canonical for route in app.router.routes()
                   if route.method in READING and route.resource is not None and declared(route.resource) is None})


def allows(request: web.Request, reads: Reads, reader: Reader) -> bool:
    """The rule, under this instance's settings: for a handler that serves several things (an
    actor: its key, its full document, its profile page) and asks about each."""
    settings = request.app[SETTINGS]
    return may_read(reads, reader, mode=settings.federation.mode, public_pages=settings.public_pages)


def admit(request: web.Request, reader: Reader) -> None:
    """Let `reader` read this request's route, or raise ReadRefused. Every place that learns
    who a reader is calls it; writes, which read no route's content, are left alone."""
    reads = request.get(READS)
    if reads is None:
        return
    if not allows(request, reads, reader):
        raise ReadRefused(reads, reader)
    request[ADMITTED] = reader


def _has_credentials(request: web.Request) -> bool:
    headers = request.headers
    return ("Authorization" in headers or "Signature" in headers or "Signature-Input" in headers
            or "Sec-WebSocket-Protocol" in headers or "access_token" in request.query)


async def _refusal(request: web.Request, refused: ReadRefused) -> web.StreamResponse:
    log.info("%s %s: %s", request.method, request.path, refused)
    if refused.reads in PAGES:
        return await render(request, "not_found.html", status=404, what="a public page here")
    if refused.reads in FEDERATION_DOCUMENTS:
        return error_response(401 if refused.reader is Reader.anonymous else 403,
                              "this server answers only signed requests from peers it federates with")
    if refused.reader is Reader.anonymous:
        return error_response(401, "This method requires an authenticated user", headers={"WWW-Authenticate": "Bearer"})
    if refused.reads in (Reads.admin, Reads.peers) and refused.reader is Reader.user:
        return error_response(403, "This action is allowed only to admins")
    return error_response(403, "This method requires an authenticated user")


@web.middleware
async def read_guard(request: web.Request, handler) -> web.StreamResponse:
    if request.method not in READING or request.match_info.http_exception is not None:
        return await handler(request)
    reads = declared(request.match_info.route.resource)
    if reads is None:
        log.error("%s %s: its route declares no read access (add it to server/access.py ROUTES); refused",
                  request.method, request.path)
        return error_response(500, "internal server error")
    request[READS] = reads
    try:
        if not _has_credentials(request):
            admit(request, Reader.anonymous)
        response = await handler(request)
    except ReadRefused as refused:
        return await _refusal(request, refused)
    if response.status < 400 and ADMITTED not in request and not allows(request, reads, Reader.anonymous):
        log.error("%s %s: answered a caller its handler never identified (see server.access.admit); refused",
                  request.method, request.path)
        if not response.prepared:
            return error_response(500, "internal server error")
    return response


def setup(app: web.Application) -> None:
    """Install the guard innermost, so its refusals get the client API's CORS and rate-limit
    headers like any other answer."""
    app.middlewares.append(read_guard)
