"""Every GET route's read access: declared in one table, decided by one rule, enforced before
any handler runs.

`ROUTES` says what each route serves (`federation.social.access.Reads`), by its path. The rule that
says who may read it is `federation.social.access.may_read`, and nothing else. `read_guard` asks it for
every GET and HEAD:

- a route missing from the table is refused (500, and a log line naming it; the app logs every
  such route at start too), so a route added without a thought for who may read it reads
  nothing, and tests/test_read_access.py fails on it;
- the reader is the least the request's credentials can make it (no token: anonymous; a token:
  at least an app's; a signature: anonymous until checked). Only when the rule refuses that
  reader and the credentials could change the answer does the guard look the token up or check
  the signature, and it keeps what it learned on the request (server.api.auth.request_caller,
  server.activitypub.readers.reader), so the handler that asks again costs nothing more. The
  home timeline's token never needs that: any token may read the caller's own things, and
  the timeline checks whose token it is inside its own read.

Which credentials count depends on what the route serves: ActivityPub documents are read with
a signature, the client API with a bearer token (a stream's may also come in the query or the
WebSocket protocol), public pages with neither, signed-in pages and the admin console with the session cookie alone
(never a bearer token). Refusals are answered here: JSON `{"error": ...}` for the client API
(401 for no token, 403 for a token the rule refuses) and ActivityPub (401), the not-found page
for public pages, a redirect to the sign-in form for signed-in pages, and for the admin console
the sign-in form to a stranger, the not-found page to one signed in without the role. Writes are not reads: they act for a user or a signer, whom their
handlers identify, and pass through.
"""

from __future__ import annotations

import logging

from aiohttp import web

from federation.social.access import Reader, Reads, may_reach, may_read
from federation.protocol.authn import Rejection
from server.activitypub import readers
from server.api.auth import ApiError, InvalidToken, request_caller, stream_token
from server.appkeys import SETTINGS
from server.local_only import LOCAL_ONLY, LocalOnlyNames
from server.responses import error_response
from server.web.sessions import SIGN_IN, redirect, session_reader, signed_in
from server.web.templates import render

log = logging.getLogger(__name__)

READING = ("GET", "HEAD")
RULE = web.AppKey("read_rule", dict)  # may_read's answer for each (Reads, Reader), under the settings

