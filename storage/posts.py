"""Queries on posts as the domain writes them: by id, uri or a client's Idempotency-Key; their
mentions, hashtags and edit history; tombstones."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import BigInteger, bindparam, delete, insert, inspect, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, aliased

from storage import core
from storage.models import Actor, IdempotencyKey, Mention, Object, ObjectEdit, Tag
from storage.upsert import per_backend


async def post_by_id(session: AsyncSession, post_id: int) -> Object | None:
    return await session.get(Object, post_id)


async def post_by_idempotency_key(session: AsyncSession, actor_id: int, key: str) -> Object | None:
    """The post an actor created with this `Idempotency-Key`, if any."""
    return await session.scalar(select(Object).join(IdempotencyKey, IdempotencyKey.object_id == Object.id)
                                .where(IdempotencyKey.actor_id == actor_id, IdempotencyKey.key == key))


async def remember_idempotency_key(session: AsyncSession, actor_id: int, key: str, post_id: int) -> None:
    session.add(IdempotencyKey(actor_id=actor_id, key=key, object_id=post_id))
    await session.flush()


def add_edit(session: AsyncSession, item: Object) -> None:
    """Keep the post's current version (text, content warning, attachments) in its edit history."""
    session.add(ObjectEdit(
        object_id=item.id, content=item.content, summary=item.summary, sensitive=item.sensitive,
        attachments=item.attachments, edited_at=item.updated or item.published,
    ))


async def edits_of(session: AsyncSession, object_id: int) -> list[ObjectEdit]:
    """A post's earlier versions, oldest first."""
    return list(await session.scalars(select(ObjectEdit).where(ObjectEdit.object_id == object_id)
                                      .order_by(ObjectEdit.id)))


async def add_post(session: AsyncSession, item: Object) -> Object:
    """Store a new post, flushed (its mentions and tags refer to it)."""
    session.add(item)
    await session.flush()
    return item


# built once, for statements the inbox worker runs for every post it stores
# on any conflict (its uri, or its id) nothing; the row as an ORM object when inserted (loaded from
# the RETURNING row, which costs less than the ORM's own bulk insert path)
_INSERT_REMOTE = per_backend(lambda insert: select(Object).from_statement(
    insert(Object.__table__).on_conflict_do_nothing().returning(*Object.__table__.c)))
_OBJECT_KEYS = tuple(attr.key for attr in inspect(Object).column_attrs)
# many at once: the id of each row inserted, in one statement (a multi-row VALUES on both backends)
_INSERT_REMOTES = per_backend(lambda insert: insert(Object.__table__).on_conflict_do_nothing()
                              .returning(Object.__table__.c.id))
# mentions and tags are only ever written and read as rows, never loaded as ORM objects: Core
# statements on their tables (the ORM's bulk path costs more than the insert; nothing to sync)
_INSERT_MENTION = insert(Mention.__table__)
_INSERT_TAG = insert(Tag.__table__)
_POST_ID = bindparam("post_id", type_=BigInteger)
_UNLINK_MENTIONS = delete(Mention.__table__).where(Mention.__table__.c.object_id == _POST_ID)
_UNLINK_TAGS = delete(Tag.__table__).where(Tag.__table__.c.object_id == _POST_ID)
_MENTIONED = select(Actor).join(Mention, Mention.actor_id == Actor.id).where(Mention.object_id == _POST_ID)
_TAG_NAMES = select(Tag.name).where(Tag.object_id == _POST_ID).order_by(Tag.name)


async def add_remote_post(session: AsyncSession, item: Object) -> tuple[Object, bool]:
    """Store a new remote post, and True; or, if a post with its uri is stored (earlier, or by
    another transaction first), that post, and False. A new post costs one statement: the insert
    does nothing on a conflict, and only then is the uri looked up. A post of another uri holding
    its id (the same millisecond and counter) moves it to the next free id. Two workers may fetch
    the same post at once (a boost's target, a reply's parent): on PostgreSQL the insert waits for
    the other to commit and then does nothing, and the next statement sees the row it committed,
    so the loser needs no retry."""
    insert = _INSERT_REMOTE(session)
    while True:
        values = {key: value for key in _OBJECT_KEYS if (value := getattr(item, key)) is not None}
        stored = await session.scalar(insert, values)
        if stored is not None:
            return stored, True
        existing = await post_by_uri(session, item.uri)
        if existing is not None:
            return existing, False
        item.id += 1


async def add_remote_posts(session: AsyncSession, items: list[Object]) -> set[int]:
    """Store new remote posts (built by one hand: the same columns set, or None, in each) in one
    statement; the ids of those inserted. One whose uri is stored already, or whose id another
    post holds, is left out: `add_remote_post` stores it alone, or finds it stored."""
    if not items:
        return set()
    keys = [key for key in _OBJECT_KEYS if any(getattr(item, key) is not None for item in items)]
    rows = [{key: getattr(item, key) for key in keys} for item in items]
    return set((await core.result(session, _INSERT_REMOTES(session), rows)).scalars())


async def claim_homes(session: AsyncSession, post_id: int) -> bool:
    """Mark a post as added to its followers' homes: True for the one transaction that does it
    first (a concurrent one waits on the row, then finds it marked)."""
    result = await session.execute(update(Object).where(Object.id == post_id, Object.reached_homes.is_(False))
                                   .values(reached_homes=True))
    return result.rowcount == 1


async def link_post(session: AsyncSession, post_id: int, mentioned_ids: Iterable[int], tags: Iterable[str]) -> None:
    """A new post's mentions and hashtags."""
    await link_posts(session, [(post_id, mentioned_ids, tags)])


