"""Failed sign-ins, counted per username and per client address, and refused past a limit
([api] login_attempts_per_minute). The OAuth login form, the password grant and the web
sign-in form all ask here, so a guesser gains nothing by switching between them. Invitation
links count an unknown code as a failure of the client address alone (`guess_wait`).

The counts live in process memory: with several web processes, each counts the failures it saw.
"""

from __future__ import annotations

import logging
import math
from collections import deque
from collections.abc import Iterable
from datetime import datetime, timedelta

from aiohttp import web

from federation.social import accounts
from server.appkeys import CLOCK, SETTINGS
from server.client_address import client_address

log = logging.getLogger(__name__)


class LoginLimiter:
    """Failed logins per key (a username, a client address) in a sliding window."""

    MAX_KEYS = 10_000

    def __init__(self, per_window: int, window: timedelta = timedelta(minutes=1)) -> None:
        self.per_window = per_window
        self.window = window
        self._failures: dict[str, deque[datetime]] = {}

    def _recent(self, key: str, now: datetime) -> deque[datetime]:
        times = self._failures.get(key, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            self._failures.pop(key, None)
        return times

    def retry_after(self, keys: Iterable[str], now: datetime) -> int:
        """Seconds until every key may try again; 0 if none is over the limit."""
        waits = [(times[-self.per_window] + self.window - now).total_seconds()
                 for times in (self._recent(key, now) for key in keys) if len(times) >= self.per_window]
        return max((max(1, math.ceil(wait)) for wait in waits), default=0)

    def failed(self, keys: Iterable[str], now: datetime) -> None:
        if len(self._failures) > self.MAX_KEYS:
            for key in list(self._failures):
                self._recent(key, now)
        for key in keys:
            self._failures.setdefault(key, deque()).append(now)


LOGIN_LIMITER = web.AppKey("login_limiter", LoginLimiter)


def _keys(request: web.Request, username: str) -> tuple[str, str]:
    return f"user:{accounts.login_name(username)}", f"address:{client_address(request)}"


def login_wait(request: web.Request, username: str) -> int:
    """Seconds to wait if this username or address is over the failed-login limit, else 0."""
    wait = request.app[LOGIN_LIMITER].retry_after(_keys(request, username), request.app[CLOCK].now())
    if wait:
        log.warning("login refused for %r from %s: too many failed attempts", username, client_address(request))
    return wait


def login_failed(request: web.Request, username: str) -> None:
    """Count a failed login (wrong credentials; a disabled account's refusal is not a guess)."""
    request.app[LOGIN_LIMITER].failed(_keys(request, username), request.app[CLOCK].now())


def guess_wait(request: web.Request) -> int:
    """Seconds this client address must wait, if over the failed-login limit (a guessed secret
    that names no user, such as an invitation code), else 0."""
    key = _keys(request, "")[1]
    return request.app[LOGIN_LIMITER].retry_after((key,), request.app[CLOCK].now())


def guess_failed(request: web.Request) -> None:
    """Count a wrong guess of a secret that names no user against the client address."""
    request.app[LOGIN_LIMITER].failed((_keys(request, "")[1],), request.app[CLOCK].now())


def setup(app: web.Application) -> None:
    app[LOGIN_LIMITER] = LoginLimiter(app[SETTINGS].api.login_attempts_per_minute)
