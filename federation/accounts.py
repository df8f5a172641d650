"""Local actors and their logins: the instance actor, users, passwords, OAuth apps, codes and
bearer tokens.

Creating a user makes three things in one transaction: a `Person` actor with a fresh RSA-2048
key pair, an account row (argon2 password hash), and nothing else; the caller commits.
Usernames are lowercase ASCII letters, digits and underscores, as on Mastodon.

OAuth secrets (client secrets, authorization codes, tokens) are 256-bit random strings stored as
SHA-256 digests: they are too long to guess, so a fast hash is enough. Passwords are not, so they
use argon2, run in a thread so a login never stalls the event loop.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import SplitResult, urlsplit

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.ext.asyncio import AsyncSession

from federation.keys import generate_rsa_keypair
from federation.urls import INSTANCE_ACTOR_USERNAME, LocalUrls
from storage import actors as actor_queries
from storage import tokens as token_queries
from storage.models import Account, Actor, ActorType, OAuthApp, OAuthCode

USERNAME_RE = re.compile(r"^[a-z0-9_]{1,30}$")
RESERVED_USERNAMES = frozenset(
    {INSTANCE_ACTOR_USERNAME, "admin_api", "actor", "about", "inbox", "users", "api", "oauth",
     "nodeinfo", "well_known", "static", "media", "healthz", "instance"}
)
KNOWN_SCOPES = frozenset(
    {"read", "write", "follow", "push", "admin:read", "admin:write", "profile"}
)
_password_hasher = PasswordHasher()


class AccountError(Exception):
    """A user or token request that cannot be carried out; the message says why."""


@dataclass(frozen=True)
class NewToken:
    token: str  # shown once, never stored
    scopes: str


def hash_password(password: str) -> str:
    return _password_hasher.hash(password)


def random_password() -> str:
    return secrets.token_urlsafe(18)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _local_actor(urls: LocalUrls, username: str, actor_type: ActorType, **fields) -> Actor:
    keys = generate_rsa_keypair()
    return Actor(
        uri=urls.actor(username),
        local=True,
        type=actor_type,
        username=username,
        domain=urls.authority,
        url=urls.profile(username),
        inbox=urls.inbox(username),
        outbox=urls.outbox(username),
        shared_inbox=urls.shared_inbox,
        followers_url=urls.followers(username),
        following_url=urls.following(username),
        featured_url=urls.featured(username),
        key_id=urls.key_id(username),
        public_key_pem=keys.public_pem,
        private_key_pem=keys.private_pem,
        **fields,
    )


def check_identity(instance_actor: Actor, urls: LocalUrls) -> None:
    """Refuse to run a database under another public_url than the one it was made for."""
    if instance_actor.uri != urls.instance_actor:
        raise AccountError(
            f"this database belongs to {instance_actor.uri}, not {urls.instance_actor}; "
            "public_url fixes an instance's identity and cannot change"
        )


async def ensure_instance_actor(session: AsyncSession, urls: LocalUrls) -> tuple[Actor, bool]:
    """The instance's `Application` actor, created with its keys if missing. Returns
    (actor, created)."""
    existing = await actor_queries.instance_actor(session)
    if existing is not None:
        check_identity(existing, urls)
        return existing, False
    actor = _local_actor(
        urls, INSTANCE_ACTOR_USERNAME, ActorType.Application,
        display_name="Rounds", manually_approves_followers=True, discoverable=False,
    )
    session.add(actor)
    await session.flush()
    return actor, True


def normalise_username(username: str) -> str:
    name = username.strip().lower()
    if not USERNAME_RE.match(name):
        raise AccountError(
            f"invalid username {username!r}: use 1 to 30 letters, digits or underscores"
        )
    if name in RESERVED_USERNAMES:
        raise AccountError(f"the username {name!r} is reserved")
    return name


async def create_user(
    session: AsyncSession,
    urls: LocalUrls,
    username: str,
    *,
    password: str | None,
    is_admin: bool = False,
    display_name: str = "",
) -> tuple[Account, Actor]:
    name = normalise_username(username)
    if await actor_queries.local_actor_by_username(session, name) is not None:
        raise AccountError(f"a user named {name!r} already exists")
    if password is not None and len(password) < 8:
        raise AccountError("the password must be at least 8 characters long")
    actor = _local_actor(urls, name, ActorType.Person, display_name=display_name or name)
    session.add(actor)
    await session.flush()
    account = Account(
        actor_id=actor.id,
        username=name,
        password_hash=hash_password(password) if password is not None else None,
        is_admin=is_admin,
    )
    session.add(account)
    await session.flush()
    return account, actor


async def disable_user(session: AsyncSession, username: str) -> Account:
    account = await actor_queries.account_by_username(session, username)
    if account is None:
        raise AccountError(f"no user named {username!r}")
    account.disabled = True
    return account


def parse_scopes(scopes: str) -> str:
    """Validate a space-separated scope list (granular `read:statuses` forms included)."""
    parts = scopes.split()
    if not parts:
        raise AccountError("give at least one scope, e.g. --scopes \"read write follow\"")
    for scope in parts:
        head, _, tail = scope.rpartition(":")
        if scope not in KNOWN_SCOPES and not (tail and head in KNOWN_SCOPES):
            raise AccountError(
                f"unknown scope {scope!r}; scopes are read, write, follow, push, profile, "
                "admin:read, admin:write and their granular forms such as read:statuses"
            )
    return " ".join(dict.fromkeys(parts))


async def create_token(
    session: AsyncSession, username: str, scopes: str, *, name: str = "cli"
) -> NewToken:
    account = await actor_queries.account_by_username(session, username)
    if account is None:
        raise AccountError(f"no user named {username!r}")
    if account.disabled:
        raise AccountError(f"the user {username!r} is disabled")
    scope_list = parse_scopes(scopes)
    if any(s.startswith("admin:") for s in scope_list.split()) and not account.is_admin:
        raise AccountError(f"admin scopes need an admin user; {username!r} is not one")
    token = secrets.token_urlsafe(32)
    await token_queries.add_token(
        session, token_hash=hash_token(token), account_id=account.id, scopes=scope_list, name=name
    )
    return NewToken(token, scope_list)


# Logins -----------------------------------------------------------------------------------------


class LoginError(AccountError):
    """Wrong credentials (`disabled` False) or a disabled account (`disabled` True)."""

    def __init__(self, message: str, *, disabled: bool = False) -> None:
        super().__init__(message)
        self.disabled = disabled


@functools.cache
def _unknown_user_hash() -> str:
    """A hash no password matches, verified for unknown users so they cost as much as known ones."""
    return _password_hasher.hash(secrets.token_urlsafe(32))


def _password_matches(stored: str | None, password: str) -> bool:
    try:
        return _password_hasher.verify(stored or _unknown_user_hash(), password) and stored is not None
    except (VerificationError, InvalidHashError, UnicodeError):
        return False


def login_name(username: str) -> str:
    """What a person types as a username: `alice`, `@alice` or `Alice`."""
    return username.strip().lstrip("@").lower()


async def check_login(session: AsyncSession, username: str, password: str, *, at: datetime) -> Account:
    """The account these credentials open. Argon2 runs in a thread, with the same work for an
    unknown username as for a known one. Marks the account active; the caller commits."""
    name = login_name(username)
    account = await actor_queries.account_by_username(session, name) if USERNAME_RE.match(name) else None
    stored = account.password_hash if account is not None else None
    if not await asyncio.to_thread(_password_matches, stored, password) or account is None:
        raise LoginError("wrong username or password")
    if account.disabled:
        raise LoginError("this account is disabled", disabled=True)
    if _password_hasher.check_needs_rehash(stored):
        account.password_hash = await asyncio.to_thread(hash_password, password)
    account.last_active_at = at
    return account


# OAuth 2 ----------------------------------------------------------------------------------------

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
    account = await session.get(Account, found.account_id)
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
