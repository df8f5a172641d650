"""Injected time. Everything that compares or stamps times (signature Date windows, backoff,
delivery age) asks a Clock, so tests move time forward instead of sleeping."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)
