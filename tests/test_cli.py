"""The `rounds` command, run as a real process: the whole first-run flow, and each failure
as one line with exit status 2. Commands run in processes forked with the command imported
(tests/rounds_process.py); `rounds serve` starts the real executable."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import aiohttp
import pytest
from alembic import command
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from federation.social.accounts import hash_token
from federation.protocol.keys import load_private_key
from server.config import load_settings
from storage import actors as actor_queries
from storage import tokens as token_queries
from storage.db import open_database
from storage.migrate import alembic_config, pending_revisions
from tests.cli_helpers import help_text
from tests.instances import drop_schema, free_port
from tests.rounds_process import run_rounds

ROUNDS = [str(Path(sys.executable).with_name("rounds"))]


def run(*args: str, config: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    """`rounds [--config CONFIG] ARGS` in a process of its own (tests/rounds_process.py), with
    these environment variables added."""
    return run_rounds((["--config", str(config)] if config else []) + list(args), env={**os.environ, **(env or {})})


@pytest.fixture
def config(tmp_path, database_url):
    """A config file for a fresh instance on a free loopback port; its PG schema is dropped after."""
    port = free_port()
    database = 'url = "sqlite+aiosqlite:///./data/rounds.db"'
    schema = ""
    if database_url:
        schema = f"t_{uuid.uuid4().hex[:16]}"
        database = f'url = "{database_url}"\nschema = "{schema}"'
    path = tmp_path / "rounds.toml"
    path.write_text(
        f'public_url = "http://127.0.0.1:{port}"\ndata_dir = "./data"\n'
        f"[server]\nport = {port}\n[database]\n{database}\n[federation]\nallow_http = true\n"
        '[web]\npublic_pages = "profiles"\n'
    )
    yield path
    if schema:
        asyncio.run(drop_schema(database_url, schema))


async def _wait_until_serving(base: str, process: subprocess.Popen, seconds: float = 60) -> None:
    """Until /healthz answers 200. The interpreter and the imports take a few seconds of CPU, more
    than 10 s of wall time on a loaded machine (the whole suite beside it): the deadline is only
    there to stop a server that never comes up."""
    deadline = asyncio.get_running_loop().time() + seconds
    async with aiohttp.ClientSession() as http:
        while asyncio.get_running_loop().time() < deadline:
            assert process.poll() is None, process.stderr.read()
            try:
                async with http.get(f"{base}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.05)
    raise AssertionError("rounds serve did not start")


async def test_first_run_flow_init_user_serve_discover_and_verify_key(config):
    # Given an initialised instance (init twice is harmless) with one admin
    first = run("init", config=config)
    assert first.returncode == 0, first.stderr
    assert "user add NAME" in first.stdout and "serve" in first.stdout
    again = run("init", config=config)
    assert again.returncode == 0 and "Already initialised" in again.stdout
    added = run("user", "add", "alice", "--random-password", "--admin", config=config)
    assert added.returncode == 0, added.stderr
    assert "Password: " in added.stdout
    listed = run("user", "list", config=config)
    assert "alice" in listed.stdout and "admin" in listed.stdout

    # When it serves
    port = int(config.read_text().split("port = ")[1].split()[0])
    base = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        ROUNDS + ["--config", str(config), "serve"], stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL,
    )
    try:
        await _wait_until_serving(base, process)
        async with aiohttp.ClientSession() as http:
            # Then WebFinger finds alice
            async with http.get(f"{base}/.well-known/webfinger", params={"resource": f"acct:alice@127.0.0.1:{port}"}) as r:
                assert r.status == 200
                jrd = await r.json(content_type=None)
            self_link = next(link for link in jrd["links"] if link["rel"] == "self")
            assert self_link["href"] == f"{base}/users/alice"
            # And her actor is served as JSON and as HTML
            async with http.get(self_link["href"], headers={"Accept": "application/activity+json"}) as r:
                assert r.status == 200 and r.content_type == "application/activity+json"
                actor = await r.json(content_type=None)
            async with http.get(self_link["href"], headers={"Accept": "text/html"}) as r:
                assert r.status == 200 and r.content_type == "text/html"
                assert "@alice@127.0.0.1" in await r.text()
            # And NodeInfo counts her
            async with http.get(f"{base}/nodeinfo/2.1") as r:
                nodeinfo = await r.json(content_type=None)
            assert nodeinfo["usage"]["users"]["total"] == 1
            assert nodeinfo["openRegistrations"] is False
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0

    # And a signature made with alice's stored private key verifies under the served public key
    public_key = serialization.load_pem_public_key(actor["publicKey"]["publicKeyPem"].encode())
    assert actor["publicKey"]["owner"] == actor["id"]
    settings_db_url, schema = _database_of(config)
    db = open_database(settings_db_url, schema=schema)
    try:
        async with db.sessions() as session:
            stored = await actor_queries.local_actor_by_username(session, "alice")
            instance_actor = await actor_queries.instance_actor(session)
            account = await actor_queries.account_by_username(session, "alice")
    finally:
        await db.dispose()
    # (a real process makes each actor a fresh pair and hashes with argon2's full work; the test
    # process pools pairs and hashes cheaply, tests/conftest.py's cheap_secrets)
    assert stored.public_key_pem != instance_actor.public_key_pem
    assert account.password_hash.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    message = b"(request-target): post /inbox\nhost: example"
    signature = load_private_key(stored.private_key_pem).sign(message, padding.PKCS1v15(), hashes.SHA256())
    public_key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
    with pytest.raises(Exception):
        public_key.verify(signature, message + b"x", padding.PKCS1v15(), hashes.SHA256())


def _database_of(config: Path) -> tuple[str, str]:
    settings = load_settings(config)
    return settings.database.url, settings.database.schema


async def test_token_create_prints_a_token_stored_only_as_hash(config):
    assert run("init", config=config).returncode == 0
    assert run("user", "add", "bob", "--password", "long enough pw", config=config).returncode == 0
    created = run("token", "create", "bob", "--scopes", "read write follow", config=config)
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    url, schema = _database_of(config)
    db = open_database(url, schema=schema)
    try:
        found = await db.read(lambda session: token_queries.live_token(session, hash_token(token)))
        assert await db.read(lambda session: token_queries.live_token(session, token)) is None
    finally:
        await db.dispose()
    assert found is not None
    stored, account, actor = found
    assert stored.scopes == "read write follow" and account.username == "bob" and actor.username == "bob"

    refused = run("token", "create", "bob", "--scopes", "admin:write", config=config)
    assert refused.returncode == 1 and "admin scopes need an admin user" in refused.stderr
    unknown = run("token", "create", "bob", "--scopes", "rread", config=config)
    assert unknown.returncode == 1 and "unknown scope 'rread'" in unknown.stderr


async def test_user_add_twice_and_disable(config):
    assert run("init", config=config).returncode == 0
    assert run("user", "add", "carol", "--password", "long enough pw", config=config).returncode == 0
    twice = run("user", "add", "carol", "--password", "long enough pw", config=config)
    assert twice.returncode == 1 and "already exists" in twice.stderr
    bad = run("user", "add", "Bad Name!", "--password", "long enough pw", config=config)
    assert bad.returncode == 1 and "invalid username" in bad.stderr
    no_password = run("user", "add", "dave", config=config)
    assert no_password.returncode == 1 and "--random-password" in no_password.stderr
    assert run("user", "disable", "carol", config=config).returncode == 0
    assert "disabled" in run("user", "list", config=config).stdout
    refused = run("token", "create", "carol", config=config)
    assert refused.returncode == 1 and "disabled" in refused.stderr


def _one_line_error(result: subprocess.CompletedProcess, status: int, *fragments: str) -> None:
    assert result.returncode == status, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def test_bad_config_file_is_one_line_and_status_2(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('public_url = "https://x.example"\n[federation]\nmode = "everyone"\n')
    _one_line_error(run("init", config=bad), 2, "config error", "federation.mode")
    bad.write_text("public_url = [")
    _one_line_error(run("serve", config=bad), 2, "not valid TOML")
    _one_line_error(run("init", config=tmp_path / "missing.toml"), 2, "does not exist")


def test_config_from_environment_and_none_at_all(tmp_path):
    _one_line_error(run("init", env={"ROUNDS_CONFIG": ""}), 2, "pass --config FILE or set ROUNDS_CONFIG")
    _one_line_error(run("init", env={"ROUNDS_CONFIG": str(tmp_path / "env.toml")}), 2, "env.toml does not exist")


def test_unreachable_database_is_one_line_and_status_2(tmp_path):
    path = tmp_path / "pg.toml"
    closed_port = free_port()
    path.write_text(
        'public_url = "https://x.example"\n'
        f'[database]\nurl = "postgresql+asyncpg://postgres@127.0.0.1:{closed_port}/rounds"\n'
    )
    _one_line_error(run("init", config=path), 2, "database error")
    _one_line_error(run("serve", config=path), 2, "database error")


def test_commands_before_init_say_so(config):
    _one_line_error(run("user", "list", config=config), 1, "rounds init")


def test_help_for_every_command():
    for args in ([], ["init"], ["serve"], ["migrate"], ["user"], ["user", "add"], ["user", "list"],
                 ["user", "disable"], ["token"], ["token", "create"], ["worker"]):
        assert "usage: rounds" in help_text(*args), args
    real = run("--help")  # the installed command itself
    assert real.returncode == 0 and "ROUNDS_CONFIG" in real.stdout


def test_data_directory_and_database_are_private(config):
    assert run("init", config=config).returncode == 0
    settings = load_settings(config)
    assert settings.data_dir.stat().st_mode & 0o077 == 0
    if settings.sqlite_path is not None:
        assert settings.sqlite_path.stat().st_mode & 0o077 == 0


def test_changed_public_url_is_a_config_error(config):
    assert run("init", config=config).returncode == 0
    text = config.read_text()
    port = text.split("port = ")[1].split()[0]
    config.write_text(text.replace(f'public_url = "http://127.0.0.1:{port}"', 'public_url = "http://other.example"'))
    _one_line_error(run("user", "add", "eve", "--password", "long enough pw", config=config), 2,
                    "config error", "cannot change")
    _one_line_error(run("init", config=config), 2, "config error", "cannot change")
    _one_line_error(run("user", "enable", "eve", config=config), 2, "config error", "cannot change")


def test_bad_schema_and_unwritable_data_dir_are_one_line(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text('public_url = "https://x.example"\n[database]\nschema = "Robert; DROP"\n')
    _one_line_error(run("init", config=path), 2, "'database.schema' must be a lowercase identifier")
    (tmp_path / "file").write_text("")
    path.write_text('public_url = "https://x.example"\ndata_dir = "file/sub"\n')
    _one_line_error(run("init", config=path), 2, "config error", "data_dir", "is not a directory")


async def test_migrate_and_serve_apply_pending_migrations(config):
    # Given a database migrated by `rounds migrate` and then taken back one revision
    migrated = run("migrate", config=config)
    assert migrated.returncode == 0 and "Applied" in migrated.stdout
    assert run("migrate", config=config).stdout.strip() == "The database is up to date."
    assert run("init", config=config).returncode == 0
    url, schema = _database_of(config)
    db = open_database(url, schema=schema)
    try:
        async with db.engine.begin() as conn:
            await conn.run_sync(lambda c: command.downgrade(alembic_config(c), "-1"))
        assert await pending_revisions(db)
    finally:
        await db.dispose()
    settings = load_settings(config)
    if settings.sqlite_path is None:
        # PostgreSQL: serve refuses to run on an old schema and says how to fix it
        _one_line_error(run("serve", config=config), 1, "rounds migrate")
        assert run("migrate", config=config).returncode == 0
    # When it serves (SQLite migrates on start), Then the schema is at head
    base = f"http://127.0.0.1:{settings.server.port}"
    process = subprocess.Popen(ROUNDS + ["--config", str(config), "serve"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
    try:
        await _wait_until_serving(base, process)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    db = open_database(url, schema=schema)
    try:
        assert await pending_revisions(db) == []
    finally:
        await db.dispose()
