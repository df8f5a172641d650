"""Home timelines, written as items arrive (fan-out on write).

When a post or a boost arrives, or is made here, one row per local home it belongs in goes into
`home_feed`; following someone copies in their recent posts, and unfollowing or blocking takes
theirs out. Reading a home timeline is then one index range scan (see storage.timelines.home).
Deletes and mutes are applied when reading, so a feed row may outlive what it points at.
A new post also sends its `update` stream event from here, so open timelines show it at once;
edits and deletes only send stream events (`streams.record_post`). A direct post is also the
newest of its thread's conversation for each local user it reaches (storage.conversations).
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from federation.social.events import StreamEvent, record
from federation.social.posts import Links
from federation.social.streams import local_followers, new_posts_homes, post_homes, post_streams
from storage import conversations
from storage.home_feeds import add_feed_entries, add_feeds_entries, recent_post_ids, remove_author_entries
from storage.lists import leave_lists
from storage.posts import mentioned_actors
from storage.models import Actor, Object, Visibility

BACKFILL = 40


async def add(session: AsyncSession, owners: set[int], item_id: int, author_id: int, *, boost: bool = False) -> None:
    if not owners:
        return
    await add_feed_entries(session, owners, item_id, author_id, boost=boost)


async def backfill(session: AsyncSession, follower: Actor, followee: Actor) -> None:
    """A new follow: the followee's recent posts join the follower's home timeline."""
    if not follower.local:
        return
    for post_id in await recent_post_ids(session, followee.id, BACKFILL):
        await add(session, {follower.id}, post_id, followee.id)


async def remove_author(session: AsyncSession, owner: Actor, author: Actor) -> None:
    """An unfollow or a block: the author's items leave the owner's home timeline, and the
    author her lists (made of accounts she follows)."""
    if owner.local:
        await remove_author_entries(session, owner.id, author.id)
        await leave_lists(session, owner.id, author.id)


async def add_post_to_homes(session: AsyncSession, post: Object, author: Actor, links: Links | None = None) -> None:
    """A new post, written here or arrived from a peer: its home-feed rows, and its `update`
    stream event queued. `links`: its mentions and hashtags as just stored, if the caller has them."""
    if links is not None:
        return await add_posts_to_homes(session, [(post, author, links)])
    homes = await post_homes(session, post, author)
    await add(session, homes, post.id, author.id)
    await _conversations(session, post, author, homes, None)
    record(session, StreamEvent(await post_streams(session, post, author, homes), "update", "status", post.id))


async def add_posts_to_homes(session: AsyncSession, posts: list[tuple[Object, Actor, Links]]) -> None:
    """`add_post_to_homes` of new posts, (post, author, its links as just stored) each: a
    statement per query for all of them (`new_posts_homes`), and one insert of their feed rows."""
    homes = await new_posts_homes(session, posts)
    await add_feeds_entries(session, [(owners, post.id, author.id) for (post, author, _), owners in zip(posts, homes)],
                            boost=False)
    for (post, author, links), owners in zip(posts, homes):
        await _conversations(session, post, author, owners, links.mentions)
        record(session, StreamEvent(await post_streams(session, post, author, owners, links), "update", "status", post.id))


async def _conversations(session: AsyncSession, post: Object, author: Actor, homes: set[int],
                         mentions: list[Actor] | None) -> None:
    """A direct post is the newest of its conversation (its thread, with the same people: its
    author and whom it mentions, read if the caller has not) for each local user it reaches,
    unread but for its author's."""
    if post.visibility is not Visibility.direct or not homes:
        return
    mentioned = mentions if mentions is not None else await mentioned_actors(session, post.id)
    people = {author.id, *(actor.id for actor in mentioned)}
    await conversations.note(session, post, people, {owner: owner != author.id for owner in homes})


async def add_boost_to_homes(session: AsyncSession, booster: Actor, announce_id: int) -> None:
    """A boost: a home-feed row for each local follower of the booster (and the booster, if
    local), and its `update` stream event queued."""
    homes = await local_followers(session, booster) | ({booster.id} if booster.local else set())
    await add(session, homes, announce_id, booster.id, boost=True)
    record(session, StreamEvent(tuple(f"user:{i}" for i in sorted(homes)), "update", "announce", announce_id))
