"""The optional second factor: time-based one-time passwords (RFC 6238, HMAC-SHA1, 6 digits,
30-second steps), with the standard library's hmac, and recovery codes.

The decision to know: a code is accepted once. Each accepted code's time step is recorded and
only a later step is accepted after it (storage.second_factors.spend_step), so a code read over
a shoulder or replayed from a log is worthless, even within its 30 seconds. A code from the
step before or after the server's is accepted too (clocks drift). Recovery codes are 80 random
bits, so their SHA-256 digests are enough at rest; each works once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import quote, urlencode

from sqlalchemy.ext.asyncio import AsyncSession

from federation.social.accounts import AccountError
from storage import second_factors as queries
from storage.models import Account

STEP_SECONDS = 30
DIGITS = 6
DRIFT_STEPS = 1
RECOVERY_CODES = 10
_RECOVERY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no I, O, 0, 1: read aloud, typed back


class SecondFactorError(AccountError):
    """A second-factor request refused: a wrong or spent code, or no factor to act on."""


@dataclass(frozen=True)
class Factor:
    """Where an account stands: no factor, enrolling (secret shown, not yet confirmed), or on."""

    secret: str | None = None
    confirmed: bool = False
    recovery_codes_left: int = 0


def new_secret() -> str:
    """160 random bits, base32 without padding, as authenticator apps take them."""
    return base64.b32encode(secrets.token_bytes(20)).decode().rstrip("=")


def _key(secret: str) -> bytes:
    return base64.b32decode(secret + "=" * (-len(secret) % 8), casefold=True)


def step_at(now: datetime) -> int:
    aware = now if now.tzinfo is not None else now.replace(tzinfo=timezone.utc)
    return int(aware.timestamp()) // STEP_SECONDS


def code_at(secret: str, step: int) -> str:
    """The code for time step `step` (RFC 4226 dynamic truncation)."""
    digest = hmac.new(_key(secret), struct.pack(">Q", step), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF
    return str(number % 10 ** DIGITS).zfill(DIGITS)


def provisioning_uri(secret: str, account_name: str, issuer: str) -> str:
    """The otpauth:// URI an authenticator app reads (Key URI Format)."""
    label = quote(f"{issuer}:{account_name}", safe="@:")
    query = urlencode({"secret": secret, "issuer": issuer, "algorithm": "SHA1", "digits": DIGITS,
                       "period": STEP_SECONDS})
    return f"otpauth://totp/{label}?{query}"


def _digits(code: str) -> str:
    return "".join(code.split())


def _recovery_form(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def _recovery_digest(code: str) -> str:
    return hashlib.sha256(_recovery_form(code).encode()).hexdigest()


def _new_recovery_code() -> str:
    raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(16))  # 16 x 5 bits
    return "-".join(raw[i:i + 4] for i in range(0, 16, 4))


async def factor_of(session: AsyncSession, account: Account) -> Factor:
    row = await queries.factor_of(session, account.id)
    if row is None:
        return Factor()
    left = await queries.count_recovery_codes(session, account.id) if row.confirmed_at else 0
    return Factor(secret=row.secret, confirmed=row.confirmed_at is not None, recovery_codes_left=left)


async def enrolled(session: AsyncSession, account: Account) -> bool:
    """Whether signing in to this account takes a code after the password."""
    return (await factor_of(session, account)).confirmed


async def begin_enrolment(session: AsyncSession, account: Account, *, at: datetime) -> str:
    """A fresh secret to show her, unconfirmed until she types a code it makes. Refused while a
    confirmed factor is on (turn it off first, with a code). The caller commits."""
    if await enrolled(session, account):
        raise SecondFactorError("a second factor is already on; turn it off first")
    return (await queries.replace_factor(session, account.id, new_secret(), at)).secret


async def _spend_totp(session: AsyncSession, account: Account, secret: str, code: str, at: datetime) -> bool:
    code = _digits(code)
    if len(code) != DIGITS or not code.isdigit():
        return False
    now = step_at(at)
    for step in range(now - DRIFT_STEPS, now + DRIFT_STEPS + 1):
        if hmac.compare_digest(code_at(secret, step), code):
            return await queries.spend_step(session, account.id, step)
    return False


async def confirm_enrolment(session: AsyncSession, account: Account, code: str, *, at: datetime) -> list[str]:
    """Turn the factor on with a first code from her app; the recovery codes, shown once and
    stored as digests. The caller commits."""
    row = await queries.factor_of(session, account.id)
    if row is None or row.confirmed_at is not None:
        raise SecondFactorError("there is no second factor being set up")
    if not await _spend_totp(session, account, row.secret, code, at):
        raise SecondFactorError("wrong code")
    await queries.confirm_factor(session, account.id, at)
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODES)]
    await queries.add_recovery_codes(session, account.id, [_recovery_digest(code) for code in codes])
    return codes


async def check_code(session: AsyncSession, account: Account, code: str, *, at: datetime) -> bool:
    """Whether `code` (a TOTP code not used before, or an unused recovery code, which is then
    spent) proves the second factor of this account. The caller commits."""
    row = await queries.factor_of(session, account.id)
    if row is None or row.confirmed_at is None:
        return False
    if await _spend_totp(session, account, row.secret, code, at):
        return True
    form = _recovery_form(code)
    return len(form) == 16 and await queries.spend_recovery_code(session, account.id, _recovery_digest(form), at)


async def disable(session: AsyncSession, account: Account, code: str, *, at: datetime) -> None:
    """Turn the factor off, proven by a code; an enrolment not yet confirmed is simply dropped.
    The caller commits."""
    row = await queries.factor_of(session, account.id)
    if row is not None and row.confirmed_at is not None and not await check_code(session, account, code, at=at):
        raise SecondFactorError("wrong code")
    await queries.remove_factor(session, account.id)
