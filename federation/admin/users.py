"""What an admin does to local users: disable, enable, reset a password, revoke tokens, remove
a second factor (a practitioner who lost her phone and her recovery codes).

Each change writes an audit entry in the caller's transaction: who, the action (`user.disable`,
`user.enable`, `user.reset_password`, `user.revoke_tokens`, `user.remove_second_factor`), the user as `@name`, the state and
live token count before and after, and the reason given. Disabling or enabling a user who is
already in that state changes nothing and writes nothing.

A password reset also revokes every token the user holds and voids every authorization code not
yet exchanged: whoever knew the old password may have signed an app in with it, and a reset that
left that app signed in would not lock them out.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from federation.social.accounts import AccountError, check_new_password, hash_password, login_name
from federation.admin.audit import audit
from storage import actors as actor_queries
from storage import second_factors as factor_queries
from storage import tokens as token_queries
from storage.models import Account


async def _account(session: AsyncSession, username: str) -> Account:
    account = await actor_queries.account_by_username(session, login_name(username))
    if account is None:
        raise AccountError(f"no user named {username!r}; 'rounds user list' shows them")
    return account


async def _snapshot(session: AsyncSession, account: Account) -> dict[str, Any]:
    tokens = await token_queries.count_live_tokens(session, account.id)
    return {"state": "disabled" if account.disabled else "active", "tokens": tokens}


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
    """Set a new password and revoke the user's tokens and codes; how many tokens were revoked."""
    check_new_password(password)
    account = await _account(session, username)
    before = await _snapshot(session, account)
    account.password_hash = hash_password(password)
    revoked = await _revoke(session, account, at)
    await audit(session, by=by, action="user.reset_password", subject=f"@{account.username}", before=before,
                after=await _snapshot(session, account), reason=_joined(reason, f"tokens revoked: {revoked}"), at=at)
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
