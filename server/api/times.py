"""The one timestamp form of the client API."""

from __future__ import annotations

from datetime import datetime, timezone


def iso(value: datetime | None) -> str | None:
    """Mastodon's timestamp form, UTC to the millisecond: 2025-03-01T08:30:00.000Z."""
    if value is None:
        return None
    if value.tzinfo is not None:  # a naive value is UTC already (SQLite stores no zone)
        if value.tzinfo is not timezone.utc:
            value = value.astimezone(timezone.utc)
        value = value.replace(tzinfo=None)
    return value.isoformat(timespec="milliseconds") + "Z"
