"""Polls: a post's options with their counts, and who voted for what.

A poll shares its post's id (`object_id`), which is also its id in the client API. Counts are
columns: each recorded vote increments them (so a page of polls is read, never counted), and a
remote poll's counts are replaced by whatever its author's server says in an Update(Question).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, id_column, utcnow


class Poll(Base):
    __tablename__ = "polls"
    __table_args__ = (
        # the poll worker's two questions: which open polls have ended, which counts are due out
        Index("ix_polls_open_expires_at", "expires_at",
              sqlite_where=text("ended_at IS NULL"), postgresql_where=text("ended_at IS NULL")),
        Index("ix_polls_update_due_at", "update_due_at",
              sqlite_where=text("update_due_at IS NOT NULL"), postgresql_where=text("update_due_at IS NOT NULL")),
    )

    object_id: Mapped[int] = mapped_column(ForeignKey("objects.id", ondelete="CASCADE"), primary_key=True,
                                           autoincrement=False)
    multiple: Mapped[bool] = mapped_column(Boolean, default=False)
    hide_totals: Mapped[bool] = mapped_column(Boolean, default=False)
    expires_at: Mapped[datetime | None]
    voters_count: Mapped[int | None]  # None: a remote multiple-choice poll that does not say
    ended_at: Mapped[datetime | None]  # when its end was handled (voters notified, final counts sent)
    update_due_at: Mapped[datetime | None]  # a local poll's counts changed; Update(Question) due then


class PollOption(Base):
    __tablename__ = "poll_options"
    __table_args__ = (UniqueConstraint("object_id", "position", name="uq_poll_options_poll_position"),)

    id: Mapped[int] = id_column()
    object_id: Mapped[int] = mapped_column(ForeignKey("polls.object_id", ondelete="CASCADE"))
    position: Mapped[int]
    title: Mapped[str] = mapped_column(Text)
    votes_count: Mapped[int] = mapped_column(default=0)


class PollVote(Base):
    """One voter's choice of one option: unique, so a repeated or redelivered vote counts once."""

    __tablename__ = "poll_votes"
    __table_args__ = (
        UniqueConstraint("object_id", "actor_id", "choice", name="uq_poll_votes_voter_choice"),
        Index("ix_poll_votes_actor_id", "actor_id"),
    )

    id: Mapped[int] = id_column()
    object_id: Mapped[int] = mapped_column(ForeignKey("polls.object_id", ondelete="CASCADE"))
    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))
    choice: Mapped[int]
    uri: Mapped[str | None] = mapped_column(String(2048), unique=True)  # the vote Note's id
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
