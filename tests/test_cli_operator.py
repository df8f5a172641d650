"""The operator's edges of the `rounds` command, run as a real process: exit codes as the README
states them (2 for usage, configuration and database problems, 1 for a refused request), one
line per failure, nothing created on a bad path, and the admin's audited actions on users."""

from __future__ import annotations

import asyncio
import signal
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from federation.social import accounts, oauth
from federation.social.accounts import LoginError, hash_token
from server.config import load_settings
from storage import actors as actor_queries
from storage import tokens as token_queries
from storage.db import open_database
from storage.models import OAuthCode
from tests.cli_helpers import help_text
from tests.instances import free_port
from tests.test_cli import ROUNDS, _database_of, _one_line_error, _wait_until_serving, config, run

__all__ = ["config"]  # the fixture, shared with tests/test_cli.py

SQLITE_CONFIG = 'public_url = "https://x.example"\ndata_dir = "{data_dir}"\n'


def files_under(path: Path) -> set[Path]:
    return set(path.rglob("*"))


# --- usage and configuration: status 2 ----------------------------------------------------------

@pytest.mark.parametrize("argv", [
    [], ["frobnicate"], ["user"], ["user", "enable"], ["user", "revoke-tokens"],
    ["user", "reset-password", "alice", "--password", "x" * 8, "--random-password"],
    ["serve", "--bogus"], ["audit", "--limit", "many"],
])
def test_every_usage_error_is_status_2(argv, tmp_path):
    # When the command line cannot be parsed (before any configuration is read)
    result = run(*argv, config=tmp_path / "never-read.toml")
    # Then the status is 2 and the usage is shown, never a traceback
    assert result.returncode == 2, (argv, result.stderr)
    assert "usage: rounds" in result.stderr and "Traceback" not in result.stderr


def test_init_with_a_missing_data_dir_parent_creates_nothing(tmp_path):
    # Given a data_dir whose parent does not exist
    path = tmp_path / "rounds.toml"
    path.write_text(SQLITE_CONFIG.format(data_dir="./missing/data"))
    before = files_under(tmp_path)
    # When init runs, Then it stops with one line and status 2
    _one_line_error(run("init", config=path), 2, "config error", "data_dir", f"{tmp_path / 'missing'} does not exist")
    # And nothing was created anywhere
    assert files_under(tmp_path) == before

    # And the same holds for the SQLite file's directory, even when data_dir could be made
    path.write_text(SQLITE_CONFIG.format(data_dir="./data")
                    + '[database]\nurl = "sqlite+aiosqlite:///./nowhere/db/rounds.db"\n')
    _one_line_error(run("init", config=path), 2, "config error", "[database] url", "does not exist")
    _one_line_error(run("serve", config=path), 2, "config error", "[database] url", "does not exist")
    assert files_under(tmp_path) == before

    # And a data_dir whose parent is a file says so
    (tmp_path / "file").write_text("")
    path.write_text(SQLITE_CONFIG.format(data_dir="./file/data"))
    _one_line_error(run("init", config=path), 2, "config error", "is not a directory")


def test_init_creates_a_missing_data_dir_and_database_directory_inside_it(tmp_path):
    # Given a data_dir that does not exist yet, with the database in a directory inside it
    path = tmp_path / "rounds.toml"
    path.write_text(SQLITE_CONFIG.format(data_dir="./data") + '[database]\nurl = "sqlite+aiosqlite:///./data/db/rounds.db"\n')
    # When init runs, Then both directories are made, private
    result = run("init", config=path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "data" / "db" / "rounds.db").is_file()
    assert (tmp_path / "data").stat().st_mode & 0o077 == 0 and (tmp_path / "data" / "db").stat().st_mode & 0o077 == 0


def test_unreachable_postgresql_names_host_and_port_without_errno(tmp_path):
    # Given a PostgreSQL url on a closed loopback port, and one on a name that does not resolve
    path = tmp_path / "pg.toml"
    path.write_text('public_url = "https://x.example"\n[database]\nurl = "postgresql+asyncpg://postgres@127.0.0.1:1/rounds"\n')
    # When a command needs the database, Then one line names the host and port and says why
    for command in (["init"], ["serve"], ["user", "list"], ["migrate"]):
        result = run(*command, config=path)
        _one_line_error(result, 2, "database error", "PostgreSQL at 127.0.0.1:1", "connection refused")
        assert "Errno" not in result.stderr and "Connect call failed" not in result.stderr
    path.write_text('public_url = "https://x.example"\n[database]\nurl = "postgresql+asyncpg://postgres@no-such-host.invalid:5433/rounds"\n')
    result = run("init", config=path)
    _one_line_error(result, 2, "PostgreSQL at no-such-host.invalid:5433", "cannot be resolved")
    assert "Errno" not in result.stderr


