"""Reports (storage.models.reports): filed, looked up by a Flag's id, listed for the moderators."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.coverage import blocked_author
from storage.models import Actor, Report


async def report_by_id(session: AsyncSession, report_id: int) -> Report | None:
    return await session.get(Report, report_id)


async def report_by_uri(session: AsyncSession, uri: str) -> Report | None:
    return await session.scalar(select(Report).where(Report.uri == uri))


def _waiting():
    """Open, and not by a peer blocked since (its reports wait unseen until it is unblocked)."""
    return and_(Report.resolved_at.is_(None), ~blocked_author(Report.reporter_id))


async def open_reports(session: AsyncSession, limit: int) -> list[Report]:
    """The reports no moderator has resolved yet, our practitioners' first, then peers', each
    oldest first, at most `limit`."""
    return list(await session.scalars(
        select(Report).join(Actor, Actor.id == Report.reporter_id).where(_waiting())
        .order_by(Actor.local.desc(), Report.id).limit(limit)))


async def open_report_of(session: AsyncSession, reporter_id: int, target_id: int) -> Report | None:
    return await session.scalar(select(Report).where(
        Report.reporter_id == reporter_id, Report.target_id == target_id, Report.resolved_at.is_(None)))


async def count_open_from(session: AsyncSession, domain: str) -> int:
    """The open reports of the actors of one peer."""
    return await session.scalar(select(func.count()).select_from(Report).join(Actor, Actor.id == Report.reporter_id)
                                .where(Actor.domain == domain, Report.resolved_at.is_(None))) or 0


async def mark_resolved(session: AsyncSession, report_id: int, *, by: str, at: datetime) -> bool:
    """Resolve the report if it is open; whether it was."""
    result = await session.execute(update(Report).where(Report.id == report_id, Report.resolved_at.is_(None))
                                   .values(resolved_at=at, resolved_by=by))
    return result.rowcount > 0


async def count_open(session: AsyncSession) -> int:
    return await session.scalar(select(func.count()).select_from(Report).where(_waiting())) or 0
