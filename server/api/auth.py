"""Bearer tokens and scopes for the client API.

Scopes nest as Mastodon's do: `read` covers `read:statuses`, `admin:write` covers
`admin:write:domain_blocks`. A missing or unknown token is 401; a token without the scope, or an
admin endpoint reached by a non-admin, is 403. Both answer `{"error": ...}`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from aiohttp import web
from sqlalchemy.orm import Session

from federation.social.access import Reader
from federation.social.accounts import hash_token, note_activity
from server.appkeys import CLOCK, DATABASE
from server.responses import error_response
from storage import tokens as token_queries
from storage.models import Account, Actor, OAuthToken

T = TypeVar("T")


class ApiError(Exception):
    """Becomes `{"error": message}` with `status`."""

    challenge = "Bearer"  # a 401's WWW-Authenticate

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status

    def response(self) -> web.Response:
        headers = {"WWW-Authenticate": self.challenge} if self.status == 401 else None
        return error_response(self.status, str(self), headers=headers)


class InvalidToken(ApiError):
    """401 for a missing, unknown or revoked token, or one whose user is disabled: the one 401
    that tells a client to drop its token (any other says what else the request lacks)."""

    challenge = 'Bearer error="invalid_token"'

    def __init__(self) -> None:
        super().__init__(401, "The access token is invalid")


@dataclass(frozen=True)
class Caller:
    token: OAuthToken
    account: Account | None
    actor: Actor | None  # the account's actor
    scopes: frozenset[str]

    @property
    def reader(self) -> Reader:
        """Who reads, for the read rule (federation.social.access.may_read)."""
        if self.account is None or self.actor is None:
            return Reader.app
        return Reader.admin if self.account.is_admin else Reader.moderator if self.account.is_moderator \
            else Reader.user


def scope_allows(granted: frozenset[str], needed: str) -> bool:
    parts = needed.split(":")
    return any(":".join(parts[:n]) in granted for n in range(1, len(parts) + 1))


def bearer_digest(request: web.Request) -> str:
    """The digest of the request's bearer token, as tokens are stored; 401 without one."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidToken()
    return hash_token(token.strip())


def caller_in(session: Session, digest: str) -> Caller:
    """Who the token with `digest` acts for; 401 if it is unknown, revoked, or its user is
    disabled. Synchronous, so that a read can check its caller in its own transaction."""
    found = token_queries.live_token(session, digest)
    if found is None or (found[1] is not None and found[1].disabled):
        raise InvalidToken()
    stored, account, actor = found
    return Caller(stored, account, actor, frozenset(stored.scopes.split()))


CALLER = web.RequestKey("caller", Caller)


async def request_caller(request: web.Request, token: str | None = None) -> Caller:
    """Who the request's token acts for (401 without a valid one): `token` where the request
    carries it elsewhere (streaming), else the bearer token. Looked up once per request, so the
    read rule's check (server/access.py) and the handler share one lookup."""
    if CALLER not in request:
        digest = bearer_digest(request) if token is None else hash_token(token.strip())
        caller = await request.app[DATABASE].read(lambda session: caller_in(session, digest))
        request[CALLER] = await _noted(request.app, caller)
    return request[CALLER]


def stream_token(request: web.Request) -> tuple[str | None, bool]:
    """A streaming request's access token, and whether it came as the WebSocket subprotocol
    (then it is echoed back, as browsers require)."""
    websocket = request.headers.get("Upgrade", "").lower() == "websocket"
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip(), False
    if request.query.get("access_token"):
        return request.query["access_token"], False
    if websocket and request.headers.get("Sec-WebSocket-Protocol"):
        return request.headers["Sec-WebSocket-Protocol"].split(",")[0].strip() or None, True
    return None, False


def user_of(caller: Caller) -> Actor:
    """The actor of the user the caller acts for; 403 for an app-only token."""
    if caller.actor is None:
        raise ApiError(403, "This method requires an authenticated user")
    return caller.actor


def require(caller: Caller, *needed: str, admin: bool = False) -> Caller:
    """The caller, if its token holds one of the `needed` scopes (and is an admin's, with `admin`)."""
    if not any(scope_allows(caller.scopes, scope) for scope in needed):
        raise ApiError(403, "This action is outside the authorized scopes")
    if admin and (caller.account is None or not caller.account.is_admin):
        raise ApiError(403, "This action is allowed only to admins")
    return caller


async def authenticate(request: web.Request, *needed: str, admin: bool = False) -> Caller:
    """The request's caller, whose token holds one of the `needed` scopes."""
    return require(await request_caller(request), *needed, admin=admin)


async def read_as(request: web.Request, needed: str, fn: Callable[[Session, Caller], T]) -> tuple[Caller, T]:
    """`fn(session, caller)`, for a caller allowed `needed`, in the same read that checks the
    token: a hot read (a timeline page) then costs one transaction, not two."""
    digest = bearer_digest(request)

    def read(session: Session) -> tuple[Caller, T]:
        caller = require(caller_in(session, digest), needed)
        return caller, fn(session, caller)
    caller, result = await request.app[DATABASE].read(read)
    return await _noted(request.app, caller), result


async def _noted(app: web.Application, caller: Caller) -> Caller:
    """The caller, once its use is recorded (see note_activity)."""
    if caller.account is not None:
        await note_activity(app[DATABASE], caller.account, app[CLOCK].now())
    return caller
