"""The database settings, as a frozen dataclass `server.config` fills from the [database] table.
Defined here so that whoever opens the database (the app, the CLI, a worker, a benchmark) asks
`storage.db.open_configured` for it, and nothing else in storage imports `server`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DatabaseSettings:
    url: str = "sqlite+aiosqlite:///./data/rounds.db"
    schema: str = ""
    pool_size: int = 5
    sqlite_busy_timeout_ms: int = 5000
