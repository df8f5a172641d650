"""Local actors and their logins: the instance actor, users, passwords, OAuth apps, codes and
bearer tokens.

Creating a user makes three things in one transaction: a `Person` actor with a fresh RSA-2048
key pair, an account row (argon2 password hash), and nothing else; the caller commits.
Usernames are lowercase ASCII letters, digits and underscores, as on Mastodon.

OAuth secrets (client secrets, authorization codes, tokens) are 256-bit random strings stored as
SHA-256 digests: they are too long to guess, so a fast hash is enough. Passwords are not, so they
use argon2 (argon2-cffi's default work: about a quarter of a second of CPU), run in a thread so a
login never stalls the event loop. `password_hashing` is the seam for the test suite, which makes
and signs in thousands of users: it swaps in cheaper work factors while it lasts.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.ext.asyncio import AsyncSession

from federation.protocol.keys import new_actor_keypair
from federation.protocol.urls import INSTANCE_ACTOR_USERNAME, LocalUrls
from storage import actors as actor_queries
from storage import tokens as token_queries
from storage.db import Database
from storage.local_accounts import add_account, add_local_actor, merge_preferences, set_last_active
from storage.models import Account, Actor, ActorType

USERNAME_RE = re.compile(r"^[a-z0-9_]{1,30}$")
RESERVED_USERNAMES = frozenset(
    {INSTANCE_ACTOR_USERNAME, "admin_api", "actor", "about", "inbox", "users", "api", "oauth",
     "nodeinfo", "well_known", "static", "media", "healthz", "instance"}
)
KNOWN_SCOPES = frozenset(
    {"read", "write", "follow", "push", "admin:read", "admin:write", "profile"}
)
_password_hasher = PasswordHasher()


@contextmanager
def password_hashing(hasher: PasswordHasher) -> Iterator[None]:
    """Hash and verify passwords with `hasher` while the context lasts (for tests; a server
    always uses the default)."""
    global _password_hasher
    previous, _password_hasher = _password_hasher, hasher
    try:
        yield
    finally:
        _password_hasher = previous


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


def new_local_actor(urls: LocalUrls, username: str, actor_type: ActorType, *, url: str | None = None,
                    **fields) -> Actor:
    """A local actor row with a fresh RSA-2048 key pair (a user, a community, the instance); its
    profile page (`url`) is /@username unless given."""
    keys = new_actor_keypair()
    return Actor(
        uri=urls.actor(username),
        local=True,
        type=actor_type,
        username=username,
        domain=urls.authority,
        url=url or urls.profile(username),
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
    actor = new_local_actor(
        urls, INSTANCE_ACTOR_USERNAME, ActorType.Application,
        display_name="Rounds", manually_approves_followers=True, discoverable=False,
    )
    return await add_local_actor(session, actor), True


def normalise_username(username: str) -> str:
    name = username.strip().lower()
    if not USERNAME_RE.match(name):
        raise AccountError(
            f"invalid username {username!r}: use 1 to 30 letters, digits or underscores"
        )
    if name in RESERVED_USERNAMES:
        raise AccountError(f"the username {name!r} is reserved")
    return name


def check_new_password(password: str) -> None:
    if len(password) < 8:
        raise AccountError("the password must be at least 8 characters long")


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
    if password is not None:
        check_new_password(password)
    actor = await add_local_actor(session, new_local_actor(urls, name, ActorType.Person, display_name=display_name or name))
    account = await add_account(session, Account(
        actor_id=actor.id,
        username=name,
        password_hash=hash_password(password) if password is not None else None,
        is_admin=is_admin,
    ))
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
def _unknown_user_hash(hasher: PasswordHasher) -> str:
    """A hash no password matches, verified for unknown users so they cost as much as known ones."""
    return hasher.hash(secrets.token_urlsafe(32))


def _password_matches(stored: str | None, password: str) -> bool:
    hasher = _password_hasher
    try:
        return hasher.verify(stored or _unknown_user_hash(hasher), password) and stored is not None
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


async def change_password(session: AsyncSession, account: Account, current: str, new: str) -> None:
    """Set a new password, proven by the current one (LoginError if it is wrong; AccountError if
    the new one is too short). The caller commits, and decides whom to sign out."""
    row = await actor_queries.account_by_id(session, account.id)
    if row is None or not await asyncio.to_thread(_password_matches, row.password_hash, current):
        raise LoginError("wrong password")
    check_new_password(new)
    row.password_hash = await asyncio.to_thread(hash_password, new)


async def set_preferences(session: AsyncSession, account: Account, changes: dict[str, Any]) -> None:
    """Change some of the account's preferences (`posting:default:visibility`, `web:language`,
    ...; None removes one). The caller commits."""
    await merge_preferences(session, account.id, changes)


ACTIVE_GRAIN = timedelta(hours=1)


async def note_activity(db: Database, account: Account, at: datetime) -> None:
    """Record that `account` used the instance at `at` (NodeInfo's active-user counts read it),
    writing at most once per ACTIVE_GRAIN so that reads stay reads."""
    if account.last_active_at is not None and at - account.last_active_at < ACTIVE_GRAIN:
        return
    async with db.sessions.begin() as session:
        await set_last_active(session, account.id, at)


# OAuth 2 ----------------------------------------------------------------------------------------