@pytest.fixture
def sqlite_instance(tmp_path) -> Path:
    """A config for an initialised SQLite instance, whatever database the suite runs on."""
    path = tmp_path / "rounds.toml"
    path.write_text(SQLITE_CONFIG.format(data_dir="./data"))
    assert run("init", config=path).returncode == 0
    return path


@pytest.mark.parametrize("damage", ["empty", "truncated"])
def test_an_empty_or_truncated_database_file_is_not_usable(sqlite_instance, damage):
    # Given a database file emptied, or cut to its first kilobyte
    database = load_settings(sqlite_instance).sqlite_path
    for sidecar in database.parent.glob("rounds.db-*"):
        sidecar.unlink()
    damaged = database.read_bytes()[:1024] if damage == "truncated" else b""
    database.write_bytes(damaged)
    # When any command opens it, init included
    for command in (["user", "list"], ["serve"], ["migrate"], ["init"], ["user", "add", "eve", "--password", "long enough pw"]):
        result = run(*command, config=sqlite_instance)
        # Then one line says the file is not a usable Rounds database, not to run init
        _one_line_error(result, 2, "database error", str(database), "is not a usable Rounds database", "restore it from a backup")
        assert "run 'rounds init'" not in result.stderr
    # And nothing wrote to it
    assert database.read_bytes() == damaged


def test_refused_requests_are_status_1(config):
    # Given an initialised instance with one user
    assert run("init", config=config).returncode == 0
    assert run("user", "add", "alice", "--password", "long enough pw", config=config).returncode == 0
    # When a command is understood but cannot be carried out, Then the status is 1
    _one_line_error(run("user", "add", "alice", "--password", "long enough pw", config=config), 1, "already exists")
    _one_line_error(run("user", "enable", "nobody", config=config), 1, "no user named 'nobody'")
    _one_line_error(run("user", "revoke-tokens", "nobody", config=config), 1, "no user named 'nobody'")
    _one_line_error(run("user", "reset-password", "alice", "--password", "short", config=config), 1, "at least 8 characters")
    _one_line_error(run("user", "reset-password", "alice", config=config), 1, "--random-password")
    _one_line_error(run("peers", "allow", "not a domain", config=config), 1, "is not a domain")


# --- the admin's actions on users, audited ------------------------------------------------------

def _token(config: Path, name: str) -> str:
    created = run("token", "create", name, config=config)
    assert created.returncode == 0, created.stderr
    return created.stdout.strip()


async def _live(config: Path, *tokens: str) -> list[bool]:
    url, schema = _database_of(config)
    db = open_database(url, schema=schema)
    try:
        return [await db.read(lambda session, t=token: token_queries.live_token(session, hash_token(t))) is not None
                for token in tokens]
    finally:
        await db.dispose()


async def _issue_code(config: Path, username: str) -> str:
    url, schema = _database_of(config)
    db = open_database(url, schema=schema)
    now = datetime.now(UTC)
    try:
        async with db.sessions.begin() as session:
            account = await actor_queries.account_by_username(session, username)
            new = await oauth.register_app(session, name="Ward App", redirect_uris=[oauth.OOB_REDIRECT_URI],
                                           scopes="read", website=None, at=now)
            return await oauth.issue_code(session, new.app, account, redirect_uri=oauth.OOB_REDIRECT_URI,
                                          scopes="read", code_challenge="", at=now)
    finally:
        await db.dispose()


async def _code_used(config: Path, code: str) -> bool:
    url, schema = _database_of(config)
    db = open_database(url, schema=schema)
    try:
        async with db.sessions() as session:
            found: OAuthCode = await token_queries.code_by_hash(session, hash_token(code))
            return found.used_at is not None
    finally:
        await db.dispose()


async def _signs_in(config: Path, username: str, password: str) -> bool:
    url, schema = _database_of(config)
    db = open_database(url, schema=schema)
    try:
        async with db.sessions.begin() as session:
            await accounts.check_login(session, username, password, at=datetime.now(UTC))
        return True
    except LoginError:
        return False
    finally:
        await db.dispose()


