"""Timeline and list queries for the client API, paged by time-ordered ids.

A page is at most `limit` items, newest first. `max_id` asks for items older than it;
`since_id` for items newer than it (still the newest `limit` of them); `min_id` for the items
just newer than it (the oldest `limit` of those), the way Mastodon pages.

Posts and boosts share one id space (both ids are minted by `storage.ids`), so a home timeline
pages its posts and boosts together by id.

The functions are synchronous: each runs inside `Database.read`, with the rendering of its page.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BindParameter, and_, bindparam, exists, or_, select, true, union_all
from sqlalchemy.orm import Session, aliased

from storage.coverage import blocked_author, limited_author
from storage.db import core_rows
from storage.models import (
    Actor,
    Announce,
    Block,
    FeedEntry,
    List,
    ListMember,
    Mute,
    Notification,
    Object,
    Tag,
    Visibility,
)
from storage.notifications import Scope, listed
from storage.paging import Cursor, PagedStatement, apply, newest_first
from storage.statuses import (
    BOOST_COLUMNS,
    NO_RAW_OBJECT,
    POST_COLUMNS,
    BoostRow,
    PostRow,
)


def _hidden(viewer_id: int | BindParameter):
    """Actors whose posts a viewer never sees in timelines: blocked or muted by them, a mute
    until it ends (the statement's `now`) (a subquery of the timeline's own query). Actors of
    blocked peers are hidden by `_shown`."""
    return union_all(select(Block.target_id).where(Block.actor_id == viewer_id),
                     select(Mute.target_id).where(Mute.actor_id == viewer_id, or_(
                         Mute.expires_at.is_(None), Mute.expires_at > bindparam("now"))))


def _shown(actor_id, viewer_id: int | BindParameter | None):
    """The author `actor_id` is neither on a blocked peer (storage.coverage) nor hidden by the viewer."""
    shown = ~blocked_author(actor_id)
    return shown if viewer_id is None else and_(shown, actor_id.not_in(_hidden(viewer_id)))


_Boosted = aliased(Object)
# the author of the post a boost boosts (a boost of a blocked peer's post is hidden with it)
_BOOSTED_AUTHOR = (select(_Boosted.actor_id).where(_Boosted.id == Announce.object_id)
                   .correlate_except(_Boosted).scalar_subquery())


def _live_posts():
    return select(Object).where(Object.deleted_at.is_(None)).options(NO_RAW_OBJECT)


def _for(viewer_id: int | None):
    """SQL: an institution-only post only for a signed-in viewer (one of the instance's users:
    federation.social.access.can_see)."""
    return Object.local_only.is_(False) if viewer_id is None else true()


_HOME_QUERY = (
    select(*POST_COLUMNS, *BOOST_COLUMNS).select_from(FeedEntry)
    .outerjoin(Object, and_(FeedEntry.boost.is_(False), Object.id == FeedEntry.item_id, Object.deleted_at.is_(None)))
    .outerjoin(Announce, and_(FeedEntry.boost.is_(True), Announce.id == FeedEntry.item_id))
    .where(FeedEntry.owner_id == bindparam("viewer"), _shown(FeedEntry.author_id, bindparam("viewer")),
           or_(Object.id.is_not(None), Announce.id.is_not(None)),  # a deleted post's row is passed over
           or_(Announce.id.is_(None), ~blocked_author(_BOOSTED_AUTHOR)))
)
# home leaves out the members of her exclusive lists (they have a timeline of their own)
_EXCLUSIVE = (select(ListMember.actor_id).join(List, List.id == ListMember.list_id)
              .where(List.owner_id == bindparam("viewer"), List.exclusive.is_(True)))
_HOME = PagedStatement(_HOME_QUERY.where(FeedEntry.author_id.not_in(_EXCLUSIVE)), FeedEntry.item_id)
_HOME_ALL = PagedStatement(_HOME_QUERY, FeedEntry.item_id)  # the web's home: the web has no list pages
_POST_FIELDS = len(POST_COLUMNS)


def home(session: Session, viewer_id: int, cursor: Cursor, now: datetime, *, exclusive: bool = True
         ) -> list[PostRow | BoostRow]:
    """The viewer's home timeline, read from its feed rows (see federation.social.feeds) in one query: a
    range scan of the (owner, item) index, each row joined to its post or boost, read as plain
    rows (the hottest read of the client API). Without her exclusive lists' members, unless
    `exclusive` is False (the web pages, which have no list pages to show them)."""
    rows = core_rows(session, *(_HOME if exclusive else _HOME_ALL)(cursor, viewer=viewer_id, now=now))
    return newest_first([PostRow(*row[:_POST_FIELDS]) if row[0] is not None else BoostRow(*row[_POST_FIELDS:])
                         for row in rows], cursor)


_Parent = aliased(Object)
_MEMBERS = select(ListMember.actor_id).where(ListMember.list_id == bindparam("list")).scalar_subquery()


def _list_statement(replies: str) -> PagedStatement:
    """A list's timeline: its owner's home feed rows by the list's members; of their replies,
    those its `replies` policy keeps (followed: every one home shows; list: to a member, or to
    oneself; none: no reply)."""
    query = _HOME_QUERY.where(FeedEntry.author_id.in_(_MEMBERS))
    if replies != "followed":
        kept = [Object.id.is_(None), Object.in_reply_to_uri.is_(None)]  # a boost, or no reply
        if replies == "list":
            kept.append(exists().where(_Parent.uri == Object.in_reply_to_uri,
                                       or_(_Parent.actor_id == Object.actor_id, _Parent.actor_id.in_(_MEMBERS))))
        query = query.where(or_(*kept))
    return PagedStatement(query, FeedEntry.item_id)


_LISTS = {replies: _list_statement(replies) for replies in ("followed", "list", "none")}


def list_timeline(session: Session, viewer_id: int, list_id: int, replies: str, cursor: Cursor, now: datetime
                  ) -> list[PostRow | BoostRow]:
    """A list's timeline (`_list_statement`), read as `home` reads hers."""
    rows = core_rows(session, *_LISTS[replies](cursor, viewer=viewer_id, list=list_id, now=now))
    return newest_first([PostRow(*row[:_POST_FIELDS]) if row[0] is not None else BoostRow(*row[_POST_FIELDS:])
                         for row in rows], cursor)


