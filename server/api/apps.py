"""OAuth client registration and discovery: POST /api/v1/apps, GET /api/v1/apps/verify_credentials
and /.well-known/oauth-authorization-server (RFC 8414).

The client secret appears once, in the registration response; only its digest is stored.
verify_credentials accepts any live token, whatever its scopes, as Mastodon does: it answers "is
this token good, and whose app is it", which every scope may ask.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy.orm import Session

from federation.social import oauth
from federation.social.accounts import AccountError
from server.api.auth import ApiError, Caller, bearer_digest, caller_in
from server.api.push import server_key
from server.api.params import list_param, params, text_param
from server.appkeys import CLOCK, DATABASE, SETTINGS, URLS
from server.responses import json_response
from storage.models import OAuthApp
from storage.tokens import app_by_id

_GRANULAR = {
    "read": ("accounts", "blocks", "bookmarks", "favourites", "filters", "follows", "lists", "mutes",
             "notifications", "search", "statuses"),
    "write": ("accounts", "blocks", "bookmarks", "conversations", "favourites", "filters", "follows",
              "lists", "media", "mutes", "notifications", "reports", "statuses"),
    "admin:read": ("accounts", "reports", "domain_allows", "domain_blocks", "ip_blocks",
                   "email_domain_blocks", "canonical_email_blocks"),
}
_GRANULAR["admin:write"] = _GRANULAR["admin:read"]
SCOPES_SUPPORTED = ["read", "write", "follow", "push", "profile", "admin:read", "admin:write"] + [
    f"{head}:{tail}" for head, tails in _GRANULAR.items() for tail in tails
]


def application_to_api(app: OAuthApp, vapid_key: str = "") -> dict[str, Any]:
    """Mastodon's Application entity (the public part: no client credentials); `vapid_key`, the
    instance's Web Push key, for the app's own requests."""
    uris = app.redirect_uris.split()
    return {
        "id": str(app.id), "name": app.name, "website": app.website, "scopes": app.scopes.split(),
        "redirect_uri": "\n".join(uris), "redirect_uris": uris, "vapid_key": vapid_key,
    }


async def create_app(request: web.Request) -> web.Response:
    try:
        values = await params(request)
        name = text_param(values, "client_name", required=True)
        # each may be one string of several, a JSON array, or repeated name[] fields
        redirect_uris = " ".join(map(str, list_param(values, "redirect_uris")))
        scopes = " ".join(map(str, list_param(values, "scopes")))
        website = text_param(values, "website")
        try:
            uris = oauth.parse_redirect_uris(redirect_uris)
            async with request.app[DATABASE].sessions.begin() as session:
                new = await oauth.register_app(
                    session, name=name, redirect_uris=uris, website=website, at=request.app[CLOCK].now(),
                    scopes=scopes or oauth.DEFAULT_SCOPES,
                )
        except AccountError as exc:
            raise ApiError(422, f"Validation failed: {exc}") from None
    except ApiError as exc:
        return exc.response()
    return json_response(application_to_api(new.app, await server_key(request)) | {
        "client_id": new.app.client_id, "client_secret": new.client_secret, "client_secret_expires_at": 0,
    })


async def verify_credentials(request: web.Request) -> web.Response:
    try:
        digest = bearer_digest(request)

        def read(session: Session) -> tuple[Caller, OAuthApp | None]:
            caller = caller_in(session, digest)
            return caller, app_by_id(session, caller.token.app_id) if caller.token.app_id is not None else None
        caller, app = await request.app[DATABASE].read(read)
    except ApiError as exc:
        return exc.response()
    if app is None:  # a token made with `rounds token`, not through an app
        oob = oauth.OOB_REDIRECT_URI
        return json_response({"id": None, "name": caller.token.name or "rounds", "website": None,
                              "scopes": caller.token.scopes.split(), "redirect_uri": oob, "redirect_uris": [oob],
                              "vapid_key": await server_key(request)})
    return json_response(application_to_api(app, await server_key(request)))


async def authorization_server_metadata(request: web.Request) -> web.Response:
    base = request.app[URLS].base
    grants = ["authorization_code", "client_credentials"]
    if request.app[SETTINGS].api.password_grant:
        grants.append("password")
    return json_response({
        "issuer": base,
        "service_documentation": "https://docs.joinmastodon.org/",
        "authorization_endpoint": f"{base}/oauth/authorize",
        "token_endpoint": f"{base}/oauth/token",
        "revocation_endpoint": f"{base}/oauth/revoke",
        "app_registration_endpoint": f"{base}/api/v1/apps",
        "scopes_supported": SCOPES_SUPPORTED,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": grants,
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
    })


def setup(app: web.Application) -> None:
    for path in ("/api/v1/apps", "/api/v1/apps/"):
        app.router.add_post(path, create_app)
    for path in ("/api/v1/apps/verify_credentials", "/api/v1/apps/verify_credentials/"):
        app.router.add_get(path, verify_credentials)
    for path in ("/.well-known/oauth-authorization-server", "/.well-known/oauth-authorization-server/"):
        app.router.add_get(path, authorization_server_metadata)
