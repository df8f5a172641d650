"""Reports: a practitioner's (or a peer's, by a Flag) word to the moderators that an account or
some of its posts break the rules. A report waits, open, until a moderator resolves it
(federation.admin.reports); a report of an account elsewhere may also be forwarded to its
server, as a Flag from this instance."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, id_column, utcnow


class Report(Base):
    __tablename__ = "reports"

    id: Mapped[int] = id_column()
    # who reports: a local practitioner, or the peer's actor that sent the Flag
    reporter_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"), index=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"), index=True)
    post_ids: Mapped[list[int]] = mapped_column(JSON, default=list)  # the reported posts held here
    comment: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(16), default="other")  # spam | legal | violation | other
    rule_ids: Mapped[list[int]] = mapped_column(JSON, default=list)  # the instance rules broken (numbers, from 1)
    forwarded: Mapped[bool] = mapped_column(Boolean, default=False)  # a Flag went to the target's server
    uri: Mapped[str | None] = mapped_column(String(2048), unique=True)  # the Flag's id, sent or received
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(String(255))  # as the audit log names who acts
