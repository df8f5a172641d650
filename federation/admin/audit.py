"""The audit log: one entry per administrative change (a peer decision, an action on a user),
saying who made it, when, the state before and after, and why. Written in the caller's
transaction, so a change and its entry commit or vanish together."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from storage import audit as audit_queries


async def audit(
    session: AsyncSession, *, by: str, action: str, subject: str, before: dict[str, Any] | None,
    after: dict[str, Any] | None, reason: str, at: datetime,
) -> None:
    await audit_queries.add_entry(session, by=by, action=action, subject=subject, before=before, after=after,
                                  reason=reason, at=at)