async def link_posts(session: AsyncSession, links: Iterable[tuple[int, Iterable[int], Iterable[str]]]) -> None:
    """New posts' mentions and hashtags, (post id, mentioned actor ids, tag names) each: a bulk
    insert per table for all of them (no unit of work to flush)."""
    mentions, names = [], []
    for post_id, mentioned_ids, tags in links:
        mentions += [{"object_id": post_id, "actor_id": actor_id} for actor_id in mentioned_ids]
        names += [{"object_id": post_id, "name": name} for name in tags]
    if mentions:
        await core.execute(session, _INSERT_MENTION, mentions)
    if names:
        await core.execute(session, _INSERT_TAG, names)


async def unlink_post(session: AsyncSession, post_id: int) -> None:
    """Forget a post's mentions and hashtags (an edit brings its own)."""
    await core.execute(session, _UNLINK_MENTIONS, {"post_id": post_id})
    await core.execute(session, _UNLINK_TAGS, {"post_id": post_id})


async def mentioned_actors(session: AsyncSession, post_id: int) -> list[Actor]:
    return list(await session.scalars(_MENTIONED, {"post_id": post_id}))


async def tag_names(session: AsyncSession, post_id: int) -> list[str]:
    return await core.scalars(session, _TAG_NAMES, {"post_id": post_id})


async def local_post_by_uri(session: AsyncSession, uri: str) -> Object | None:
    return await session.scalar(select(Object).where(Object.uri == uri, Object.local.is_(True)))


async def is_mentioned(session: AsyncSession, object_id: int, actor_id: int) -> bool:
    return await session.scalar(
        select(Mention.id).where(Mention.object_id == object_id, Mention.actor_id == actor_id)) is not None


_BY_URI = select(Object).where(Object.uri == bindparam("uri"))


async def post_by_uri(session: AsyncSession, uri: str) -> Object | None:
    """The post with this id, deleted or not (a tombstone keeps its row)."""
    return await session.scalar(_BY_URI, {"uri": uri})


async def local_posts_by_uris(session: AsyncSession, uris: list[str]) -> dict[str, Object]:
    """Our posts with these ids, live or not, by id."""
    if not uris:
        return {}
    return {post.uri: post for post in await session.scalars(
        select(Object).where(Object.uri.in_(uris), Object.local.is_(True)))}


def _thread_chain():
    """The ids up a thread from the post `uri`, with their depth (1 for that post), `limit` deep."""
    chain = (select(Object.id, Object.in_reply_to_uri, literal(1).label("depth"))
             .where(Object.uri == bindparam("uri")).cte("chain", recursive=True))
    parent = aliased(Object)
    return chain.union_all(
        select(parent.id, parent.in_reply_to_uri, chain.c.depth + 1)
        .where(parent.uri == chain.c.in_reply_to_uri, chain.c.depth < bindparam("limit")))


_CHAIN = _thread_chain()  # built once: building the recursive CTE costs more than running it
_THREAD = select(Object).join(_CHAIN, Object.id == _CHAIN.c.id).order_by(_CHAIN.c.depth)
_THREAD_LINKS = (select(Object.id, Object.uri, Object.in_reply_to_uri, Object.local, Actor.uri)
                 .join(_CHAIN, Object.id == _CHAIN.c.id).join(Actor, Actor.id == Object.actor_id)
                 .order_by(_CHAIN.c.depth))


_ROOT = select(Object.uri).join(_CHAIN, Object.id == _CHAIN.c.id).order_by(_CHAIN.c.depth.desc()).limit(1)
THREAD_ROOT_DEPTH = 200  # a walk up a thread for its first post stops this far up


async def thread_root(session: AsyncSession, post: Object) -> str:
    """The id of the first post of `post`'s thread that is stored here (`post`'s own, if the post
    it answers is not)."""
    return await session.scalar(_ROOT, {"uri": post.uri, "limit": THREAD_ROOT_DEPTH}) or post.uri


async def stored_thread(session: AsyncSession, uri: str, limit: int) -> list[Object]:
    """The post with this id, then the post it replies to, and so on up its thread while they are
    stored (deleted or not), `limit` posts at most: one query for a walk up a thread that would
    otherwise ask for each post in turn. Empty if the first one is not stored."""
    return list(await session.scalars(_THREAD, {"uri": uri, "limit": limit}))


class PostLink(NamedTuple):
    """A stored post as far as a walk up its thread needs it: no content, no document."""

    id: int
    uri: str
    in_reply_to_uri: str | None
    local: bool
    author_uri: str


def stored_thread_links(session: Session, uri: str, limit: int) -> list[PostLink]:
    """`stored_thread`'s posts as `PostLink`s, for a caller that reads none of a post's content
    (the inbox's prefetch, a few hundred times a second). Synchronous, for `Database.read`; run
    on the session's connection, as its rows are no ORM objects (0.1 ms less than `session.execute`)."""
    return [PostLink(*row) for row in session.connection().execute(_THREAD_LINKS, {"uri": uri, "limit": limit})]


async def tombstone_post(session: AsyncSession, post_id: int, now: datetime) -> None:
    """The post's row stays, as a tombstone: its text, attachments and document go."""
    await session.execute(
        update(Object).where(Object.id == post_id)
        .values(deleted_at=now, content="", summary="", attachments=None, raw=None))


async def post_author_uri(session: AsyncSession, object_uri: str) -> str | None:
    """The id of the actor who made the object `object_uri`, if we hold it."""
    return await session.scalar(
        select(Actor.uri).join(Object, Object.actor_id == Actor.id).where(Object.uri == object_uri))
