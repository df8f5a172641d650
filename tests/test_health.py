"""GET /healthz reports whether the database answers."""

from __future__ import annotations

import socket

from aiohttp import web

from server.app import create_app
from tests.instances import free_port, settings_for


async def test_healthz_ok(instances, http):
    a = await instances.start()
    async with http.get(f"{a.base}/healthz") as r:
        assert r.status == 200
        assert await r.json() == {"status": "ok", "database": "ok"}


async def test_healthz_503_when_database_unreachable(tmp_path, http):
    # Given a server whose database (PostgreSQL on a closed loopback port) does not answer
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    unreachable = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/none"
    settings = settings_for(tmp_path, base, None, 8080, database={"url": unreachable})
    runner = web.AppRunner(create_app(settings))
    await runner.setup()
    await web.SockSite(runner, sock).start()
    try:
        # When the health check runs, Then it says the database is unreachable
        async with http.get(f"{base}/healthz") as r:
            assert r.status == 503
            body = await r.json()
        assert body == {"status": "error", "database": "unreachable"}
        # And a page that needs the database gets a clean 503, not a traceback
        async with http.get(f"{base}/users/alice") as r:
            assert r.status == 503
            assert "database is unavailable" in (await r.json())["error"]
    finally:
        await runner.cleanup()
