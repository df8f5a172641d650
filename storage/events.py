"""PostgreSQL's NOTIFY and LISTEN on one channel: how streaming events cross processes
(`federation.social.events` says what travels, and who hears it)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from storage.db import Database


async def notify(db: Database, channel: str, payloads: Sequence[str]) -> None:
    """NOTIFY `channel` once per payload, in order."""
    async with db.engine.connect() as conn:
        driver = (await conn.get_raw_connection()).driver_connection
        for payload in payloads:
            await driver.execute("SELECT pg_notify($1, $2)", channel, payload)


async def listen(db: Database, channel: str, on_payload: Callable[[str], None], listening: asyncio.Event) -> None:
    """LISTEN on `channel`, calling `on_payload` with each notification's payload, until cancelled;
    `listening` is set while the LISTEN is in place."""
    async with db.engine.connect() as conn:
        driver = (await conn.get_raw_connection()).driver_connection

        def on_notify(_connection, _pid, _channel, payload: str) -> None:
            on_payload(payload)

        await driver.add_listener(channel, on_notify)
        listening.set()
        try:
            await asyncio.Event().wait()
        finally:
            listening.clear()
            await driver.remove_listener(channel, on_notify)
