"""The `rounds` command.

Every failure a person can fix (a bad config file, an unreachable database, a taken username)
ends as one line on stderr that says what is wrong and how to fix it, never a traceback:
status 2 for configuration and database problems and bad arguments, 1 for a refused request.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import os
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from federation.accounts import AccountError
from server import commands
from server.commands import CommandError
from server.config import ConfigError, Settings, load_settings
from server.version import VERSION
from storage.db import DatabaseUnavailable, describe_error

EXIT_REFUSED = 1
EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rounds",
        description="Rounds: a federated ActivityPub server for knowledge sharing between hospitals.",
        epilog="Without --config, the ROUNDS_CONFIG environment variable names the file. "
        "Run 'rounds COMMAND --help' for a command's options.",
    )
    parser.add_argument("--config", metavar="FILE", help="configuration file (TOML); see config.example.toml")
    parser.add_argument("--version", action="version", version=f"rounds {VERSION}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    sub.add_parser(
        "init", help="create the database, run migrations and create the instance actor",
        description="Create the data directory and database, run all migrations, and create the "
        "instance actor and its keys. Running it again is harmless.",
    ).set_defaults(run=commands.init)
    serve = sub.add_parser(
        "serve", help="run the web server and background workers",
        description="Serve HTTP on [server] host and port, with the inbox and delivery workers in "
        "the same process. On SQLite, pending migrations run first.",
    )
    serve.add_argument(
        "--no-workers", action="store_true",
        help="serve HTTP only; run 'rounds worker' processes for the queues (PostgreSQL)",
    )
    serve.set_defaults(run=commands.serve)
    sub.add_parser(
        "worker", help="run extra inbox and delivery workers (PostgreSQL)",
        description="Process the inbox and delivery queues without serving HTTP. Any number of "
        "workers can share a PostgreSQL database; each claims rows with FOR UPDATE SKIP LOCKED. "
        "SQLite has one writer, so there 'rounds serve' runs the only worker.",
    ).set_defaults(run=commands.worker)
    sub.add_parser(
        "migrate", help="run database migrations to the newest version",
        description="Apply every pending Alembic migration. Safe to run at any time.",
    ).set_defaults(run=commands.migrate)

    user = sub.add_parser("user", help="manage local users", description="Manage local users.")
    user_sub = user.add_subparsers(dest="user_command", metavar="ACTION", required=True)
    add = user_sub.add_parser(
        "add", help="create a user",
        description="Create a local user (a Person actor with its own key pair). Without "
        "--password or --random-password, the password is asked for on the terminal.",
    )
    add.add_argument("name", help="username: 1 to 30 lowercase letters, digits or underscores")
    secret = add.add_mutually_exclusive_group()
    secret.add_argument("--password", metavar="PW", help="the password (at least 8 characters)")
    secret.add_argument("--random-password", action="store_true", help="generate a password and print it")
    add.add_argument("--admin", action="store_true", help="make the user an administrator")
    add.add_argument("--display-name", metavar="TEXT", default="", help="the name shown on the profile")
    add.set_defaults(run=commands.user_add)
    user_sub.add_parser(
        "list", help="list users", description="List local users, their roles and state."
    ).set_defaults(run=commands.user_list)
    disable = user_sub.add_parser(
        "disable", help="stop a user from logging in",
        description="Disable a user: their logins and tokens stop working; their posts stay.",
    )
    disable.add_argument("name")
    disable.set_defaults(run=commands.user_disable)

    token = sub.add_parser("token", help="manage API tokens", description="Manage bearer tokens.")
    token_sub = token.add_subparsers(dest="token_command", metavar="ACTION", required=True)
    create = token_sub.add_parser(
        "create", help="print a new bearer token for a user",
        description="Create a bearer token for a user and print it (once) on stdout, for "
        "scripts and tests. Only its hash is stored.",
    )
    create.add_argument("name", help="the user the token acts as")
    create.add_argument(
        "--scopes", default="read write follow",
        help='space-separated OAuth scopes (default: "read write follow")',
    )
    create.add_argument("--label", default="cli", help="a note on what the token is for")
    create.set_defaults(run=commands.token_create)
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    path = args.config or os.environ.get("ROUNDS_CONFIG")
    if not path:
        raise ConfigError("no configuration: pass --config FILE or set ROUNDS_CONFIG")
    return load_settings(path)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    os.umask(0o077)  # the data directory holds private keys: nothing Rounds writes is world-readable
    run: Callable[[Settings, argparse.Namespace], Coroutine[Any, Any, int | None]] = args.run
    try:
        settings = _settings(args)
        logging.basicConfig(
            level=settings.server.log_level.upper(),
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        )
        logging.getLogger("alembic").setLevel(logging.WARNING)
        if args.run is commands.user_add and args.password is None and not args.random_password:
            args.password = _ask_password(args.name)
        return asyncio.run(run(settings, args)) or 0
    except ConfigError as exc:
        return _fail(f"config error: {exc}", EXIT_USAGE)
    except DatabaseUnavailable as exc:
        return _fail(f"database error: {exc}", EXIT_USAGE)
    except (AccountError, CommandError) as exc:
        return _fail(str(exc), EXIT_REFUSED)
    except SQLAlchemyError as exc:
        return _fail(f"database error: {describe_error(exc)}", EXIT_USAGE)
    except KeyboardInterrupt:
        return 130


def _ask_password(name: str) -> str:
    if not sys.stdin.isatty():
        raise CommandError("give --password PW or --random-password (no terminal to ask on)")
    first = getpass.getpass(f"Password for {name}: ")
    if getpass.getpass("Again: ") != first:
        raise CommandError("the passwords differ; nothing was created")
    return first


def _fail(message: str, status: int) -> int:
    print(f"rounds: {message}", file=sys.stderr)
    return status
