"""The form token: every POST (PUT, PATCH, DELETE) a browser makes to the web pages carries
one, and `form_guard` refuses a request without the right one, 403, with a log line.

The decision to know: the token is an HMAC of a secret the browser holds in an HttpOnly,
SameSite=Lax cookie and no other site can read: the session token once signed in, else a
random pre-session secret (set with the first page that shows a form, so the sign-in form is
guarded too). Nothing is stored for it, and it changes when the session does.

A multipart form sent to a route in STREAMED (the composer, with its file) is not read whole:
its first part must be the token, which the guard reads alone; the handler reads the rest as a
stream (`multipart_rest`). Any other form is read whole, under the app's client_max_size.

The guard is on by default, for every route: only routes that browsers' cookies never
authenticate are exempt (the client API and OAuth endpoints, which take tokens or client
secrets, and ActivityPub inboxes, which take signatures). A new page's form is guarded
without asking; tests/test_web_forms.py walks the router to keep it so.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets

from aiohttp import BodyPartReader, MultipartReader, web

from server.client_address import client_address
from server.web.sessions import cookie_name, session_token, set_cookie
from server.web.templates import PRIVATE, render

log = logging.getLogger(__name__)

FIELD = "csrf_token"
PRESESSION_COOKIE = "rounds_csrf"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
EXEMPT_PREFIXES = ("/api/", "/oauth/")  # bearer tokens and client secrets (the OAuth form has its own token)
EXEMPT_ROUTES = frozenset({"/inbox", "/actor/inbox", "/users/{username}/inbox"})  # HTTP signatures
_NEW_SECRET = web.RequestKey("new_form_secret", str)
_MULTIPART = web.RequestKey("multipart_rest", MultipartReader)
TOKEN_MAX_BYTES = 256
STREAMED = frozenset({"/posts"})  # routes whose handlers read a multipart body as a stream


def _token(secret: str) -> str:
    digest = hmac.new(secret.encode(), b"rounds web form", hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _secret(request: web.Request) -> str:
    return session_token(request) or request.cookies.get(cookie_name(request, PRESESSION_COOKIE), "") \
        or request.get(_NEW_SECRET, "")


def form_token(request: web.Request) -> str:
    """The token this browser's forms carry (templates put it in a hidden `csrf_token` field)."""
    if not _secret(request):
        request[_NEW_SECRET] = secrets.token_urlsafe(32)
    request[PRIVATE] = True
    return _token(_secret(request))


def exempt(request: web.Request) -> bool:
    """Whether this request is one cookies never authenticate, so a form token means nothing."""
    if request.method in SAFE_METHODS or request.path.startswith(EXEMPT_PREFIXES):
        return True
    resource = request.match_info.route.resource
    return request.match_info.http_exception is not None or (
        resource is not None and resource.canonical in EXEMPT_ROUTES)


async def _token_matches(request: web.Request) -> bool:
    secret = _secret(request)
    if not secret:
        return False
    try:
        sent = await _multipart_token(request) if _streamed(request) else (await request.post()).get(FIELD)
    except ValueError:
        return False
    return isinstance(sent, str) and hmac.compare_digest(sent.encode(), _token(secret).encode())


def _streamed(request: web.Request) -> bool:
    resource = request.match_info.route.resource
    return request.content_type == "multipart/form-data" and resource is not None \
        and resource.canonical in STREAMED


async def _multipart_token(request: web.Request) -> str | None:
    """The token in a multipart body's first part; the reader, past it, is kept for the handler."""
    reader = await request.multipart()
    part = await reader.next()
    if not isinstance(part, BodyPartReader) or part.name != FIELD:
        return None
    sent = bytearray()
    while chunk := await part.read_chunk(TOKEN_MAX_BYTES):
        sent += chunk
        if len(sent) > TOKEN_MAX_BYTES:
            return None
    request[_MULTIPART] = reader
    return sent.decode("utf-8", "replace")


def multipart_rest(request: web.Request) -> MultipartReader | None:
    """A multipart form's reader past its token (which the guard read), or None if the request
    is not multipart."""
    return request.get(_MULTIPART)


@web.middleware
async def form_guard(request: web.Request, handler) -> web.StreamResponse:
    if not exempt(request) and not await _token_matches(request):
        log.warning("%s %s from %s: refused, the form token is missing or wrong", request.method, request.path,
                    client_address(request))
        response: web.StreamResponse = await render(request, "refused.html", status=403)
    else:
        response = await handler(request)
    if _NEW_SECRET in request:
        set_cookie(request, response, PRESESSION_COOKIE, request[_NEW_SECRET])
    return response


def setup(app: web.Application) -> None:
    app.middlewares.append(form_guard)
