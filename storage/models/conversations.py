"""Conversations: each local user's threads of direct posts (Mastodon's conversations), one row
per user and thread, naming its newest direct post and whether she has read it."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, id_column


class Conversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (UniqueConstraint("owner_id", "root_uri", name="uq_conversations_owner_root"),
                      Index("ix_conversations_owner_last", "owner_id", "last_status_id"))

    id: Mapped[int] = id_column()
    owner_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))
    root_uri: Mapped[str] = mapped_column(String(2048))  # the thread's first post stored here
    last_status_id: Mapped[int] = mapped_column(BigInteger)  # its newest direct post she sees
    unread: Mapped[bool] = mapped_column(Boolean, default=False)
