"""Timeline and list queries for the client API, paged by time-ordered ids.

A page is at most `limit` items, newest first. `max_id` asks for items older than it;
`since_id` for items newer than it (still the newest `limit` of them); `min_id` for the items
just newer than it (the oldest `limit` of those), the way Mastodon pages.

Posts and boosts share one id space (both ids are minted by `storage.ids`), so a home timeline
is two small queries, one per table, merged in id order.
"""

from __future__ import annotations

from sqlalchemy import select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Actor,
    Announce,
    Block,
    FeedEntry,
    Mute,
    Notification,
    Object,
    Peer,
    PeerState,
    Tag,
    Visibility,
)
from storage.paging import Cursor, apply, newest_first


async def hidden_actor_ids(session: AsyncSession, viewer_id: int | None) -> set[int]:
    """Actors whose posts a viewer never sees in timelines: blocked or muted by them, and every
    actor of a blocked peer."""
    queries = [select(Actor.id).join(Peer, Peer.domain == Actor.domain).where(Peer.state == PeerState.blocked)]
    if viewer_id is not None:
        queries += [select(Block.target_id).where(Block.actor_id == viewer_id),
                    select(Mute.target_id).where(Mute.actor_id == viewer_id)]
    return set(await session.scalars(union_all(*queries)))  # one round trip


def _live_posts():
    return select(Object).where(Object.deleted_at.is_(None))


async def home(session: AsyncSession, viewer_id: int, cursor: Cursor) -> list[Object | Announce]:
    """The viewer's home timeline, read from its feed rows (see federation.feeds): one range
    scan of the (owner, item) index. Deleted items and hidden authors are dropped here, so a
    little more than a page is read."""
    hidden = await hidden_actor_ids(session, viewer_id)
    query = select(FeedEntry).where(FeedEntry.owner_id == viewer_id)
    if hidden:
        query = query.where(FeedEntry.author_id.not_in(hidden))
    slack = Cursor(cursor.max_id, cursor.since_id, cursor.min_id, cursor.limit + 10)
    entries = list(await session.scalars(apply(query, FeedEntry.item_id, slack)))
    posts = {o.id: o for o in await session.scalars(
        select(Object).where(Object.id.in_([e.item_id for e in entries if not e.boost]), Object.deleted_at.is_(None)))}
    boosts = {b.id: b for b in await session.scalars(
        select(Announce).where(Announce.id.in_([e.item_id for e in entries if e.boost])))}
    items = [(boosts if entry.boost else posts).get(entry.item_id) for entry in entries]
    return newest_first([item for item in items if item is not None], cursor)


async def public(session: AsyncSession, cursor: Cursor, *, local: bool | None, viewer_id: int | None,
                 only_media: bool = False) -> list[Object]:
    hidden = await hidden_actor_ids(session, viewer_id)
    query = _live_posts().where(Object.visibility == Visibility.public)
    if local is not None:
        query = query.where(Object.local.is_(local))
    if hidden:
        query = query.where(Object.actor_id.not_in(hidden))
    if only_media:
        query = query.where(Object.attachments.is_not(None))
    return list(newest_first(list(await session.scalars(apply(query, Object.id, cursor))), cursor))


async def tagged(session: AsyncSession, tag: str, cursor: Cursor, *, local: bool | None,
                 viewer_id: int | None) -> list[Object]:
    hidden = await hidden_actor_ids(session, viewer_id)
    query = _live_posts().join(Tag, Tag.object_id == Object.id).where(
        Tag.name == tag.lower(), Object.visibility == Visibility.public)
    if local is not None:
        query = query.where(Object.local.is_(local))
    if hidden:
        query = query.where(Object.actor_id.not_in(hidden))
    return list(newest_first(list(await session.scalars(apply(query, Object.id, cursor))), cursor))


async def marked(session: AsyncSession, model, viewer_id: int, cursor: Cursor) -> list[tuple[int, Object]]:
    """(mark id, post) of the viewer's bookmarks or favourites, newest mark first."""
    query = select(model.id, Object).join(Object, model.object_id == Object.id).where(
        model.actor_id == viewer_id, Object.deleted_at.is_(None))
    rows = [(mark_id, post) for mark_id, post in await session.execute(apply(query, model.id, cursor))]
    return newest_first(rows, cursor, key=lambda row: row[0])


async def likers(session: AsyncSession, object_id: int, model, cursor: Cursor) -> list[tuple[int, Actor]]:
    """(row id, actor) of who favourited (Like) or boosted (Announce) a post."""
    query = select(model.id, Actor).join(Actor, model.actor_id == Actor.id).where(model.object_id == object_id)
    rows = [(row_id, actor) for row_id, actor in await session.execute(apply(query, model.id, cursor))]
    return newest_first(rows, cursor, key=lambda row: row[0])


async def notifications(session: AsyncSession, viewer_id: int, cursor: Cursor, *, types: set[str] | None,
                        exclude: set[str]) -> list[Notification]:
    query = select(Notification).where(Notification.recipient_id == viewer_id, Notification.dismissed.is_(False))
    if types:
        query = query.where(Notification.type.in_(types))
    if exclude:
        query = query.where(Notification.type.not_in(exclude))
    return list(newest_first(list(await session.scalars(apply(query, Notification.id, cursor))), cursor))


async def thread(session: AsyncSession, post: Object, depth: int = 40) -> tuple[list[Object], list[Object]]:
    """(ancestors oldest first, descendants in reply order) of a post, as far as we have them."""
    ancestors: list[Object] = []
    uri = post.in_reply_to_uri
    while uri and len(ancestors) < depth:
        parent = await session.scalar(select(Object).where(Object.uri == uri))
        if parent is None:
            break
        ancestors.insert(0, parent)
        uri = parent.in_reply_to_uri
    descendants: list[Object] = []
    frontier = [post.uri]
    while frontier and len(descendants) < 4 * depth:
        children = list(await session.scalars(
            select(Object).where(Object.in_reply_to_uri.in_(frontier), Object.deleted_at.is_(None)).order_by(Object.id)))
        descendants += children
        frontier = [child.uri for child in children]
    return ancestors, descendants