ROUTES: dict[str, Reads] = {
    # --- anyone, in every mode: register an app and log in, discovery, health, assets ---------
    "/": Reads.open,
    "/about": Reads.open,
    "/static": Reads.open,
    "/healthz": Reads.open,
    "/.well-known/webfinger": Reads.open,  # a signed lookup is checked: a refused peer gets 403
    "/.well-known/host-meta": Reads.open,
    "/.well-known/host-meta.json": Reads.open,
    "/.well-known/nodeinfo": Reads.open,
    "/nodeinfo/{schema}": Reads.open,
    "/.well-known/oauth-authorization-server": Reads.open,
    "/oauth/authorize": Reads.open,
    "/auth/sign_in": Reads.open,
    "/api/v1/instance": Reads.open,  # allowlist mode: no domain count (it is the peers list's)
    "/api/v2/instance": Reads.open,
    "/api/v1/instance/rules": Reads.open,
    "/api/v1/instance/extended_description": Reads.open,
    "/api/v1/custom_emojis": Reads.open,
    "/api/v1/streaming/health": Reads.open,
    "/actor": Reads.open,  # the instance actor: its key verifies the instance's own fetches
    "/media/{name}": Reads.media,
    # --- ActivityPub -------------------------------------------------------------------------
    "/users/{username}": Reads.actor,
    "/users/{username}/{collection}": Reads.federation,
    "/users/{username}/collections/{collection}": Reads.federation,
    "/users/{username}/statuses/{status_id}": Reads.federation,
    "/users/{username}/statuses/{status_id}/{activity}": Reads.federation,
    "/users/{username}/statuses/{status_id}/versions": Reads.federation,  # an article's earlier versions
    "/users/{username}/statuses/{status_id}/versions/{n}": Reads.federation,
    "/users/{username}/quote_authorizations/{quote_id}": Reads.federation,
    "/users/{username}/context/{post_id}": Reads.federation,  # a community's thread (FEP-7888)
    "/emojis/{emoji_id}": Reads.federation,  # one of our custom emojis (its Emoji tags' id)
    "/actor/{collection}": Reads.federation,
    "/actor/collections/{collection}": Reads.federation,
    # --- HTML pages --------------------------------------------------------------------------
    "/@{username}": Reads.profile_page,
    "/@{username}/{post_id}": Reads.post_page,
    "/home": Reads.signed_in_page,
    "/local": Reads.signed_in_page,
    "/federated": Reads.signed_in_page,
    "/posts/{id}": Reads.signed_in_page,
    "/tags/{tag}": Reads.tag_page,  # signed in: every post she may see; anyone else: local public posts
    "/settings/sessions": Reads.signed_in_page,
    "/settings/preferences": Reads.signed_in_page,
    # people: profiles and their follows, notifications, search
    "/accounts/{id}": Reads.signed_in_page,
    "/accounts/{id}/followers": Reads.signed_in_page,
    "/accounts/{id}/following": Reads.signed_in_page,
    "/notifications": Reads.signed_in_page,
    "/search": Reads.signed_in_page,
    # communities (server/web/communities.py): practitioners, and anyone when all public pages
    # are on, as a hashtag's page; an institution-only one to the instance's users alone
    # (`_unreachable`, by the route's `username`, and the handlers' may_reach)
    "/communities": Reads.tag_page,
    "/communities/{username}": Reads.tag_page,
    # actions on posts (edit, delete, marks, live updates)
    "/posts/{id}/edit": Reads.signed_in_page,
    "/posts/{id}/delete": Reads.signed_in_page,
    "/bookmarks": Reads.signed_in_page,
    "/favourites": Reads.signed_in_page,
    "/live/{timeline}": Reads.signed_in_page,
    # account settings (profile, security, apps, export) and the sign-in's second factor
    "/settings/profile": Reads.signed_in_page,
    "/settings/security": Reads.signed_in_page,
    "/settings/apps": Reads.signed_in_page,
    "/settings/export": Reads.signed_in_page,
    "/settings/export/outbox.json": Reads.signed_in_page,
    "/settings/export/following_accounts.csv": Reads.signed_in_page,
    "/settings/export/followers.csv": Reads.signed_in_page,
    "/settings/export/bookmarks.csv": Reads.signed_in_page,
    "/auth/second_factor": Reads.open,
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
    "/api/v1/tags/{hashtag}": Reads.content,
    "/api/v1/trends": Reads.content,
    "/api/v1/trends/tags": Reads.content,
    "/api/v1/trends/statuses": Reads.content,
    "/api/v1/trends/links": Reads.content,
    "/api/v1/accounts/{id}/featured_tags": Reads.content,
    "/api/v2/search": Reads.content,
    "/api/v1/streaming": Reads.stream,  # WebSocket: public, hashtag and the user's own streams
    "/api/v1/streaming/public": Reads.stream,
    "/api/v1/streaming/public/local": Reads.stream,
    "/api/v1/streaming/public/remote": Reads.stream,
    "/api/v1/streaming/public/media": Reads.stream,
    "/api/v1/streaming/public/local/media": Reads.stream,
    "/api/v1/streaming/public/remote/media": Reads.stream,
    "/api/v1/streaming/hashtag": Reads.stream,
    "/api/v1/streaming/hashtag/local": Reads.stream,
    "/api/v1/streaming/user": Reads.stream,  # the handler then asks for a user's token
    "/api/v1/streaming/user/notification": Reads.stream,
    # --- client API: the caller's own (the handler refuses an app-only token: it owns nothing) -
    "/api/v1/apps/verify_credentials": Reads.own,  # an app's token: its app, nothing else
    "/api/v1/accounts/verify_credentials": Reads.own,
    "/api/v1/accounts/relationships": Reads.own,
    "/api/v1/accounts/familiar_followers": Reads.own,
    "/api/v1/announcements": Reads.own,
    "/api/v1/accounts/search": Reads.own,
    "/api/v1/follow_requests": Reads.own,
    "/api/v1/blocks": Reads.own,
    "/api/v1/conversations": Reads.own,
    "/api/v1/scheduled_statuses": Reads.own,
    "/api/v1/scheduled_statuses/{id}": Reads.own,
    "/api/v1/lists": Reads.own,
    "/api/v1/lists/{id}": Reads.own,
    "/api/v1/lists/{id}/accounts": Reads.own,
    "/api/v1/accounts/{id}/lists": Reads.own,
    "/api/v1/timelines/list/{list_id}": Reads.own,
    "/api/v1/mutes": Reads.own,
    "/api/v1/statuses/{id}/source": Reads.own,
    "/api/v1/timelines/home": Reads.own,
    "/api/v1/bookmarks": Reads.own,
    "/api/v1/favourites": Reads.own,
    "/api/v1/notifications": Reads.own,
    "/api/v1/notifications/{id}": Reads.own,
    "/api/v1/media/{id}": Reads.own,
    "/api/v1/preferences": Reads.own,
    "/api/v1/markers": Reads.own,
    "/api/v1/push/subscription": Reads.own,
    # grouped notifications, the notification policy and its requests (issue 17)
    "/api/v1/notifications/unread_count": Reads.own,
    "/api/v1/notifications/requests": Reads.own,
    "/api/v1/notifications/requests/merged": Reads.own,
    "/api/v1/notifications/requests/{id}": Reads.own,
    "/api/v2/notifications": Reads.own,
    "/api/v2/notifications/policy": Reads.own,
    "/api/v2/notifications/unread_count": Reads.own,
    "/api/v2/notifications/{group_key}": Reads.own,
    "/api/v2/notifications/{group_key}/accounts": Reads.own,
    # filters (issue 17)
    "/api/v2/filters": Reads.own,
    "/api/v2/filters/{id}": Reads.own,
    "/api/v2/filters/{id}/keywords": Reads.own,
    "/api/v2/filters/{id}/statuses": Reads.own,
    "/api/v2/filters/keywords/{id}": Reads.own,
    "/api/v2/filters/statuses/{id}": Reads.own,
    "/api/v1/filters": Reads.own,
    "/api/v1/filters/{id}": Reads.own,
    "/api/v1/followed_tags": Reads.own,
    "/api/v1/featured_tags": Reads.own,
    "/api/v1/featured_tags/suggestions": Reads.own,
    "/api/v1/statuses/{id}/quotes": Reads.own,  # the author's own post's quotes
    # --- Rounds' own API: communities (an institution-only one only to users: the handlers ask
    # access.may_reach) ------------------------------------------------------------------------
    "/api/rounds/v1/communities": Reads.content,
    "/api/rounds/v1/communities/{id}": Reads.content,
    "/api/rounds/v1/communities/{id}/moderators": Reads.content,
    "/api/rounds/v1/communities/{id}/join_requests": Reads.own,
    # --- Rounds' own API: articles (each one's reader: federation.articles.access) and alerts ---
    "/api/rounds/v1/articles": Reads.content,
    "/api/rounds/v1/articles/drafts": Reads.own,
    "/api/rounds/v1/articles/{id}": Reads.content,
    "/api/rounds/v1/articles/{id}/versions": Reads.content,
    "/api/rounds/v1/articles/{id}/versions/{n}": Reads.content,
    "/api/rounds/v1/communities/{id}/articles/review": Reads.own,  # its moderators
    "/api/rounds/v1/alerts": Reads.own,
    # --- client API: admins ------------------------------------------------------------------
    "/api/v1/instance/peers": Reads.peers,
    "/api/v1/admin/{kind}": Reads.admin,
    "/api/v1/admin/{kind}/{id}": Reads.admin,
    "/api/rounds/v1/admin/announcements": Reads.admin,
    "/api/rounds/v1/admin/custom_emojis": Reads.admin,
    # --- admin console (server/web/admin): moderators read users, queues and the audit log;
    # admins everything. With the session cookie only, as the signed-in pages ---------------
    "/admin": Reads.moderator_page,
    "/admin/users": Reads.moderator_page,
    "/admin/queues": Reads.moderator_page,
    "/admin/reports": Reads.moderator_page,
    "/admin/audit": Reads.moderator_page,
    "/admin/peers": Reads.admin_page,
    "/admin/peers/export": Reads.admin_download,
    "/admin/settings": Reads.admin_page,
    # --- articles (issue 16): a practitioner's pages; each article's reader is
    # federation.articles.access, as in the API -------------------------------------------
    "/articles": Reads.signed_in_page,
    "/articles/new": Reads.signed_in_page,
    "/articles/{id}": Reads.signed_in_page,
    "/articles/{id}/edit": Reads.signed_in_page,
    "/articles/{id}/versions": Reads.signed_in_page,
    "/articles/{id}/versions/{n}": Reads.signed_in_page,
    "/articles/{id}/diff": Reads.signed_in_page,
    # --- invitations (issue 14): a newcomer's sign-up page, for anyone holding the link ------
    "/auth/invite/{code}": Reads.open,
}

