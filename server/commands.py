"""What each `rounds` subcommand does. `server.cli` parses arguments and maps errors to exit
codes; these coroutines do the work, each in its own transaction."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web

from federation.admin.users import role_of
from federation.protocol.urls import LocalUrls
from federation.runtime.clock import SystemClock
from federation.runtime.context import open_federation
from federation.runtime.workers import Workers
from federation.social import accounts
from federation.social.accounts import AccountError, check_identity
from server.app import create_app, make_runner
from server.config import ConfigError, Settings
from server.version import VERSION
from storage import actors as actor_queries
from storage.db import (
    Database,
    check_sqlite_file,
    claim_node,
    ensure_schema,
    open_configured,
    ping,
)
from storage.migrate import at_head, pending_revisions, upgrade_to_head
from storage.models import Actor

log = logging.getLogger(__name__)


class CommandError(Exception):
    """A command cannot go ahead; the message says why and what to do."""


@asynccontextmanager
async def open_database_checked(settings: Settings, *, create_dirs: bool = False) -> AsyncIterator[Database]:
    if create_dirs:
        _make_private_dirs(settings)
    if settings.sqlite_path is not None:
        if not create_dirs and not settings.sqlite_path.exists():
            raise CommandError(
                f"the database {settings.sqlite_path} does not exist; run 'rounds init' first"
            )
        check_sqlite_file(settings.sqlite_path)
    db = open_configured(settings.database)
    try:
        await ping(db)
        yield db
    finally:
        await db.dispose()


def _make_private_dirs(settings: Settings) -> None:
    """Create data_dir and the SQLite file's directory if missing, each only where its parent
    exists: a mistyped path stops here, before anything is created anywhere."""
    wanted = {settings.data_dir: "data_dir"}
    if settings.sqlite_path is not None:
        wanted.setdefault(settings.sqlite_path.parent, "the database directory in [database] url")
    missing = [path for path in wanted if not path.is_dir()]
    for path in missing:
        if path.exists():
            raise ConfigError(f"{wanted[path]} {path} is not a directory; fix the path")
        if not path.parent.is_dir() and path.parent not in missing:
            raise ConfigError(f"{wanted[path]} {path} cannot be created: its parent {path.parent} "
                              f"{'is not a directory' if path.parent.exists() else 'does not exist'}; "
                              "create it first, or fix the path")
    for path in sorted(missing, key=lambda path: len(path.parts)):
        try:
            path.mkdir(mode=0o700)
        except OSError as exc:
            raise ConfigError(f"cannot create {wanted[path]} {path}: {exc.strerror}; fix the path or its permissions") from None


async def require_initialised(db: Database, settings: Settings) -> None:
    if await pending_revisions(db):
        raise CommandError("the database schema is not up to date; run 'rounds migrate' (or 'rounds init')")
    async with db.sessions() as session:
        instance = await actor_queries.instance_actor(session)
    if instance is None:
        raise CommandError("this instance is not initialised; run 'rounds init' first")
    _check_identity(instance, settings)


def _check_identity(instance: Actor, settings: Settings) -> None:
    """A public_url that differs from the database's is a configuration error (status 2)."""
    try:
        check_identity(instance, LocalUrls(settings.public_url))
    except AccountError as exc:
        raise ConfigError(str(exc)) from None


async def initialise(db: Database, settings: Settings) -> tuple[Actor, bool]:
    """Schema, migrations and the instance actor: everything `init` does to a reachable database."""
    await ensure_schema(db, settings.database.schema)
    await upgrade_to_head(db)
    async with db.sessions() as session:
        existing = await actor_queries.instance_actor(session)
    if existing is not None:
        _check_identity(existing, settings)
    async with db.sessions.begin() as session:
        return await accounts.ensure_instance_actor(session, LocalUrls(settings.public_url))


async def init(settings: Settings, args: argparse.Namespace) -> int:
    async with open_database_checked(settings, create_dirs=True) as db:
        actor, created = await initialise(db, settings)
    config = f"--config {args.config} " if args.config else ""
    state = "Initialised" if created else "Already initialised; migrations are up to date for"
    print(f"{state} {settings.public_url} (instance actor {actor.uri}).")
    print("Next steps:")
    print(f"  rounds {config}user add NAME --random-password --admin   # create the first admin")
    print(f"  rounds {config}serve                                      # serve on http://{settings.server.host}:{settings.server.port}")
    return 0


