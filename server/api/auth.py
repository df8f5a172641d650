"""Bearer tokens and scopes for the client API.

Scopes nest as Mastodon's do: `read` covers `read:statuses`, `admin:write` covers
`admin:write:domain_blocks`. A missing or unknown token is 401; a token without the scope, or an
admin endpoint reached by a non-admin, is 403. Both answer `{"error": ...}`.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from federation.accounts import hash_token, note_activity
from server.appkeys import CLOCK, DATABASE
from server.responses import error_response
from storage import tokens as token_queries
from storage.models import Account, Actor, OAuthToken


class ApiError(Exception):
    """Becomes `{"error": message}` with `status`."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status

    def response(self) -> web.Response:
        headers = {"WWW-Authenticate": 'Bearer error="invalid_token"'} if self.status == 401 else None
        return error_response(self.status, str(self), headers=headers)


@dataclass(frozen=True)
class Caller:
    token: OAuthToken
    account: Account | None
    actor: Actor | None  # the account's actor
    scopes: frozenset[str]


def scope_allows(granted: frozenset[str], needed: str) -> bool:
    parts = needed.split(":")
    return any(":".join(parts[:n]) in granted for n in range(1, len(parts) + 1))


async def caller_for_token(app: web.Application, token: str) -> Caller:
    """Who a bearer token acts for; 401 if it is unknown, revoked, or its user is disabled."""
    digest = hash_token(token.strip())
    found = await app[DATABASE].read(lambda session: token_queries.live_token(session, digest))
    if found is None or (found[1] is not None and found[1].disabled):
        raise ApiError(401, "The access token is invalid")
    stored, account, actor = found
    if account is not None:
        await note_activity(app[DATABASE], account, app[CLOCK].now())
    return Caller(stored, account, actor, frozenset(stored.scopes.split()))


def require(caller: Caller, needed: str, *, admin: bool = False) -> Caller:
    if not scope_allows(caller.scopes, needed):
        raise ApiError(403, "This action is outside the authorized scopes")
    if admin and (caller.account is None or not caller.account.is_admin):
        raise ApiError(403, "This action is allowed only to admins")
    return caller


async def authenticate(request: web.Request, needed: str, *, admin: bool = False) -> Caller:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "The access token is invalid")
    return require(await caller_for_token(request.app, token), needed, admin=admin)
