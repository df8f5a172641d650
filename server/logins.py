"""Failed sign-ins, counted per username and per client address, and refused past a limit
([api] login_attempts_per_minute). The OAuth login form, the password grant and the web
sign-in form all ask here, so a guesser gains nothing by switching between them. Invitation
links count an unknown code as a failure of the client address alone (`guess_wait`).

An attempt counts as a failure from the moment it is let through (`login_wait`), before its
password or code is checked, and stops counting when its request ends without `login_failed`
(it succeeded, or was refused for another reason than a wrong guess). So guesses sent in
parallel are counted before any of them is checked, and the limit does not grow with how many
run at once.

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

    def forget(self, keys: Iterable[str], at: datetime) -> None:
        """Stop counting one attempt made `at` (it turned out not to be a failure)."""
        for key in keys:
            times = self._failures.get(key)
            if times is not None and at in times:
                times.remove(at)

    def failed(self, keys: Iterable[str], now: datetime) -> None:
        if len(self._failures) > self.MAX_KEYS:
            for key in list(self._failures):
                self._recent(key, now)
        for key in keys:
            self._failures.setdefault(key, deque()).append(now)


LOGIN_LIMITER = web.AppKey("login_limiter", LoginLimiter)
_ATTEMPT = web.RequestKey("login_attempt", tuple)  # (keys, time) of the request's attempt, counted until it ends


def _keys(request: web.Request, username: str) -> tuple[str, str]:
    return f"user:{accounts.login_name(username)}", f"address:{client_address(request)}"


def _wait(request: web.Request, keys: tuple[str, ...], who: str) -> int:
    limiter, now = request.app[LOGIN_LIMITER], request.app[CLOCK].now()
    wait = limiter.retry_after(keys, now)
    if wait:
        log.warning("login refused for %s from %s: too many failed attempts", who, client_address(request))
    elif _ATTEMPT not in request:  # counted now, with no await since the check: parallel guesses see it
        limiter.failed(keys, now)
        request[_ATTEMPT] = (keys, now)
    return wait


def _failed(request: web.Request, keys: tuple[str, ...]) -> None:
    if request.pop(_ATTEMPT, None) is None:
        request.app[LOGIN_LIMITER].failed(keys, request.app[CLOCK].now())


def login_wait(request: web.Request, username: str) -> int:
    """Seconds to wait if this username or address is over the failed-login limit, else 0; then
    the attempt counts as a failure until the request ends without `login_failed`."""
    return _wait(request, _keys(request, username), repr(username))


def login_failed(request: web.Request, username: str) -> None:
    """Count a failed login (wrong credentials; a disabled account's refusal is not a guess): the
    attempt `login_wait` let through stays counted, or, without one, this failure is."""
    _failed(request, _keys(request, username))


def guess_wait(request: web.Request) -> int:
    """`login_wait` for a secret that names no user (an invitation code): by the client address
    alone."""
    return _wait(request, _keys(request, "")[1:], "a guessed code")


def guess_failed(request: web.Request) -> None:
    """`login_failed` for a secret that names no user: a wrong guess of the client address."""
    _failed(request, _keys(request, "")[1:])


@web.middleware
async def _settle_attempt(request: web.Request, handler) -> web.StreamResponse:
    """A request that ends without `login_failed` was no wrong guess: its attempt stops counting."""
    try:
        return await handler(request)
    finally:
        if (attempt := request.pop(_ATTEMPT, None)) is not None:
            request.app[LOGIN_LIMITER].forget(*attempt)


def setup(app: web.Application) -> None:
    app[LOGIN_LIMITER] = LoginLimiter(app[SETTINGS].api.login_attempts_per_minute)
    app.middlewares.append(_settle_attempt)