async def migrate(settings: Settings, args: argparse.Namespace) -> int:
    async with open_database_checked(settings, create_dirs=True) as db:
        await ensure_schema(db, settings.database.schema)
        pending = await pending_revisions(db)
        await upgrade_to_head(db)
    print(f"Applied {len(pending)} migration(s); the database is up to date." if pending else "The database is up to date.")
    return 0


async def user_add(settings: Settings, args: argparse.Namespace) -> int:
    password = accounts.random_password() if args.random_password else args.password
    async with open_database_checked(settings) as db:
        await require_initialised(db, settings)
        async with db.sessions.begin() as session:
            account, actor = await accounts.create_user(
                session, LocalUrls(settings.public_url), args.name,
                password=password, is_admin=args.admin, display_name=args.display_name,
            )
    role = role_of(account)
    print(f"Created {role} {account.username} ({actor.uri}).")
    if args.random_password:
        print(f"Password: {password}")
    return 0


async def user_list(settings: Settings, args: argparse.Namespace) -> int:
    async with open_database_checked(settings) as db:
        await require_initialised(db, settings)
        async with db.sessions() as session:
            rows = await actor_queries.list_accounts(session)
    if not rows:
        print("No users yet; add one with 'rounds user add NAME --random-password'.")
        return 0
    print(f"{'USERNAME':<24} {'ROLE':<9} {'STATE':<9} {'CREATED':<11} ACTOR")
    for account, actor in rows:
        role = role_of(account)
        state = "disabled" if account.disabled else "active"
        print(f"{account.username:<24} {role:<9} {state:<9} {account.created_at:%Y-%m-%d}  {actor.uri}")
    return 0


async def token_create(settings: Settings, args: argparse.Namespace) -> int:
    async with open_database_checked(settings) as db:
        await require_initialised(db, settings)
        async with db.sessions.begin() as session:
            new = await accounts.create_token(session, args.name, args.scopes, name=args.label)
    print(new.token)
    return 0


async def serve(settings: Settings, args: argparse.Namespace) -> int:
    async with open_database_checked(settings, create_dirs=True) as db:
        if settings.is_sqlite and not await at_head(db):
            await upgrade_to_head(db)
        await require_initialised(db, settings)
    app = create_app(settings, workers=not args.no_workers)
    runner = make_runner(app, access_log=log if settings.server.access_log else None)
    await runner.setup()
    site = web.TCPSite(runner, settings.server.host, settings.server.port)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        raise CommandError(
            f"cannot listen on {settings.server.host}:{settings.server.port}: {exc.strerror}; "
            "change [server] host/port or stop what is using it"
        ) from None
    gc.freeze()  # what exists once the app is up lives as long as the process: collections skip it
    print(f"Rounds {settings.public_url} is serving on http://{settings.server.host}:{settings.server.port} (Ctrl-C stops it)", flush=True)
    try:
        await _until_signalled()
    finally:
        log.info("shutting down")
        await runner.cleanup()
    return 0


async def worker(settings: Settings, args: argparse.Namespace) -> int:
    if settings.is_sqlite:
        raise CommandError("'rounds worker' needs PostgreSQL; on SQLite, 'rounds serve' runs the only worker")
    async with open_database_checked(settings) as db:
        await require_initialised(db, settings)
        await claim_node(db)
        urls = LocalUrls(settings.public_url)
        async with open_federation(settings.federation, urls, db, SystemClock(),
                                   user_agent=f"Rounds/{VERSION} (+{settings.public_url})",
                                   max_json_depth=settings.server.max_json_depth) as fed:
            workers = Workers(fed, settings.media_dir)
            await workers.start()
            print(f"Rounds worker for {settings.public_url} is running (Ctrl-C stops it)", flush=True)
            try:
                await _until_signalled()
            finally:
                await workers.stop()
    return 0


async def _until_signalled() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
