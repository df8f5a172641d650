"""Communities of practice: a `Group` actor (a row of `actors`, local or remote) and, for the
groups this instance hosts, its policy, moderators and bans.

A community's membership is its followers: a join is a Follow of the group, so the follows
table (and its declared states) holds who is a member, who asked, and who was refused, and the
followers collection, the audience of the group's Announces and the client API's `requested`
all read the same rows. What the follows cannot say lives here: the policy (who may join, who
may post, whether it may leave the instance), who moderates, and who is banned.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Boolean, Enum, ForeignKey, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, id_column, utcnow


class JoinPolicy(str, enum.Enum):
    open = "open"          # a Follow is accepted at once
    approval = "approval"  # a moderator approves each join
    invite = "invite"      # nobody joins by asking; moderators add members


class PostingPolicy(str, enum.Enum):
    members = "members"
    moderators = "moderators"  # an announcement channel (`postingRestrictedToMods`)


class Community(Base):
    """A community hosted here: its Group actor is `actor_id`."""

    __tablename__ = "communities"

    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"), primary_key=True,
                                          autoincrement=False)
    join_policy: Mapped[JoinPolicy] = mapped_column(Enum(JoinPolicy, native_enum=False, length=16))
    posting: Mapped[PostingPolicy] = mapped_column(Enum(PostingPolicy, native_enum=False, length=16))
    local_only: Mapped[bool] = mapped_column(Boolean, default=False)  # institution-only: never leaves
    # a moderator approves each article before the community announces it (federation.articles.review)
    articles_require_approval: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    rules: Mapped[list[str] | None] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CommunityModerator(Base):
    __tablename__ = "community_moderators"
    __table_args__ = (UniqueConstraint("community_id", "actor_id", name="uq_community_moderators_pair"),)

    id: Mapped[int] = id_column()
    community_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))
    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CommunityBan(Base):
    __tablename__ = "community_bans"
    __table_args__ = (UniqueConstraint("community_id", "actor_id", name="uq_community_bans_pair"),)

    id: Mapped[int] = id_column()
    community_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))
    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
