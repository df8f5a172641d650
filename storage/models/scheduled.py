"""Scheduled posts: a practitioner's post kept until the time she chose, then published as if
she posted it then (federation.outbox.scheduled). Its uploads name it (`Media.scheduled_id`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, id_column, utcnow


class ScheduledStatus(Base):
    __tablename__ = "scheduled_statuses"
    __table_args__ = (Index("ix_scheduled_statuses_due", "scheduled_at", "claimed_until"),)

    id: Mapped[int] = id_column()
    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"), index=True)
    scheduled_at: Mapped[datetime]
    draft: Mapped[dict[str, Any]] = mapped_column(JSON)  # the post as she asked for it (a Draft's fields)
    idempotency_key: Mapped[str | None] = mapped_column(String(255))  # her app's, if it sent one
    # while a worker publishes it: a worker that died leaves it to another once this passes
    claimed_until: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
