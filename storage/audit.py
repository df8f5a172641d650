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


async def filtered_entries(session: AsyncSession, *, actor: str = "", action: str = "", since: datetime | None = None,
                           until: datetime | None = None, before_id: int | None = None, limit: int = 50) -> list[AuditEntry]:
    """The newest `limit` entries, newest first: by an actor whose name contains `actor`, of an
    action starting with `action`, at or after `since` and before `until`, older than `before_id`."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if actor:
        query = query.where(AuditEntry.actor.contains(actor, autoescape=True))
    if action:
        query = query.where(AuditEntry.action.startswith(action, autoescape=True))
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    if until is not None:
        query = query.where(AuditEntry.at < until)
    if before_id is not None:
        query = query.where(AuditEntry.id < before_id)
    return list(await session.scalars(query))
