"""Batch reads behind the client API's entities: accounts with their counts, posts with their
counts and the viewer's flags, and the mentions, tags and media of many posts.

Every function takes many ids and answers in one query, so rendering a page of twenty statuses
costs a fixed handful of queries, not twenty times as many. An account's counts are columns that
database triggers keep (see the account counters migration); a post's counts and the viewer's
flags are correlated subqueries of its one query. The statements are built once, at import, with an expanding
`ids` parameter: building and caching a statement cost more than running it.

The functions are synchronous: a rendering runs whole inside `Database.read` (or an async
session's `run_sync`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import BigInteger, Row, bindparam, exists, func, select
from sqlalchemy.orm import Session, aliased, defer

from storage.db import core_rows
from storage.ids import id_time
from storage.models import (
    Account,
    Actor,
    ActorType,
    Announce,
    Bookmark,
    Like,
    Media,
    Mention,
    OAuthApp,
    Object,
    Pin,
    Quote,
    QuoteState,
    Tag,
    Visibility,
)

_IDS = bindparam("ids", expanding=True)
# documents as received are never rendered; decoding them is most of the cost of loading a row
NO_RAW_ACTOR, NO_RAW_OBJECT = defer(Actor.raw), defer(Object.raw)
_VIEWER = bindparam("viewer", type_=BigInteger)  # None: nobody, so every flag is false


class AccountCounts(NamedTuple):
    """An account's counts, and its staff role if it is a local moderator or admin."""
    followers: int
    following: int
    statuses: int
    last_status_at: datetime | None
    staff: str | None = None  # "admin", "moderator"


class PostExtras(NamedTuple):
    replies: int
    reblogs: int
    favourites: int
    favourited: bool
    reblogged: bool
    bookmarked: bool
    pinned: bool
    parent_id: int | None
    parent_actor_id: int | None
    quotes: int  # authorised quotes of it, by live posts
    quote_state: QuoteState | None  # of the quote it makes, if it quotes a post
    quoted_id: int | None  # the post it quotes, if stored here


NO_POST_EXTRAS = PostExtras(0, 0, 0, False, False, False, False, None, None, 0, None, None)


def _count(model, *where):
    return select(func.count()).select_from(model).where(*where).scalar_subquery()


class AccountRow(NamedTuple):
    """What an account entity shows, as a plain row: loading whole Actor entities (keys, inbox
    URLs, the document as received) cost twice as much, and reading a SQLAlchemy Row's fields
    by name cost as much again as building the entity."""
    id: int
    uri: str
    url: str | None
    local: bool
    type: ActorType
    username: str
    domain: str | None
    display_name: str
    summary: str
    manually_approves_followers: bool
    discoverable: bool
    published: datetime
    avatar_url: str | None
    header_url: str | None
    fields: list[dict[str, Any]] | None
    moved_to_id: int | None


ACCOUNT_COLUMNS = tuple(getattr(Actor, name) for name in AccountRow._fields)


class PostRow(NamedTuple):
    """What a status entity shows of a post, as a plain row (an Object has the same fields, and
    renders the same): a timeline page read as rows skips the ORM's loading of entities."""
    id: int
    uri: str
    type: str
    actor_id: int
    local: bool
    visibility: Visibility
    content: str
    summary: str
    sensitive: bool
    language: str | None
    url: str | None
    published: datetime
    updated: datetime | None
    deleted_at: datetime | None
    attachments: list[dict[str, Any]] | None
    application_id: int | None
    quote_policy: str | None
    local_only: bool


class BoostRow(NamedTuple):
    """A boost (an Announce's fields), as a plain row."""
    id: int
    uri: str
    actor_id: int
    object_id: int
    public: bool
    created_at: datetime


POST_COLUMNS = tuple(getattr(Object, name) for name in PostRow._fields)
BOOST_COLUMNS = tuple(getattr(Announce, name) for name in BoostRow._fields)


def is_boost(item) -> bool:
    return isinstance(item, (Announce, BoostRow))


_ACCOUNTS = select(
    *ACCOUNT_COLUMNS, Actor.followers_count, Actor.following_count, Actor.statuses_count, Actor.last_status_id,
    Account.is_admin, Account.is_moderator,
).outerjoin(Account, Account.actor_id == Actor.id).where(Actor.id.in_(_IDS))

_Reply, _Parent, _Quoting = aliased(Object), aliased(Object), aliased(Object)
_QuoteOf = aliased(Quote)  # a quote of the post (counted), beside the quote the post makes (joined)


def _viewer_has(model):
    return exists().where(model.object_id == Object.id, model.actor_id == _VIEWER)


