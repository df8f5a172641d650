"""Reports (storage.models.reports): filed, looked up by a Flag's id, listed for the moderators."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Report


async def report_by_id(session: AsyncSession, report_id: int) -> Report | None:
    return await session.get(Report, report_id)


async def report_by_uri(session: AsyncSession, uri: str) -> Report | None:
    return await session.scalar(select(Report).where(Report.uri == uri))


async def open_reports(session: AsyncSession, limit: int) -> list[Report]:
    """The reports no moderator has resolved yet, oldest first, at most `limit`."""
    return list(await session.scalars(select(Report).where(Report.resolved_at.is_(None))
                                      .order_by(Report.id).limit(limit)))


async def mark_resolved(session: AsyncSession, report_id: int, *, by: str, at: datetime) -> bool:
    """Resolve the report if it is open; whether it was."""
    result = await session.execute(update(Report).where(Report.id == report_id, Report.resolved_at.is_(None))
                                   .values(resolved_at=at, resolved_by=by))
    return result.rowcount > 0


async def count_open(session: AsyncSession) -> int:
    return await session.scalar(select(func.count()).select_from(Report).where(Report.resolved_at.is_(None))) or 0