def public(session: Session, cursor: Cursor, *, local: bool | None, viewer_id: int | None, now: datetime,
           only_media: bool = False) -> list[Object]:
    query = _live_posts().where(Object.visibility == Visibility.public, _shown(Object.actor_id, viewer_id),
                                ~limited_author(Object.actor_id), _for(viewer_id))
    if local is not None:
        query = query.where(Object.local.is_(local))
    if only_media:
        query = query.where(Object.attachments.is_not(None))
    return list(newest_first(list(session.scalars(apply(query, Object.id, cursor), {"now": now})), cursor))


def tagged(session: Session, tag: str, cursor: Cursor, *, local: bool | None,
           viewer_id: int | None, now: datetime) -> list[Object]:
    query = _live_posts().join(Tag, Tag.object_id == Object.id).where(
        Tag.name == tag.lower(), Object.visibility == Visibility.public, _shown(Object.actor_id, viewer_id),
        ~limited_author(Object.actor_id), _for(viewer_id))
    if local is not None:
        query = query.where(Object.local.is_(local))
    return list(newest_first(list(session.scalars(apply(query, Object.id, cursor), {"now": now})), cursor))


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


def notifications(session: Session, viewer_id: int, cursor: Cursor, scope: Scope = Scope()) -> list[Notification]:
    query = select(Notification).where(listed(viewer_id, scope))
    return list(newest_first(list(session.scalars(apply(query, Notification.id, cursor))), cursor))


def thread(session: Session, post: Object, depth: int = 40) -> tuple[list[Object], list[Object]]:
    """(ancestors oldest first, descendants in reply order) of a post, as far as we have them,
    leaving out posts by blocked peers (the walk goes through them, so a local reply to one
    still shows)."""
    ancestors: list[Object] = []
    seen = 0
    uri = post.in_reply_to_uri
    while uri and seen < depth:
        row = session.execute(select(Object, blocked_author(Object.actor_id)).where(Object.uri == uri)).first()
        if row is None:
            break
        parent, blocked = row
        seen += 1
        if not blocked:
            ancestors.insert(0, parent)
        uri = parent.in_reply_to_uri
    descendants: list[Object] = []
    frontier = [post.uri]
    seen = 0
    while frontier and seen < 4 * depth:
        rows = session.execute(
            select(Object, blocked_author(Object.actor_id))
            .where(Object.in_reply_to_uri.in_(frontier), Object.deleted_at.is_(None)).order_by(Object.id)).all()
        seen += len(rows)
        descendants += [child for child, blocked in rows if not blocked]
        frontier = [child.uri for child, _ in rows]
    return ancestors, descendants

