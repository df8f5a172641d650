"""Quote posts: the rows of `quotes`, by the quoting post's id or the authorisation's, and what a
Status entity shows of them (read in `Database.read`, synchronously, with the page)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from storage.models import Block, Follow, FollowState, Mute, Object, Quote, QuoteState
from storage.paging import Cursor, apply, newest_first
from storage.upsert import insert_for


# built once: the inbox worker asks them for quoting posts and for every Delete
_BY_URI = select(Quote).where(Quote.uri == bindparam("uri"))
_BY_APPROVAL = select(Quote).where(Quote.approval_uri == bindparam("uri"))


async def quote_by_uri(session: AsyncSession, uri: str) -> Quote | None:
    return await session.scalar(_BY_URI, {"uri": uri})


async def quote_by_approval(session: AsyncSession, approval_uri: str) -> Quote | None:
    return await session.scalar(_BY_APPROVAL, {"uri": approval_uri})


async def quote_by_id(session: AsyncSession, quote_id: int) -> Quote | None:
    return await session.get(Quote, quote_id)


async def quote_of_post(session: AsyncSession, object_id: int) -> Quote | None:
    return await session.scalar(select(Quote).where(Quote.object_id == object_id))


async def add_quote(session: AsyncSession, *, uri: str, object_id: int | None, quoted_uri: str,
                    quoted_id: int | None, state: QuoteState, approval_uri: str | None = None) -> Quote:
    """The quote of the post `uri`: inserted, or the row it already has (a redelivery)."""
    await session.execute(insert_for(session, Quote).values(
        uri=uri, object_id=object_id, quoted_uri=quoted_uri, quoted_id=quoted_id, state=state,
        approval_uri=approval_uri).on_conflict_do_nothing(index_elements=["uri"]))
    return await quote_by_uri(session, uri)


async def quoting_posts(session: AsyncSession, quoted_id: int, cursor: Cursor) -> list[tuple[int, Object]]:
    """(quote id, quoting post) of the live posts quoting `quoted_id` with its author's
    authorisation, newest quote first."""
    query = (select(Quote.id, Object).join(Object, Object.id == Quote.object_id)
             .where(Quote.quoted_id == quoted_id, Quote.state == QuoteState.accepted, Object.deleted_at.is_(None)))
    rows = [(quote_id, post) for quote_id, post in await session.execute(apply(query, Quote.id, cursor))]
    return newest_first(rows, cursor, key=lambda row: row[0])


# --- what Status entities show (synchronous, in Database.read) -----------------------------------

def followed_among(session: Session, viewer_id: int, author_ids: Iterable[int]) -> set[int]:
    """Which of `author_ids` the viewer follows (accepted)."""
    author_ids = set(author_ids)
    if not author_ids:
        return set()
    return set(session.scalars(select(Follow.followee_id).where(
        Follow.follower_id == viewer_id, Follow.followee_id.in_(author_ids), Follow.state == FollowState.accepted)))


def hidden_among(session: Session, viewer_id: int, author_ids: Iterable[int]) -> dict[int, str]:
    """Which of `author_ids` the viewer blocks or mutes: the quote state Mastodon shows for a
    quoted post of theirs (blocked_account, muted_account)."""
    author_ids = set(author_ids)
    if not author_ids:
        return {}
    muted = {i: "muted_account" for i in session.scalars(select(Mute.target_id).where(
        Mute.actor_id == viewer_id, Mute.target_id.in_(author_ids)))}
    blocked = {i: "blocked_account" for i in session.scalars(select(Block.target_id).where(
        Block.actor_id == viewer_id, Block.target_id.in_(author_ids)))}
    return {**muted, **blocked}