SIGNED = frozenset({Reads.federation, Reads.actor})       # read with a signature
PAGES = frozenset({Reads.profile_page, Reads.post_page})  # read with no credentials at all
COOKIE_PAGES = frozenset({Reads.signed_in_page, Reads.tag_page,  # read with the session cookie, or none
                          Reads.moderator_page, Reads.admin_page, Reads.admin_download})
ADMINS = frozenset({Reads.admin, Reads.peers})
CONSOLE = frozenset({Reads.moderator_page, Reads.admin_page, Reads.admin_download})
NEEDS_TOKEN = frozenset({Reads.own, Reads.admin})         # no token: the invalid-token 401, as its handlers say


def declared(resource: web.AbstractResource | None) -> Reads | None:
    """What the route at `resource` serves, or None if the table does not say."""
    if resource is None:
        return None
    return ROUTES.get(resource.canonical.rstrip("/") or "/")


def undeclared(app: web.Application) -> list[str]:
    """The paths of the app's GET and HEAD routes that ROUTES does not declare."""
    return sorted({route.resource.canonical for route in app.router.routes()
                   if route.method in READING and declared(route.resource) is None})


def allows(request: web.Request, reads: Reads, reader: Reader) -> bool:
    """The rule, under this instance's settings; also for a handler that serves several things
    (an actor: its key, its full document, its profile page) and asks about each."""
    return request.app[RULE][reads, reader]


