"""OAuth 2 for the client API: app registration, redirect URI and scope checks, PKCE,
authorization codes (single use, short-lived, stored hashed) and token issue and revocation.
The HTTP side is server/api/oauth.py; logins themselves are `federation.social.accounts.check_login`."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import SplitResult, urlsplit

from sqlalchemy.ext.asyncio import AsyncSession

from federation.social.accounts import AccountError, NewToken, hash_token, parse_scopes
from storage import tokens as token_queries
from storage.actors import account_by_id
from storage.models import Account, OAuthApp, OAuthCode

OOB_REDIRECT_URI = "urn:ietf:wg:oauth:2.0:oob"
CODE_LIFETIME = timedelta(minutes=10)
DEFAULT_SCOPES = "read"
_CHALLENGE_RE = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")
_UNSAFE_SCHEMES = frozenset({"javascript", "data", "vbscript", "file"})


class OAuthError(Exception):
    """A refused OAuth request: `error` is the RFC 6749 code, the message its description."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error


@dataclass(frozen=True)
class NewApp:
    app: OAuthApp
    client_secret: str  # shown once, never stored


def _split(uri: str) -> SplitResult:
    """The parts of a URI; a malformed one (e.g. a broken IPv6 literal) has none."""
    try:
        return urlsplit(uri)
    except ValueError:
        return SplitResult("", "", "", "", "")


def parse_redirect_uris(value: str | list[str]) -> list[str]:
    """Absolute URIs without fragments (custom schemes for mobile apps allowed), or the OOB URN."""
    items = value if isinstance(value, list) else value.split()
    uris = list(dict.fromkeys(item.strip() for item in items if item.strip()))
    if not uris:
        raise AccountError("redirect_uris can't be blank")
    if len(uris) > 20:
        raise AccountError("give at most 20 redirect_uris")
    for uri in uris:
        if uri == OOB_REDIRECT_URI:
            continue
        parts = _split(uri)
        scheme = parts.scheme.lower()
        if (len(uri) > 2000 or not scheme or parts.fragment or scheme in _UNSAFE_SCHEMES
                or (scheme in ("http", "https") and not parts.hostname) or not (parts.netloc or parts.path)):
            raise AccountError(f"redirect URI {uri!r} must be an absolute URI without a fragment")
    return uris


async def register_app(
    session: AsyncSession, *, name: str, redirect_uris: list[str], scopes: str,
    website: str | None, at: datetime,
) -> NewApp:
    name = name.strip()
    if not name or len(name) > 255:
        raise AccountError("client_name must be 1 to 255 characters")
    if website and (_split(website).scheme not in ("http", "https") or not _split(website).hostname
                    or len(website) > 2048):
        raise AccountError("website must be an http or https URL")
    secret = secrets.token_urlsafe(32)
    app = await token_queries.add_app(
        session, name=name, website=website or None, client_id=secrets.token_urlsafe(32),
        client_secret_hash=hash_token(secret), redirect_uris="\n".join(redirect_uris),
        scopes=parse_scopes(scopes), created_at=at,
    )
    return NewApp(app, secret)


async def authenticate_client(session: AsyncSession, client_id: str, client_secret: str) -> OAuthApp:
    app = await token_queries.app_by_client_id(session, client_id) if client_id else None
    if app is None or not hmac.compare_digest(hash_token(client_secret), app.client_secret_hash):
        raise OAuthError("invalid_client", "client authentication failed: unknown client_id or wrong client_secret")
    return app


def check_redirect_uri(app: OAuthApp, redirect_uri: str) -> str:
    """The registered URI this request names, compared exactly; without one, the app's only URI."""
    registered = app.redirect_uris.split()
    if not redirect_uri and len(registered) == 1:
        return registered[0]
    if redirect_uri not in registered:
        raise OAuthError("invalid_request", "redirect_uri is not one this app registered")
    return redirect_uri


def scope_covers(granted: Iterable[str], scope: str) -> bool:
    """Whether a granted scope covers `scope` (`read` covers `read:statuses`)."""
    parts = scope.split(":")
    wanted = {":".join(parts[:n]) for n in range(1, len(parts) + 1)}
    return not wanted.isdisjoint(granted)


