"""Articles: best practices written in Markdown, with a title, a summary, references, a review
state, and every earlier version kept.

An article is a post: once published it has an `objects` row (type Article) that timelines,
threads, search, communities and the client API show as any other post (as Mastodon shows an
Article: its title, its summary and a link). What a post cannot say lives here: the Markdown
source, the whole rendered body, the review state, who validated it, and the version number.
A draft or an article in review has no post yet (`object_id` is NULL): nothing about it exists
outside this table, so it cannot be federated by mistake.

Articles from peers (`Article`, `Page`) get a row too (`local` False, always published), stored
whole so that Rounds' pages show them in full; their version counts the Updates received.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Enum, ForeignKey, Index, Integer, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, id_column, states_check, utcnow
from storage.models.content import Visibility


class ArticleState(str, enum.Enum):
    draft = "draft"
    in_review = "in_review"
    published = "published"


class Article(Base):
    __tablename__ = "articles"
    __table_args__ = (
        Index("ix_articles_author_id_id", "author_id", "id"),
        Index("ix_articles_community_id_state", "community_id", "state"),
        states_check("articles", ArticleState),
    )

    id: Mapped[int] = id_column()
    author_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))
    # the post that represents it, once published (unique: one article per post)
    object_id: Mapped[int | None] = mapped_column(ForeignKey("objects.id", ondelete="CASCADE"), unique=True)
    community_id: Mapped[int | None] = mapped_column(ForeignKey("actors.id", ondelete="SET NULL"))  # its Group
    local: Mapped[bool] = mapped_column(Boolean, default=True)
    title: Mapped[str] = mapped_column(Text, default="")
    summary: Mapped[str] = mapped_column(Text, default="")  # plain text
    source: Mapped[str] = mapped_column(Text, default="")   # Markdown (a peer's, if it sent one)
    content: Mapped[str] = mapped_column(Text, default="")  # sanitised HTML of the whole body
    tags: Mapped[list[str] | None] = mapped_column(JSON(none_as_null=True))
    references: Mapped[list[str] | None] = mapped_column(JSON(none_as_null=True))
    # the author's uploads it carries, in order (ids of `media`); attached to its post once published
    media_ids: Mapped[list[str] | None] = mapped_column(JSON(none_as_null=True))
    visibility: Mapped[Visibility] = mapped_column(Enum(Visibility, native_enum=False, length=16))
    local_only: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    state: Mapped[ArticleState] = mapped_column(Enum(ArticleState, native_enum=False, length=16))
    version: Mapped[int] = mapped_column(Integer, default=1)
    change_note: Mapped[str] = mapped_column(Text, default="")  # what changed in this version
    review_note: Mapped[str] = mapped_column(Text, default="")  # a moderator's reason for a rejection
    validated_by_id: Mapped[int | None] = mapped_column(ForeignKey("actors.id", ondelete="SET NULL"))
    validated_at: Mapped[datetime | None]
    validated_version: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)  # when this version was made
    published_at: Mapped[datetime | None]


class ArticleVersion(Base):
    """An earlier version of an article, kept when an edit replaced it."""

    __tablename__ = "article_versions"
    __table_args__ = (UniqueConstraint("article_id", "version", name="uq_article_versions_article_version"),)

    id: Mapped[int] = id_column()
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text, default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(Text, default="")
    content: Mapped[str] = mapped_column(Text, default="")
    references: Mapped[list[str] | None] = mapped_column(JSON(none_as_null=True))
    change_note: Mapped[str] = mapped_column(Text, default="")
    made_at: Mapped[datetime] = mapped_column(default=utcnow)  # when this version was made


def article_snapshot(article: Article) -> dict[str, Any]:
    """The fields of the current version an ArticleVersion keeps."""
    return {"version": article.version, "title": article.title, "summary": article.summary, "source": article.source,
            "content": article.content, "references": article.references, "change_note": article.change_note,
            "made_at": article.updated_at}


__all__ = ["Article", "ArticleState", "ArticleVersion", "article_snapshot"]
