"""Security headers, decided here and nowhere else.

Every HTML response gets the one page policy: scripts, styles, images and connections from this
origin only, and no inline script or style (templates link files under /static instead), no
framing, no `<base>`, forms that submit back here. A handler cannot weaken it; it can only name
one more place a form on its page may lead, with `allow_form_target`: the OAuth consent form
answers with a redirect to the app's registered redirect_uri, and Chromium applies form-action
to that redirect too. Every response, HTML or not, gets `X-Content-Type-Options: nosniff`.

The headers are set from `on_response_prepare`, just before a response's headers go out, so
responses raised as exceptions, static files and streamed responses are covered as well as
what handlers return. Non-HTML responses keep any policy of their own (served media files carry
a sandboxing one). Static files and media may be read by any origin (`Access-Control-Allow-Origin:
*`, as on Mastodon): web apps served from elsewhere draw avatars, emojis and attachments from a
canvas or a service worker; they are public, and readable without a token anyway.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from aiohttp import web

PAGE_DIRECTIVES = (
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "media-src 'self'",
    "font-src 'self'",
    "connect-src 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
)
REFERRER_POLICY = "same-origin"
FORM_TARGETS = web.ResponseKey("form_targets", tuple)
_NEVER_SCHEMES = frozenset({"javascript", "vbscript", "data", "blob", "filesystem", "about"})
_SCHEME_RE = re.compile(r"^[a-z][a-z0-9+.-]*$")
_HOST_RE = re.compile(r"^[a-z0-9.-]+$|^[0-9a-f:.]+$")  # a name or address, IPv6 unbracketed


def content_security_policy(form_targets: tuple[str, ...] = ()) -> str:
    return "; ".join((*PAGE_DIRECTIVES, " ".join(("form-action 'self'", *form_targets))))


def form_source(uri: str) -> str | None:
    """The CSP source that lets a form lead to `uri`: its origin for http(s), its scheme for an
    app's own scheme (`elk:`); None for a scheme that runs code or a URI that cannot be written
    as a source safely (the redirect to it is then refused by the browser)."""
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if not _SCHEME_RE.match(scheme) or scheme in _NEVER_SCHEMES:
        return None
    if scheme not in ("http", "https"):
        return f"{scheme}:"
    host = (parts.hostname or "").lower()
    if not _HOST_RE.match(host):
        return None
    host = f"[{host}]" if ":" in host else host
    return f"{scheme}://{host}" + (f":{port}" if port is not None else "")


def allow_form_target(response: web.StreamResponse, uri: str) -> None:
    """Let the form on this page lead (through a redirect) to `uri` as well as to this server."""
    source = form_source(uri)
    if source is not None:
        response[FORM_TARGETS] = (*response.get(FORM_TARGETS, ()), source)


CORS_OPEN = ("/static/", "/media/")


async def _on_prepare(request: web.Request, response: web.StreamResponse) -> None:
    response.headers["X-Content-Type-Options"] = "nosniff"
    if request.path.startswith(CORS_OPEN):
        response.headers["Access-Control-Allow-Origin"] = "*"
    if response.content_type == "text/html":
        response.headers["Content-Security-Policy"] = content_security_policy(response.get(FORM_TARGETS, ()))
        response.headers["X-Frame-Options"] = "DENY"  # for browsers that predate frame-ancestors
        response.headers["Referrer-Policy"] = REFERRER_POLICY


def setup(app: web.Application) -> None:
    app.on_response_prepare.append(_on_prepare)
