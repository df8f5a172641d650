"""Real Rounds instances for tests: each on its own loopback port with its own database.

`InstanceFactory.start()` binds a socket on 127.0.0.1 first, so the instance's public_url
(http://127.0.0.1:PORT) is known before its settings are built and no port can be stolen in
between. On PostgreSQL each instance gets its own schema in the test database, dropped at the
end of the test.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import re
import shutil
import socket
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
from aiohttp import web
from sqlalchemy import text

from federation.inbox import worker
from federation.outbox.delivery import DeliveryWorker
from federation.protocol.urls import LocalUrls
from federation.runtime.context import Federation
from federation.social import accounts
from server.app import create_app, make_runner
from server.appkeys import DATABASE, FEDERATION
from server.commands import initialise
from server.config import Settings, settings_from_dict
from storage import actors as actor_queries
from storage.db import Database, open_configured, open_database
from storage.migrate import at_head, upgrade_to_head
from storage.models import Account, Actor
from tests.clock import FakeClock


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@asynccontextmanager
async def side_server(routes: dict[str, Callable[[web.Request], Awaitable[web.StreamResponse]]]
                      ) -> AsyncIterator[str]:
    """A small web server of GET `routes` on a loopback port of its own (an app's callback, an
    attacker's page): its base URL, while the context lasts."""
    app = web.Application()
    for path, handler in routes.items():
        app.router.add_get(path, handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


def settings_for(
    base_dir: Path, public_url: str, database_url: str | None, port: int, **sections
) -> Settings:
    """Settings for a test instance: SQLite in base_dir, or a fresh schema on PostgreSQL."""
    database = {"url": "sqlite+aiosqlite:///./rounds.db"}
    if database_url:
        schema = _emptied.pop() if _emptied else f"t_{uuid.uuid4().hex[:16]}"
        database = {"url": database_url, "schema": schema}
    raw = {
        "public_url": public_url,
        "data_dir": "./data",
        "server": {"host": "127.0.0.1", "port": port} | sections.pop("server", {}),
        "database": database | sections.pop("database", {}),
        "federation": {"allow_http": True, "allow_private_addresses": True} | sections.pop("federation", {}),
        **sections,
    }
    return settings_from_dict(raw, base_dir=base_dir, source="test config")


_SQLITE_PREFIX = "sqlite+aiosqlite:///"
_template: Path | None = None  # this test process's SQLite database at the head migration, with no rows


async def _migrated_template() -> Path:
    """A SQLite file with every migration applied, made once per test process: running the
    migrations takes about 0.4 s, and the suite starts an instance a thousand times."""
    global _template
    if _template is None:
        path = Path(tempfile.mkdtemp(prefix="rounds-template-")) / "template.db"
        db = open_database(f"{_SQLITE_PREFIX}{path}")
        try:
            await upgrade_to_head(db)
        finally:
            await db.dispose()  # the last connection's close folds the WAL into the file
        _template = path
    return _template


async def prepare_database(settings: Settings) -> None:
    """Run what `rounds init` runs. A new SQLite database starts as a copy of the migrated
    template, and a PostgreSQL one is often a schema emptied for reuse: both are at the head
    migration, so only the instance actor is added (asking Alembic whether anything is pending
    costs about 30 ms of CPU per instance)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if settings.database.url.startswith(_SQLITE_PREFIX):
        target = Path(settings.database.url.removeprefix(_SQLITE_PREFIX))
        if not target.exists():
            shutil.copyfile(await _migrated_template(), target)
    db = open_configured(settings.database)
    try:
        if await at_head(db):
            async with db.sessions.begin() as session:
                await accounts.ensure_instance_actor(session, LocalUrls(settings.public_url))
        else:
            await initialise(db, settings)
    finally:
        await db.dispose()


# PostgreSQL: schemas at the head migration that a closed test's instance left, emptied, for the
# next instance of this process (running the migrations into a new schema costs about a second)
_emptied: list[str] = []


# Deleting the few rows a test left is several times cheaper than TRUNCATE, which gives each of
# the schema's fifty-odd tables and their indexes new files (about 1.5 s a schema under load).
# Foreign keys and other triggers are off while it runs (session_replication_role), and nothing
# waits for the commit to reach the disk: a schema that never empties is simply dropped.
_EMPTY_SCHEMA = """DO $$
DECLARE name text;
BEGIN
  FOR name IN SELECT tablename FROM pg_tables WHERE schemaname = '{schema}' AND tablename <> 'alembic_version' LOOP
    EXECUTE format('DELETE FROM %I.%I', '{schema}', name);
  END LOOP;
  FOR name IN SELECT sequencename FROM pg_sequences WHERE schemaname = '{schema}' LOOP
    EXECUTE format('ALTER SEQUENCE %I.%I RESTART', '{schema}', name);
  END LOOP;
END $$"""


async def empty_for_reuse(database_url: str, schema: str) -> None:
    """Empty every table of the schema but Alembic's, restart its sequences, and keep it for the
    next instance; drop it instead if it cannot be emptied at once."""
    assert re.fullmatch(r"t_[0-9a-f]{16}", schema), schema  # a name settings_for made, safe to quote as is
    db = open_database(database_url)
    try:
        async with db.engine.begin() as conn:
            await conn.execute(text("SET LOCAL lock_timeout = '5s'"))
            await conn.execute(text("SET LOCAL session_replication_role = replica"))
            await conn.execute(text("SET LOCAL synchronous_commit = off"))
            await conn.execute(text(_EMPTY_SCHEMA.format(schema=schema)))
        _emptied.append(schema)
    except Exception:
        await drop_schema(database_url, schema)
    finally:
        await db.dispose()


def commit_without_flush(dbapi_connection, _record) -> None:
    """A pool "connect" listener: a PostgreSQL connection of this test process does not wait for
    each commit to reach the disk (synchronous_commit off, about 13 ms a commit here), as the
    SQLite tests do not (WAL, synchronous=NORMAL). What a transaction sees is unchanged; only a
    crash of the database server could lose the last commits. conftest listens with it."""
    if isinstance(getattr(dbapi_connection, "driver_connection", None), asyncpg.Connection):
        autocommit, dbapi_connection.autocommit = dbapi_connection.autocommit, True
        cursor = dbapi_connection.cursor()
        cursor.execute("SET SESSION synchronous_commit = off")
        cursor.close()
        dbapi_connection.autocommit = autocommit


def _drop_emptied_at_exit() -> None:
    url = os.environ.get("ROUNDS_TEST_DATABASE_URL")
    if url and _emptied:
        async def drop_all() -> None:
            for schema in _emptied:
                await drop_schema(url, schema)
        asyncio.run(drop_all())


atexit.register(_drop_emptied_at_exit)


async def drop_schema(database_url: str, schema: str) -> None:
    db = open_database(database_url)
    try:
        async with db.engine.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    finally:
        await db.dispose()


@dataclass
class Instance:
    """A running instance. Its workers do not run by themselves: `step()` runs them once."""

    settings: Settings
    runner: web.AppRunner
    app: web.Application
    clock: FakeClock
    received: list[tuple[str, str]]  # (method, path) of every request this instance served
    sock: socket.socket
    urls: LocalUrls = field(init=False)
    delivery: DeliveryWorker = field(init=False)
    stopped: bool = False

    def __post_init__(self) -> None:
        self.urls = LocalUrls(self.settings.public_url)
        self.delivery = DeliveryWorker(self.fed)

    @property
    def fed(self) -> Federation:
        return self.app[FEDERATION]

    @property
    def port(self) -> int:
        return self.settings.server.port

    async def step(self) -> int:
        """Run the inbox processor and the delivery worker once each; how much they took."""
        return await worker.run_once(self.fed) + await self.delivery.run_once()

    @property
    def base(self) -> str:
        return self.settings.public_url

    @property
    def db(self) -> Database:
        return self.app[DATABASE]

    async def add_user(self, name: str, *, password: str = "correct horse battery", admin: bool = False) -> tuple[Account, Actor]:
        async with self.db.sessions.begin() as session:
            return await accounts.create_user(
                session, self.urls, name, password=password, is_admin=admin
            )

    async def stop(self) -> None:
        if not self.stopped:
            self.stopped = True
            await self.runner.cleanup()
            self.sock.close()

    async def actor(self, username: str) -> Actor:
        async with self.db.sessions() as session:
            found = await actor_queries.local_actor_by_username(session, username)
        assert found is not None
        return found


class InstanceFactory:
    def __init__(self, tmp_path: Path, database_url: str | None) -> None:
        self._tmp_path = tmp_path
        self._database_url = database_url
        self._instances: list[Instance] = []
        self._schemas: list[str] = []

    async def start(self, name: str = "a", *, prepare: Callable[[web.Application], object] | None = None,
                    **sections) -> Instance:
        """An instance named `name` with these settings `sections`; `prepare(app)`, if given, may
        change the app (add a route, say) before it starts."""
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        base_dir = self._tmp_path / name
        base_dir.mkdir(parents=True, exist_ok=True)
        settings = settings_for(
            base_dir, f"http://127.0.0.1:{port}", self._database_url, port,
            **(sections | {"federation": {"mode": "open", **sections.get("federation", {})}}),
        )
        if settings.database.schema:
            self._schemas.append(settings.database.schema)
        await prepare_database(settings)
        return await self._serve(settings, sock, FakeClock(), prepare)

    async def restart(self, instance: Instance) -> Instance:
        """Stop `instance` if running and serve the same settings and database again, on the same
        port, with the same clock."""
        await instance.stop()
        self._instances.remove(instance)
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", instance.port))
        return await self._serve(instance.settings, sock, instance.clock)

    async def _serve(self, settings: Settings, sock: socket.socket, clock: FakeClock,
                     prepare: Callable[[web.Application], object] | None = None) -> Instance:
        app = create_app(settings, clock=clock, workers=False)
        if prepare is not None:
            prepare(app)
        received: list[tuple[str, str]] = []

        @web.middleware
        async def record(request: web.Request, handler):
            received.append((request.method, request.path))
            return await handler(request)

        app.middlewares.insert(0, record)
        runner = make_runner(app)
        await runner.setup()
        await web.SockSite(runner, sock).start()
        instance = Instance(settings, runner, app, clock, received, sock)
        self._instances.append(instance)
        return instance

    async def close(self) -> None:
        for instance in self._instances:
            await instance.stop()
        for schema in self._schemas:
            await empty_for_reuse(self._database_url, schema)


async def settle(*instances: Instance, rounds: int = 50) -> None:
    """Step every instance's workers until none has anything left to do (bounded)."""
    for _ in range(rounds):
        if sum([await instance.step() for instance in instances]) == 0:
            return
    raise AssertionError("the instances did not settle")