def _token(request: web.Request, reads: Reads) -> str | None:
    if reads is Reads.stream:
        return stream_token(request)[0]
    return request.headers.get("Authorization")


async def _reader(request: web.Request, reads: Reads) -> Reader:
    """Who reads, as far as the rule needs to know: the least the credentials shown can make
    the reader, unless the rule refuses that and checking them could change the answer.

    Raises ApiError (a bad token) or Rejection (a bad signature, a refused peer)."""
    if reads in PAGES:
        return Reader.anonymous
    if reads in COOKIE_PAGES:  # read with the session cookie, and nothing else
        me = await signed_in(request)
        return Reader.anonymous if me is None else session_reader(me)
    if reads in SIGNED:
        if not readers.is_signed(request) or allows(request, reads, Reader.anonymous):
            return Reader.anonymous  # the handler still checks a signature that is there
        await readers.reader(request)
        return Reader.peer
    token = _token(request, reads)
    if token is None:
        return Reader.anonymous
    if allows(request, reads, Reader.app):
        return Reader.app  # the handler checks the token
    caller = await request_caller(request, token if reads is Reads.stream else None)
    return caller.reader


async def request_reader(request: web.Request) -> Reader:
    """Who reads, for a handler that asks the institution-only rule itself (an account by id,
    from the client API or from a page): the caller of the request's token if it carries one,
    else the account its session cookie signs in, else a stranger."""
    if "Authorization" in request.headers:
        return (await request_caller(request)).reader
    me = await signed_in(request)
    return Reader.anonymous if me is None else session_reader(me)


async def _refusal(request: web.Request, reads: Reads, reader: Reader) -> web.StreamResponse:
    log.info("%s %s: refused to a reader (%s) of %s", request.method, request.path, reader.value, reads.value)
    if reads in PAGES:
        return await render(request, "not_found.html", status=404, what="such public page")
    if reads in CONSOLE and reader is not Reader.anonymous:  # signed in, but not for this page
        return await render(request, "not_found.html", status=404, what="such page")
    if reads in COOKIE_PAGES:
        return redirect(SIGN_IN)
    if reads in SIGNED:
        return error_response(401, "this server answers only signed requests from peers it federates with")
    if reader is Reader.anonymous:
        return (InvalidToken() if reads in NEEDS_TOKEN else ApiError(401, "This method requires an authenticated user")).response()
    if reads in ADMINS:
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
    try:
        reader = await _reader(request, reads)
    except ApiError as exc:
        return exc.response()
    except Rejection as exc:
        log.info("%s %s: %d %s", request.method, request.path, exc.status, exc)
        return error_response(exc.status, str(exc))
    if not allows(request, reads, reader):
        return await _refusal(request, reads, reader)
    if await _unreachable(request, reads, reader):
        log.info("%s %s: an institution-only community, refused to a reader (%s)", request.method, request.path,
                 reader.value)
        if reads in PAGES or reads in COOKIE_PAGES:
            return await render(request, "not_found.html", status=404, what="such page")
        return error_response(404, "no such actor on this server")
    return await handler(request)


async def _unreachable(request: web.Request, reads: Reads, reader: Reader) -> bool:
    """Whether the route names (by `username`) an institution-only community the reader may not
    reach: the one place the routes under an actor's name ask the institution-only rule."""
    username = request.match_info.get("username")
    if username is None or may_reach(True, reader):
        return False
    return username.lower() in await request.app[LOCAL_ONLY].names(request.app)


def setup(app: web.Application) -> None:
    """Install the guard innermost, so its refusals get the client API's CORS and rate-limit
    headers like any other answer; call it once every route is registered."""
    settings = app[SETTINGS]  # fixed for the app's life, so the rule's every answer is known now
    app[LOCAL_ONLY] = LocalOnlyNames()
    app[RULE] = {(reads, reader): may_read(reads, reader, mode=settings.federation.mode,
                                           public_pages=settings.public_pages)
                 for reads in Reads for reader in Reader}
    for path in undeclared(app):
        log.error("GET %s declares no read access (add it to server/access.py ROUTES): it answers 500", path)
    app.middlewares.append(read_guard)
