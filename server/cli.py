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

from federation.social.accounts import AccountError
from federation.peers.decisions import PeerError
from federation.admin.queues import QueueError
from federation.admin.invites import InviteError
from federation.admin.announcements import AnnouncementError
from federation.communities.groups import CommunityError
from federation.social.emojis import EmojiError
from server import commands, community_commands, invite_commands, notice_commands, peer_commands, queue_commands, user_commands
from server.commands import CommandError
from server.config import ConfigError, Settings, load_settings
from server.version import VERSION
from storage.db import DatabaseUnavailable, describe_error
from storage.models import PeerState

EXIT_REFUSED = 1
EXIT_USAGE = 2
COVERAGE = ("A peer is a host, plus :port when not the default. An entry 'host' covers that host on "
            "every port, 'host:port' that port only; '*.example.org' covers example.org and every "
            "host under it (add :port to cover that port only). Hosts may be IPv4 addresses or "
            "[IPv6] addresses, never under a wildcard. An entry that could never match (such as "
            "*.127.0.0.1 or example.org:443) is refused.")


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
    _add_user_admin_commands(user_sub)

    _add_peer_commands(sub)
    queue_commands.add_queue_commands(sub)
    invite_commands.add_invite_commands(sub)
    notice_commands.add_notice_commands(sub)
    community_commands.add_community_commands(sub)

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


def _add_user_admin_commands(user_sub) -> None:
    """disable, enable, reset-password, revoke-tokens, remove-second-factor: each audited ('rounds audit --subject @NAME')."""
    for name, run, helptext, description in (
        ("disable", user_commands.user_disable, "stop a user from signing in",
         "Disable a user: their sign-ins and tokens stop working; their posts stay."),
        ("enable", user_commands.user_enable, "let a disabled user sign in again",
         "Enable a disabled user: they can sign in again, and their tokens that were not revoked work again."),
        ("reset-password", user_commands.user_reset_password, "set a new password and sign the user out everywhere",
         "Set a new password for a user and revoke all their tokens and unused authorization codes, "
         "so every app signed in with the old password must sign in again. Without --password or "
         "--random-password, the password is asked for on the terminal."),
        ("revoke-tokens", user_commands.user_revoke_tokens, "sign a user out of every app",
         "Revoke every token a user holds (apps, scripts, 'token create') and their unused "
         "authorization codes. The password is unchanged."),
        ("remove-second-factor", user_commands.user_remove_second_factor, "remove a user's second factor",
         "Remove a user's second factor (TOTP) and recovery codes, for one who lost her phone and "
         "her codes: her password alone signs in again, until she sets a new one up."),
    ):
        action = user_sub.add_parser(name, help=helptext, description=description + " The change is written to the audit log.")
        action.add_argument("name", help="the username")
        if name == "reset-password":
            secret = action.add_mutually_exclusive_group()
            secret.add_argument("--password", metavar="PW", help="the new password (at least 8 characters)")
            secret.add_argument("--random-password", action="store_true", help="generate a password and print it")
        action.add_argument("--reason", default="", metavar="TEXT", help="why, kept in the audit log")
        action.set_defaults(run=run)


