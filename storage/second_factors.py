"""Second factors: an account's TOTP secret and its recovery codes (digests only). Each code is
spent by a guarded UPDATE, so two requests racing with the same code cannot both succeed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import RecoveryCode, SecondFactor


async def factor_of(session: AsyncSession, account_id: int) -> SecondFactor | None:
    """The account's TOTP secret, confirmed or still being enrolled."""
    return await session.scalar(select(SecondFactor).where(SecondFactor.account_id == account_id))


async def replace_factor(session: AsyncSession, account_id: int, secret: str, at: datetime) -> SecondFactor:
    """A new unconfirmed secret for the account, instead of any it had, and no recovery codes."""
    await remove_factor(session, account_id)
    row = SecondFactor(account_id=account_id, secret=secret, created_at=at)
    session.add(row)
    await session.flush()
    return row


async def remove_factor(session: AsyncSession, account_id: int) -> None:
    await session.execute(delete(SecondFactor).where(SecondFactor.account_id == account_id))
    await session.execute(delete(RecoveryCode).where(RecoveryCode.account_id == account_id))


async def spend_step(session: AsyncSession, account_id: int, step: int) -> bool:
    """Record `step` as the last accepted code's, unless that step or a later one was already
    accepted; whether it was recorded (a replayed code is not)."""
    result = await session.execute(update(SecondFactor).where(
        SecondFactor.account_id == account_id,
        or_(SecondFactor.last_step.is_(None), SecondFactor.last_step < step),
    ).values(last_step=step))
    return result.rowcount > 0


async def confirm_factor(session: AsyncSession, account_id: int, at: datetime) -> None:
    await session.execute(update(SecondFactor).where(SecondFactor.account_id == account_id).values(confirmed_at=at))


async def add_recovery_codes(session: AsyncSession, account_id: int, digests: list[str]) -> None:
    session.add_all(RecoveryCode(account_id=account_id, code_hash=digest) for digest in digests)
    await session.flush()


async def spend_recovery_code(session: AsyncSession, account_id: int, digest: str, at: datetime) -> bool:
    """Mark the unused recovery code with this digest used; whether there was one."""
    result = await session.execute(update(RecoveryCode).where(
        RecoveryCode.account_id == account_id, RecoveryCode.code_hash == digest, RecoveryCode.used_at.is_(None),
    ).values(used_at=at))
    return result.rowcount > 0


async def count_recovery_codes(session: AsyncSession, account_id: int) -> int:
    return await session.scalar(select(func.count()).where(
        RecoveryCode.account_id == account_id, RecoveryCode.used_at.is_(None))) or 0