_POST_EXTRAS = select(
    Object.id,
    _count(_Reply, _Reply.in_reply_to_uri == Object.uri, _Reply.deleted_at.is_(None)),
    _count(Announce, Announce.object_id == Object.id),
    _count(Like, Like.object_id == Object.id),
    _viewer_has(Like), _viewer_has(Announce), _viewer_has(Bookmark), _viewer_has(Pin),
    _Parent.id, _Parent.actor_id,
    select(func.count()).select_from(_QuoteOf).join(_Quoting, _Quoting.id == _QuoteOf.object_id).where(
        _QuoteOf.quoted_id == Object.id, _QuoteOf.state == QuoteState.accepted, _Quoting.deleted_at.is_(None),
    ).scalar_subquery(),
    Quote.state, Quote.quoted_id,
).outerjoin(_Parent, _Parent.uri == Object.in_reply_to_uri).outerjoin(Quote, Quote.object_id == Object.id).where(
    Object.id.in_(_IDS))

_MENTIONS = select(Mention.object_id, Actor.id, Actor.username, Actor.domain, Actor.local, Actor.url, Actor.uri).join(
    Actor, Mention.actor_id == Actor.id).where(Mention.object_id.in_(_IDS))
_TAGS = select(Tag.object_id, Tag.name).where(Tag.object_id.in_(_IDS)).order_by(Tag.name)
_MEDIA = select(Media).where(Media.object_id.in_(_IDS)).order_by(Media.id)
_OBJECTS = select(Object).where(Object.id.in_(_IDS)).options(NO_RAW_OBJECT)
_ACTORS = select(Actor).where(Actor.id.in_(_IDS)).options(NO_RAW_ACTOR)
_APPS = select(OAuthApp.id, OAuthApp.name, OAuthApp.website).where(OAuthApp.id.in_(_IDS))


def accounts(session: Session, ids: Iterable[int]) -> dict[int, tuple[AccountRow, AccountCounts]]:
    """Actors with (followers, following, statuses, last status time, staff role)."""
    ids = list(set(ids))
    if not ids:
        return {}
    found = {}
    for *columns, followers, following, statuses, last, admin, moderator in core_rows(session, _ACCOUNTS, {"ids": ids}):
        row = AccountRow(*columns)
        staff = "admin" if admin else "moderator" if moderator else None
        found[row.id] = (row, AccountCounts(followers, following, statuses, id_time(last) if last else None, staff))
    return found


def post_extras(session: Session, viewer_id: int | None, ids: Iterable[int]) -> dict[int, PostExtras]:
    """Counts, the viewer's flags, the parent (id, author) and the quote made of each post."""
    ids = list(set(ids))
    if not ids:
        return {}
    rows = core_rows(session, _POST_EXTRAS, {"ids": ids, "viewer": viewer_id})
    # the row: id, three counts, four flags, the parent's id and author, the quotes' count, the
    # state and the quoted post of the quote it makes
    return {row[0]: PostExtras(*row[1:4], *(bool(flag) for flag in row[4:8]), *row[8:]) for row in rows}


def mentions_of(session: Session, ids: set[int]) -> dict[int, list[Row]]:
    """The mentioned actors of each post: rows of id, username, domain, local, url and uri."""
    found: dict[int, list[Row]] = defaultdict(list)
    if ids:
        for row in core_rows(session, _MENTIONS, {"ids": list(ids)}):
            found[row.object_id].append(row)
    return found


def tags_of(session: Session, ids: set[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = defaultdict(list)
    if ids:
        for object_id, name in core_rows(session, _TAGS, {"ids": list(ids)}):
            found[object_id].append(name)
    return found


def media_of(session: Session, ids: set[int]) -> dict[int, list[Media]]:
    found: dict[int, list[Media]] = defaultdict(list)
    if ids:
        for media in session.scalars(_MEDIA, {"ids": list(ids)}):
            found[media.object_id].append(media)
    return found


def applications(session: Session, ids: set[int]) -> dict[int, dict[str, str | None]]:
    """The name and website of each OAuth app, as a status's `application` shows them."""
    if not ids:
        return {}
    return {row.id: {"name": row.name, "website": row.website} for row in core_rows(session, _APPS, {"ids": list(ids)})}


def actors_by_id(session: Session, ids: set[int]) -> dict[int, Actor]:
    if not ids:
        return {}
    return {a.id: a for a in session.scalars(_ACTORS, {"ids": list(ids)})}


def objects_by_id(session: Session, ids: set[int]) -> dict[int, Object]:
    if not ids:
        return {}
    return {o.id: o for o in session.scalars(_OBJECTS, {"ids": list(ids)})}
