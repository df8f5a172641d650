"""Timeline and list queries for the client API, paged by time-ordered ids.

A page is at most `limit` items, newest first. `max_id` asks for items older than it;
`since_id` for items newer than it (still the newest `limit` of them); `min_id` for the items
just newer than it (the oldest `limit` of those), the way Mastodon pages.

Posts and boosts share one id space (both ids are minted by `storage.ids`), so a home timeline
pages its posts and boosts together by id.

The functions are synchronous: each runs inside `Database.read`, with the rendering of its page.
"""

from __future__ import annotations

from sqlalchemy import BindParameter, and_, bindparam, or_, select, union_all
from sqlalchemy.orm import Session

from storage.db import core_rows
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
from storage.paging import Cursor, PagedStatement, apply, newest_first
from storage.statuses import (
    BOOST_COLUMNS,
    NO_RAW_OBJECT,
    POST_COLUMNS,
    BoostRow,
    PostRow,
)


def _hidden(viewer_id: int | BindParameter | None):
    """Actors whose posts a viewer never sees in timelines: blocked or muted by them, and every
    actor of a blocked peer (a subquery of the timeline's own query)."""
    queries = [select(Actor.id).join(Peer, Peer.domain == Actor.domain).where(Peer.state == PeerState.blocked)]
    if viewer_id is not None:
        queries += [select(Block.target_id).where(Block.actor_id == viewer_id),
                    select(Mute.target_id).where(Mute.actor_id == viewer_id)]
    return union_all(*queries)


def _live_posts():
    return select(Object).where(Object.deleted_at.is_(None)).options(NO_RAW_OBJECT)


_HOME = PagedStatement(
    select(*POST_COLUMNS, *BOOST_COLUMNS).select_from(FeedEntry)
    .outerjoin(Object, and_(FeedEntry.boost.is_(False), Object.id == FeedEntry.item_id, Object.deleted_at.is_(None)))
    .outerjoin(Announce, and_(FeedEntry.boost.is_(True), Announce.id == FeedEntry.item_id))
    .where(FeedEntry.owner_id == bindparam("viewer"), FeedEntry.author_id.not_in(_hidden(bindparam("viewer"))),
           or_(Object.id.is_not(None), Announce.id.is_not(None))),  # a deleted post's row is passed over
    FeedEntry.item_id,
)
_POST_FIELDS = len(POST_COLUMNS)


def home(session: Session, viewer_id: int, cursor: Cursor) -> list[PostRow | BoostRow]:
    """The viewer's home timeline, read from its feed rows (see federation.feeds) in one query: a
    range scan of the (owner, item) index, each row joined to its post or boost, read as plain
    rows (the hottest read of the client API)."""
    rows = core_rows(session, *_HOME(cursor, viewer=viewer_id))
    return newest_first([PostRow(*row[:_POST_FIELDS]) if row[0] is not None else BoostRow(*row[_POST_FIELDS:])
                         for row in rows], cursor)


def public(session: Session, cursor: Cursor, *, local: bool | None, viewer_id: int | None,
           only_media: bool = False) -> list[Object]:
    query = _live_posts().where(Object.visibility == Visibility.public, Object.actor_id.not_in(_hidden(viewer_id)))
    if local is not None:
        query = query.where(Object.local.is_(local))
    if only_media:
        query = query.where(Object.attachments.is_not(None))
    return list(newest_first(list(session.scalars(apply(query, Object.id, cursor))), cursor))


def tagged(session: Session, tag: str, cursor: Cursor, *, local: bool | None,
                 viewer_id: int | None) -> list[Object]:
    query = _live_posts().join(Tag, Tag.object_id == Object.id).where(
        Tag.name == tag.lower(), Object.visibility == Visibility.public, Object.actor_id.not_in(_hidden(viewer_id)))
    if local is not None:
        query = query.where(Object.local.is_(local))
    return list(newest_first(list(session.scalars(apply(query, Object.id, cursor))), cursor))


def marked(session: Session, model, viewer_id: int, cursor: Cursor) -> list[tuple[int, Object]]:
    """(mark id, post) of the viewer's bookmarks or favourites, newest mark first."""
    query = select(model.id, Object).join(Object, model.object_id == Object.id).where(
        model.actor_id == viewer_id, Object.deleted_at.is_(None))
    rows = [(mark_id, post) for mark_id, post in session.execute(apply(query, model.id, cursor))]
    return newest_first(rows, cursor, key=lambda row: row[0])


def likers(session: Session, object_id: int, model, cursor: Cursor) -> list[tuple[int, Actor]]:
    """(row id, actor) of who favourited (Like) or boosted (Announce) a post."""
    query = select(model.id, Actor).join(Actor, model.actor_id == Actor.id).where(model.object_id == object_id)
    rows = [(row_id, actor) for row_id, actor in session.execute(apply(query, model.id, cursor))]
    return newest_first(rows, cursor, key=lambda row: row[0])


def notifications(session: Session, viewer_id: int, cursor: Cursor, *, types: set[str] | None,
                        exclude: set[str]) -> list[Notification]:
    query = select(Notification).where(Notification.recipient_id == viewer_id, Notification.dismissed.is_(False))
    if types:
        query = query.where(Notification.type.in_(types))
    if exclude:
        query = query.where(Notification.type.not_in(exclude))
    return list(newest_first(list(session.scalars(apply(query, Notification.id, cursor))), cursor))


def thread(session: Session, post: Object, depth: int = 40) -> tuple[list[Object], list[Object]]:
    """(ancestors oldest first, descendants in reply order) of a post, as far as we have them."""
    ancestors: list[Object] = []
    uri = post.in_reply_to_uri
    while uri and len(ancestors) < depth:
        parent = session.scalar(select(Object).where(Object.uri == uri))
        if parent is None:
            break
        ancestors.insert(0, parent)
        uri = parent.in_reply_to_uri
    descendants: list[Object] = []
    frontier = [post.uri]
    while frontier and len(descendants) < 4 * depth:
        children = list(session.scalars(
            select(Object).where(Object.in_reply_to_uri.in_(frontier), Object.deleted_at.is_(None)).order_by(Object.id)))
        descendants += children
        frontier = [child.uri for child in children]
    return ancestors, descendants