def requested_scopes(app: OAuthApp, scope: str) -> str:
    """The scopes a request asks for ("read" if none), each within the app's registered scopes."""
    try:
        scopes = parse_scopes(scope or DEFAULT_SCOPES)
    except AccountError as exc:
        raise OAuthError("invalid_scope", str(exc)) from None
    outside = [s for s in scopes.split() if not scope_covers(app.scopes.split(), s)]
    if outside:
        raise OAuthError("invalid_scope", f"this app did not register the scopes {' '.join(outside)}")
    return scopes


def check_code_challenge(challenge: str, method: str) -> None:
    if not challenge and not method:
        return
    if method != "S256":
        raise OAuthError("invalid_request", "code_challenge_method must be S256")
    if not _CHALLENGE_RE.match(challenge):
        raise OAuthError("invalid_request", "code_challenge must be 43 to 128 URL-safe characters")


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()


async def issue_code(
    session: AsyncSession, app: OAuthApp, account: Account, *, redirect_uri: str, scopes: str,
    code_challenge: str, at: datetime,
) -> str:
    code = secrets.token_urlsafe(32)
    await token_queries.add_code(session, OAuthCode(
        code_hash=hash_token(code), app_id=app.id, account_id=account.id, redirect_uri=redirect_uri,
        scopes=scopes, code_challenge=code_challenge or None,
        code_challenge_method="S256" if code_challenge else None, created_at=at,
        expires_at=at + CODE_LIFETIME,
    ))
    return code


async def issue_token(
    session: AsyncSession, app: OAuthApp, account: Account | None, scopes: str, *, at: datetime
) -> NewToken:
    token = secrets.token_urlsafe(32)
    await token_queries.add_app_token(
        session, token_hash=hash_token(token), account_id=account.id if account else None,
        app_id=app.id, scopes=scopes, created_at=at,
    )
    return NewToken(token, scopes)


async def redeem_code(
    session: AsyncSession, app: OAuthApp, code: str, *, redirect_uri: str, code_verifier: str,
    at: datetime,
) -> NewToken:
    """Exchange an authorization code, once, within its lifetime, with the redirect URI it was
    made for and, if it was made with a PKCE challenge, the matching verifier."""
    found = await token_queries.code_by_hash(session, hash_token(code)) if code else None
    if found is None or found.app_id != app.id:
        raise OAuthError("invalid_grant", "the authorization code is unknown or was issued to another app")
    if found.used_at is not None:
        raise OAuthError("invalid_grant", "the authorization code was already used")
    if at >= found.expires_at:
        raise OAuthError("invalid_grant", "the authorization code has expired; authorize again")
    registered = app.redirect_uris.split()
    if not redirect_uri and len(registered) == 1:
        redirect_uri = registered[0]
    if redirect_uri != found.redirect_uri:
        raise OAuthError("invalid_grant", "redirect_uri differs from the one the code was issued for")
    if found.code_challenge and not code_verifier:
        raise OAuthError("invalid_grant", "code_verifier is required: the code was requested with a PKCE challenge")
    if found.code_challenge and not (
        _CHALLENGE_RE.match(code_verifier) and hmac.compare_digest(s256(code_verifier), found.code_challenge)
    ):
        raise OAuthError("invalid_grant", "code_verifier does not match the code_challenge")
    if code_verifier and not found.code_challenge:
        raise OAuthError("invalid_grant", "code_verifier given, but the code was requested without a challenge")
    account = await account_by_id(session, found.account_id)
    if account is None or account.disabled:
        raise OAuthError("invalid_grant", "the account that authorized this code is disabled")
    if not await token_queries.claim_code(session, found.id, at):
        raise OAuthError("invalid_grant", "the authorization code was already used")
    return await issue_token(session, app, account, found.scopes, at=at)


async def revoke_app_token(session: AsyncSession, app: OAuthApp, token: str, *, at: datetime) -> None:
    """Revoke a token this app holds. An unknown or already revoked token is not an error
    (RFC 7009); another app's token is."""
    found = await token_queries.token_by_hash(session, hash_token(token))
    if found is None or found.revoked_at is not None:
        return
    if found.app_id != app.id:
        raise OAuthError("unauthorized_client", "this token was issued to another app")
    await token_queries.revoke_token(session, found.id, at)
