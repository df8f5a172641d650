"""What an admin does to local users: create, disable, enable, reset a password, revoke tokens,
give a role, remove a second factor (a practitioner who lost her phone and her recovery codes).

Each change writes an audit entry in the caller's transaction: who, the action (`user.disable`,
`user.enable`, `user.reset_password`, `user.revoke_tokens`, `user.remove_second_factor`), the user as `@name`, the state and
live token count before and after, and the reason given. Disabling or enabling a user who is
already in that state changes nothing and writes nothing.

A password reset also revokes every token the user holds and voids every authorization code not
yet exchanged: whoever knew the old password may have signed an app in with it, and a reset that
left that app signed in would not lock them out. For the same reason it signs the user's web
sessions out.

Roles: a `user`; a `moderator`, who looks after users and queues and reads the audit log from
the admin pages; an `admin`, who does everything (peers, settings, roles too).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from federation.admin.audit import audit
from federation.protocol.urls import LocalUrls
from federation.social import accounts
from federation.social.accounts import AccountError, check_new_password, hash_password, login_name
from storage import actors as actor_queries
from storage import second_factors as factor_queries
from storage import tokens as token_queries
from storage import web_sessions as web_session_queries
from storage.models import Account

USER, MODERATOR, ADMIN = "user", "moderator", "admin"
ROLES = (USER, MODERATOR, ADMIN)


def role_of(account: Account) -> str:
    return ADMIN if account.is_admin else MODERATOR if account.is_moderator else USER


async def _account(session: AsyncSession, username: str) -> Account:
    account = await actor_queries.account_by_username(session, login_name(username))
    if account is None:
        raise AccountError(f"no user named {username!r}; 'rounds user list' shows them")
    return account


async def _snapshot(session: AsyncSession, account: Account) -> dict[str, Any]:
    tokens = await token_queries.count_live_tokens(session, account.id)
    return {"state": "disabled" if account.disabled else "active", "tokens": tokens, "role": role_of(account)}


def may_manage(manager: Account, account: Account) -> bool:
    """Whether `manager` may disable, enable or reset the password of `account`: an admin anyone
    but themself (an admin locked out by their own hand needs another), a moderator plain users
    only (else a moderator could take an admin's account by resetting its password)."""
    if manager.id == account.id:
        return False
    return manager.is_admin or (manager.is_moderator and role_of(account) == USER)


async def account_named(session: AsyncSession, username: str) -> Account:
    """The user by name; AccountError if there is none."""
    return await _account(session, username)


async def create(
    session: AsyncSession, urls: LocalUrls, username: str, password: str, *, role: str = USER, by: str, at: datetime,
    reason: str = "",
) -> Account:
    """A new local user with this password and role."""
    if role not in ROLES:
        raise AccountError(f"no role {role!r} (user, moderator or admin)")
    account, _ = await accounts.create_user(session, urls, username, password=password, is_admin=role == ADMIN)
    account.is_moderator = role == MODERATOR
    await audit(session, by=by, action="user.create", subject=f"@{account.username}", before=None,
                after=await _snapshot(session, account), reason=reason, at=at)
    return account


async def set_role(session: AsyncSession, username: str, role: str, *, by: str, at: datetime, reason: str = "") -> bool:
    """Give a user a role; whether it changed (the same role again writes nothing)."""
    if role not in ROLES:
        raise AccountError(f"no role {role!r} (user, moderator or admin)")
    account = await _account(session, username)
    if role_of(account) == role:
        return False
    before = await _snapshot(session, account)
    account.is_admin, account.is_moderator = role == ADMIN, role == MODERATOR
    await audit(session, by=by, action="user.role", subject=f"@{account.username}", before=before,
                after=await _snapshot(session, account), reason=reason, at=at)
    return True


async def set_disabled(
    session: AsyncSession, username: str, disabled: bool, *, by: str, at: datetime, reason: str = "",
) -> tuple[Account, bool]:
    """Disable or enable a user; (account, whether anything changed). A disabled user cannot
    sign in, and their tokens stop working (and work again once enabled)."""
    account = await _account(session, username)
    if account.disabled is disabled:
        return account, False
    before = await _snapshot(session, account)
    account.disabled = disabled
    await audit(session, by=by, action="user.disable" if disabled else "user.enable", subject=f"@{account.username}",
                before=before, after=await _snapshot(session, account), reason=reason, at=at)
    return account, True


async def revoke_tokens(session: AsyncSession, username: str, *, by: str, at: datetime, reason: str = "") -> int:
    """Revoke every token the user holds and void their unexchanged authorization codes; how
    many tokens were revoked."""
    account = await _account(session, username)
    before = await _snapshot(session, account)
    revoked = await _revoke(session, account, at)
    await audit(session, by=by, action="user.revoke_tokens", subject=f"@{account.username}", before=before,
                after=await _snapshot(session, account), reason=_joined(reason, f"tokens revoked: {revoked}"), at=at)
    return revoked


async def reset_password(
    session: AsyncSession, username: str, password: str, *, by: str, at: datetime, reason: str = "",
) -> int:
    """Set a new password, revoke the user's tokens and codes and sign their web sessions out;
    how many tokens were revoked."""
    check_new_password(password)
    account = await _account(session, username)
    before = await _snapshot(session, account)
    account.password_hash = hash_password(password)
    revoked = await _revoke(session, account, at)
    signed_out = await web_session_queries.revoke_sessions_except(session, account.id, None, at)
    effects = f"tokens revoked: {revoked}, web sessions signed out: {signed_out}"
    await audit(session, by=by, action="user.reset_password", subject=f"@{account.username}", before=before,
                after=await _snapshot(session, account), reason=_joined(reason, effects), at=at)
    return revoked


async def remove_second_factor(session: AsyncSession, username: str, *, by: str, at: datetime,
                               reason: str = "") -> bool:
    """Remove the user's second factor and recovery codes, so the password alone signs in (or,
    under [web] require_second_factor, she sets a new one up); whether she had one."""
    account = await _account(session, username)
    had = await factor_queries.factor_of(session, account.id) is not None
    if had:
        await factor_queries.remove_factor(session, account.id)
        await audit(session, by=by, action="user.remove_second_factor", subject=f"@{account.username}",
                    before={"second_factor": True}, after={"second_factor": False}, reason=reason, at=at)
    return had


async def _revoke(session: AsyncSession, account: Account, at: datetime) -> int:
    await token_queries.void_account_codes(session, account.id, at)
    return await token_queries.revoke_account_tokens(session, account.id, at)


def _joined(reason: str, effects: str) -> str:
    return "; ".join(filter(None, [reason, effects]))
