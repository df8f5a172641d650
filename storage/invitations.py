"""Invitations' queries. The decision to know: a use is counted by one conditional UPDATE
(`claim`), which also re-checks that the link is live, so two sign-ups racing for the last use
cannot both count it: on PostgreSQL the second UPDATE waits for the first's row lock and then
finds the row used up; SQLite has one writer."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from storage.models import Invitation


def _live(now: datetime) -> list[ColumnElement[bool]]:
    return [Invitation.revoked_at.is_(None),
            or_(Invitation.expires_at.is_(None), Invitation.expires_at > now),
            or_(Invitation.max_uses.is_(None), Invitation.uses < Invitation.max_uses)]


async def add_invitation(session: AsyncSession, row: Invitation) -> Invitation:
    session.add(row)
    await session.flush()
    return row


async def invitation_by_code(session: AsyncSession, code: str) -> Invitation | None:
    return await session.scalar(select(Invitation).where(Invitation.code == code))


async def invitation_by_id(session: AsyncSession, invitation_id: int) -> Invitation | None:
    return await session.get(Invitation, invitation_id)


async def live_invitations(session: AsyncSession, now: datetime) -> list[Invitation]:
    """Every invitation that still lets someone sign up, newest first."""
    return list(await session.scalars(select(Invitation).where(*_live(now)).order_by(Invitation.id.desc())))


async def claim(session: AsyncSession, invitation_id: int, now: datetime) -> bool:
    """Count one use of the invitation if it is still live; whether it was."""
    result = await session.execute(update(Invitation).where(Invitation.id == invitation_id, *_live(now))
                                   .values(uses=Invitation.uses + 1).execution_options(synchronize_session=False))
    return result.rowcount == 1