def _add_peer_commands(sub) -> None:
    states = [state.value for state in PeerState]
    peers = sub.add_parser(
        "peers", help="decide which peer hospitals this instance federates with",
        description="Manage peers: the servers this instance federates with. " + COVERAGE
        + " Every change is written to the audit log ('rounds audit').",
    )
    peer_sub = peers.add_subparsers(dest="peers_command", metavar="ACTION", required=True)
    listing = peer_sub.add_parser("list", help="list peers with their state and delivery health",
                                  description="List peers: state, who decided, last contact, requests "
                                  "(counted in memory and written every few seconds), last successful "
                                  "delivery, queued and dead deliveries, and the newest of the last "
                                  "failed delivery and the last refused request, with its reason.")
    listing.add_argument("--state", choices=states, help="only peers in this state")
    listing.set_defaults(run=peer_commands.peers_list)
    peer_sub.add_parser("pending", help="list peers that contacted us and were refused",
                        description="Peers that tried to reach this instance in allowlist mode and "
                        "were refused (knocks): how many times, first and last seen, the last route "
                        "and reason, and whether the signature was valid against a key this instance "
                        "already held (keys of refused peers are never fetched: 'unverified'). Each "
                        "source address may add federation.pending_peers_per_address_per_hour new "
                        "peers an hour, at most federation.pending_peers_max are kept, and one silent "
                        "for federation.pending_peer_expiry_days is forgotten. 'rounds peers allow "
                        "DOMAIN' lets one in, and this instance then tells it so with a signed "
                        "request, so it sends what it kept for us at once.").set_defaults(
        run=peer_commands.peers_pending, state="pending")
    show = peer_sub.add_parser("show", help="everything known about one peer",
                               description="Show one peer: its state and who decided, requests, the last "
                               "refused request (route, reason, key, signature), queued and dead "
                               "deliveries, the last failure and the backoff.")
    show.add_argument("domain", help="the peer's host or host:port, or an entry such as *.example.org")
    show.set_defaults(run=peer_commands.peers_show)
    for name, helptext, run in (
            ("allow", "allow a peer", peer_commands.peers_allow),
            ("limit", "limit a peer: it federates as an allowed one, but its posts stay out of the "
                      "federated and hashtag timelines (only its accounts' followers see them, at home); "
                      "Mastodon's 'silence'", peer_commands.peers_limit),
            ("block", "block a peer: severs follows, cancels deliveries", peer_commands.peers_block),
            ("remove", "forget the decision about a peer", peer_commands.peers_remove)):
        parser = peer_sub.add_parser(name, help=helptext, description=helptext[:1].upper() + helptext[1:] + ". " + COVERAGE)
        parser.add_argument("domain", help="host, host:port, *.example.org or *.example.org:port")
        parser.add_argument("--note", "--reason", dest="note", metavar="TEXT",
                            help="the public reason, kept with the peer and in the audit log")
        if name == "block":
            parser.add_argument("--purge", action="store_true",
                                help="also delete the peer's cached actors and their posts")
        parser.set_defaults(run=run)
    imports = peer_sub.add_parser(
        "import", help="import allows or blocks from a file",
        description="Import a Mastodon domain-block CSV (#domain,#severity,...: severity suspend "
        "blocks a peer, silence limits it, noop is skipped), or a domain list (one per line, or "
        "CSV with a #domain header) as allows. Every line is checked first; if any is bad, "
        "nothing is applied and the line is named.",
    )
    imports.add_argument("file")
    imports.set_defaults(run=peer_commands.peers_import)
    exports = peer_sub.add_parser(
        "export", help="print allows or blocks in an importable format",
        description="Print allowed peers as a #domain CSV, or (--state blocked) the blocked and "
        "limited peers as a Mastodon domain-block CSV, with severity suspend and silence.",
    )
    exports.add_argument("--state", choices=["allowed", "blocked"], default="allowed")
    exports.set_defaults(run=peer_commands.peers_export)
    subscribe = peer_sub.add_parser(
        "subscribe", help="follow a published list of peers",
        description="Subscribe to a peer list published at URL (e.g. a consortium's members) and "
        "apply it now; workers refresh it periodically. New members are allowed (or pending "
        "with --review); members dropped from the list are removed; peers an admin set by hand "
        "are never touched.",
    )
    subscribe.add_argument("url")
    subscribe.add_argument("--review", action="store_true", help="add new members as pending, for an admin to allow")
    subscribe.set_defaults(run=peer_commands.peers_subscribe)
    peer_sub.add_parser("refresh", help="refresh every subscribed list now",
                        description="Fetch and apply every subscribed peer list now.").set_defaults(
        run=peer_commands.peers_refresh)

    audit = sub.add_parser("audit", help="show the audit log of policy and user changes",
                           description="Show policy changes (CLI, admin API, subscriptions) and admin "
                           "actions on users: when, who, what, the state before and after, and why.")
    audit.add_argument("--subject", help="only changes to this domain, URL or @user")
    audit.add_argument("--limit", type=int, default=100, help="show at most this many (default 100)")
    audit.set_defaults(run=peer_commands.audit_log)


def _settings(args: argparse.Namespace) -> Settings:
    path = args.config or os.environ.get("ROUNDS_CONFIG")
    if not path:
        raise ConfigError("no configuration: pass --config FILE or set ROUNDS_CONFIG")
    return load_settings(path)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if hasattr(args, "check"):  # what argparse cannot say: exits with status 2, like argparse
        args.check(args)
    os.umask(0o077)  # the data directory holds private keys: nothing Rounds writes is world-readable
    run: Callable[[Settings, argparse.Namespace], Coroutine[Any, Any, int | None]] = args.run
    try:
        settings = _settings(args)
        logging.basicConfig(
            level=settings.server.log_level.upper(),
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        )
        logging.getLogger("alembic").setLevel(logging.WARNING)
        if args.run in (commands.user_add, user_commands.user_reset_password) and args.password is None \
                and not args.random_password:
            args.password = _ask_password(args.name)
        return asyncio.run(run(settings, args)) or 0
    except ConfigError as exc:
        return _fail(f"config error: {exc}", EXIT_USAGE)
    except DatabaseUnavailable as exc:
        return _fail(f"database error: {exc}", EXIT_USAGE)
    except (AccountError, CommandError, PeerError, QueueError, InviteError, AnnouncementError, EmojiError,
            CommunityError) as exc:
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
        raise CommandError("the passwords differ; nothing was done")
    return first


def _fail(message: str, status: int) -> int:
    print(f"rounds: {message}", file=sys.stderr)
    return status