async def test_admin_disables_enables_resets_and_revokes_and_each_is_audited(config):
    # Given an instance with alice, who has a token
    assert run("init", config=config).returncode == 0
    assert run("user", "add", "alice", "--password", "old password", config=config).returncode == 0
    first = _token(config, "alice")

    # When an admin disables her, Then she cannot get a token; enabled again, she can
    assert "Disabled alice" in run("user", "disable", "alice", "--reason", "on leave", config=config).stdout
    _one_line_error(run("token", "create", "alice", config=config), 1, "disabled")
    enabled = run("user", "enable", "alice", "--reason", "back from leave", config=config)
    assert enabled.returncode == 0 and "Enabled alice" in enabled.stdout
    second = _token(config, "alice")
    again = run("user", "enable", "alice", config=config)
    assert again.returncode == 0 and "already active" in again.stdout
    assert await _live(config, first, second) == [True, True]

    # When an admin revokes her tokens, Then neither works any more
    revoked = run("user", "revoke-tokens", "alice", "--reason", "lost phone", config=config)
    assert revoked.returncode == 0 and "Revoked 2 token(s)" in revoked.stdout
    assert await _live(config, first, second) == [False, False]

    # When an admin resets her password, Then the printed password signs in, the old one does
    # not, and the token and the unexchanged authorization code she had are void
    third = _token(config, "alice")
    code = await _issue_code(config, "alice")
    reset = run("user", "reset-password", "alice", "--random-password", config=config)
    assert reset.returncode == 0, reset.stderr
    password = reset.stdout.split("Password: ")[1].strip()
    assert "revoked 1 token(s)" in reset.stdout
    assert await _signs_in(config, "alice", password) and not await _signs_in(config, "alice", "old password")
    assert await _live(config, third) == [False]
    assert await _code_used(config, code)
    set_by_admin = run("user", "reset-password", "alice", "--password", "chosen by admin", config=config)
    assert set_by_admin.returncode == 0 and "Password:" not in set_by_admin.stdout
    assert await _signs_in(config, "alice", "chosen by admin")

    # And the audit log shows each change, by whom, before and after, and why
    log = run("audit", "--subject", "@alice", config=config)
    assert log.returncode == 0, log.stderr
    lines = log.stdout.strip().splitlines()
    assert [line.split()[3] for line in lines] == [
        "user.disable", "user.enable", "user.revoke_tokens", "user.reset_password", "user.reset_password"]
    assert all(line.split()[2].startswith("cli:") and line.split()[4] == "@alice" for line in lines)
    assert "active -> disabled  (on leave)" in lines[0]
    assert "disabled -> active  (back from leave)" in lines[1]
    assert "(lost phone; tokens revoked: 2)" in lines[2]
    assert "tokens revoked: 1" in lines[3]


def test_help_for_the_user_admin_commands():
    # (apart from tests/test_cli.py's list, so that neither takes too long on a busy machine)
    for args in (["user", "enable"], ["user", "reset-password"], ["user", "revoke-tokens"], ["audit"]):
        text = help_text(*args)
        assert "usage: rounds" in text and "audit" in text, args
    user = help_text("user")
    assert all(action in user for action in ("add", "list", "disable", "enable", "reset-password", "revoke-tokens"))


# --- a slow client against `rounds serve` -------------------------------------------------------

async def test_serve_cuts_off_a_client_that_trickles_its_headers(tmp_path):
    # Given `rounds serve` with a one-second read timeout
    port = free_port()
    path = tmp_path / "rounds.toml"
    path.write_text(f'public_url = "http://127.0.0.1:{port}"\ndata_dir = "./data"\n'
                    f"[server]\nport = {port}\nread_timeout_seconds = 1\n[federation]\nallow_http = true\n")
    assert run("init", config=path).returncode == 0
    process = subprocess.Popen(ROUNDS + ["--config", str(path), "serve"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
    try:
        await _wait_until_serving(f"http://127.0.0.1:{port}", process)
        # When a client sends a header line every quarter second, for up to eight seconds
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(f"GET /about HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n".encode())
        answer = None
        for n in range(32):
            try:
                writer.write(f"X-Slow-{n}: still here\r\n".encode())
                await writer.drain()
                answer = await asyncio.wait_for(reader.read(4096), 0.25)
                break
            except TimeoutError:
                continue
            except ConnectionError:
                answer = b""
                break
        writer.close()
        # Then the server closed the connection before the client ran out of lines
        assert answer is not None and (answer == b"" or answer.startswith(b"HTTP/1.1 408")), answer
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
