"""Conversations: each local user's threads of direct posts (Mastodon's conversations), one row
per user, thread and set of people, naming its newest direct post and whether she has read it.
The people are part of its key: a direct post by someone else in the same thread (a stranger
answering a public post she answered privately) is a conversation of its own, and never takes
the place of hers."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, id_column


class Conversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (UniqueConstraint("owner_id", "key", name="uq_conversations_owner_key"),
                      Index("ix_conversations_owner_last", "owner_id", "last_status_id"))

    id: Mapped[int] = id_column()
    owner_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))
    # SHA-256 of the thread's first post stored here and the ids of its people (storage.conversations)
    key: Mapped[str] = mapped_column(String(64))
    last_status_id: Mapped[int] = mapped_column(BigInteger)  # its newest direct post she sees
    unread: Mapped[bool] = mapped_column(Boolean, default=False)
