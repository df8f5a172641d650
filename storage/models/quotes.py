"""Quote posts (FEP-044f, as Mastodon 4.5 does them): which post a post quotes, and whether the
quoted author agreed."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, id_column, states_check, utcnow


class QuoteState(str, enum.Enum):
    pending = "pending"     # asked (a QuoteRequest), no answer yet
    accepted = "accepted"   # the quoted author's authorisation is known (or it quotes its own author)
    rejected = "rejected"   # the quoted author refused
    revoked = "revoked"     # authorised, then withdrawn


class Quote(Base):
    """A post quoting another, by the quoting post's id (`uri`), stored or not: the quoted
    author's server records the authorisation it gave before it may ever see the quoting post.
    `approval_uri` is the QuoteAuthorization's id, on the quoted author's server."""

    __tablename__ = "quotes"
    __table_args__ = (
        Index("ix_quotes_quoted_id_id", "quoted_id", "id"),
        states_check("quotes", QuoteState),
    )

    id: Mapped[int] = id_column()
    uri: Mapped[str] = mapped_column(String(2048), unique=True)  # the quoting post
    object_id: Mapped[int | None] = mapped_column(ForeignKey("objects.id", ondelete="CASCADE"), unique=True)
    quoted_uri: Mapped[str] = mapped_column(String(2048))
    quoted_id: Mapped[int | None] = mapped_column(ForeignKey("objects.id", ondelete="SET NULL"))
    state: Mapped[QuoteState] = mapped_column(Enum(QuoteState, native_enum=False, length=16))
    approval_uri: Mapped[str | None] = mapped_column(String(2048), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
