"""The instance's run-time profile: one row (id 1), read by every page and the instance API."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from storage.models import InstanceProfile

ROW_ID = 1


def stored_profile(session: Session) -> InstanceProfile | None:
    """The row, if an admin ever saved it. Synchronous, for `Database.read`."""
    return session.execute(select(InstanceProfile).where(InstanceProfile.id == ROW_ID)).scalar_one_or_none()


async def profile_for_update(session: AsyncSession) -> InstanceProfile:
    """The row to change (added, empty, if there is none yet); the caller commits."""
    row = await session.get(InstanceProfile, ROW_ID)
    if row is None:
        row = InstanceProfile(id=ROW_ID, rules="", registrations="closed")
        session.add(row)
    return row
