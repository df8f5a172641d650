"""`rounds user disable|enable|reset-password|revoke-tokens|remove-second-factor`: an admin's actions on a local user
from the shell. Each runs in one transaction with its audit entry (federation/admin/users.py);
`rounds audit --subject @NAME` shows them."""

from __future__ import annotations

import argparse
import getpass

from federation.admin import users

from federation.social import accounts
from federation.runtime.clock import SystemClock
from server.commands import open_database_checked, require_initialised
from server.config import Settings

CLOCK = SystemClock()


def _by() -> str:
    return f"cli:{getpass.getuser()}"


async def user_disable(settings: Settings, args: argparse.Namespace) -> int:
    return await _set_disabled(settings, args, True)


async def user_enable(settings: Settings, args: argparse.Namespace) -> int:
    return await _set_disabled(settings, args, False)


async def _set_disabled(settings: Settings, args: argparse.Namespace, disabled: bool) -> int:
    async with open_database_checked(settings) as db:
        await require_initialised(db, settings)
        async with db.sessions.begin() as session:
            account, changed = await users.set_disabled(
                session, args.name, disabled, by=_by(), at=CLOCK.now(), reason=args.reason)
    if not changed:
        print(f"{account.username} is already {'disabled' if disabled else 'active'}; nothing changed.")
    elif disabled:
        print(f"Disabled {account.username}; their logins and tokens no longer work.")
    else:
        print(f"Enabled {account.username}; they can sign in again, and their unrevoked tokens work again.")
    return 0


async def user_reset_password(settings: Settings, args: argparse.Namespace) -> int:
    password = accounts.random_password() if args.random_password else args.password
    async with open_database_checked(settings) as db:
        await require_initialised(db, settings)
        async with db.sessions.begin() as session:
            revoked = await users.reset_password(
                session, args.name, password, by=_by(), at=CLOCK.now(), reason=args.reason)
    print(f"Reset the password of {args.name}; revoked {revoked} token(s), so every app must sign in again.")
    if args.random_password:
        print(f"Password: {password}")
    return 0


async def user_revoke_tokens(settings: Settings, args: argparse.Namespace) -> int:
    async with open_database_checked(settings) as db:
        await require_initialised(db, settings)
        async with db.sessions.begin() as session:
            revoked = await users.revoke_tokens(session, args.name, by=_by(), at=CLOCK.now(), reason=args.reason)
    print(f"Revoked {revoked} token(s) of {args.name}; their apps must sign in again.")
    return 0


async def user_remove_second_factor(settings: Settings, args: argparse.Namespace) -> int:
    async with open_database_checked(settings) as db:
        await require_initialised(db, settings)
        async with db.sessions.begin() as session:
            had = await users.remove_second_factor(session, args.name, by=_by(), at=CLOCK.now(), reason=args.reason)
    print(f"Removed the second factor of {args.name}; the password alone signs in." if had
          else f"{args.name} has no second factor; nothing changed.")
    return 0
