"""The audit log's queries: add an entry in the caller's transaction, read the newest ones."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditEntry


async def add_entry(
    session: AsyncSession, *, by: str, action: str, subject: str, before: dict[str, Any] | None,
    after: dict[str, Any] | None, reason: str, at: datetime,
) -> None:
    session.add(AuditEntry(at=at, actor=by, action=action, subject=subject, before=before, after=after, reason=reason))


async def newest_entries(session: AsyncSession, limit: int, subject: str | None = None) -> list[AuditEntry]:
    """The newest `limit` entries (about `subject` only, when given), newest first."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if subject:
        query = query.where(AuditEntry.subject == subject)
    return list(await session.scalars(query))
