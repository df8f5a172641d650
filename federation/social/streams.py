"""Who hears about a post or a boost: the local homes it belongs in (its author, local followers,
local actors it mentions, and for a public post the followers of its hashtags), which get a
home-feed row and a `user:` stream event, plus the public and hashtag streams for public posts,
but for a limited peer's (storage.coverage's `limited_author`, the predicate of the public
timelines)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from federation.social.events import StreamEvent, record
from federation.social.posts import Links
from storage import posts as post_queries
from storage import streams as stream_queries
from storage import tags as tag_queries
from storage.models import Actor, Object, Visibility


async def local_followers(session: AsyncSession, actor: Actor) -> set[int]:
    return await stream_queries.local_follower_ids(session, actor.id)


async def post_homes(session: AsyncSession, post: Object, author: Actor, *, tags: list[str] | None = None) -> set[int]:
    """The local actors whose home timeline a stored post belongs in, its mentions and hashtags
    read (`tags`: its hashtags, if the caller read them; a new post, whose links the caller has:
    `new_posts_homes`). A public post also joins the homes of its hashtags' followers, but for a
    limited peer's (kept out as out of the public timelines)."""
    # a direct post reaches only whom it mentions; any other, the author's followers too
    followers = post.visibility is not Visibility.direct
    public = post.visibility is Visibility.public
    reaching = await _reaching(session, post, author, await _tags(session, post, None, tags) if public else [])
    homes = await stream_queries.home_ids(session, post.id, author.id, followers=followers)
    if reaching:
        homes |= await tag_queries.tag_followers(session, reaching, author.id)
    return _with_author(homes, author)


async def new_posts_homes(session: AsyncSession, posts: list[tuple[Object, Actor, Links]]) -> list[set[int]]:
    """`post_homes` of new posts, (post, author, its links as just stored) each: the authors'
    followers in one query, and their hashtags' followers in two more if any has some."""
    followers = await stream_queries.local_followers_of(
        session, {author.id for post, author, _ in posts if post.visibility is not Visibility.direct})
    reaching = [(author.id, await _reaching(session, post, author, links.tags)) for post, author, links in posts]
    by_tags = await tag_queries.tag_followers_of(session, reaching)
    homes = []
    for (post, author, links), tagged in zip(posts, by_tags):
        reached = {actor.id for actor in links.mentions if actor.local} | tagged
        if post.visibility is not Visibility.direct:
            reached |= followers[author.id]
        homes.append(_with_author(reached, author))
    return homes


async def _reaching(session: AsyncSession, post: Object, author: Actor, tags: list[str]) -> list[str]:
    """The hashtags whose followers a post reaches: a public post's, but for a limited peer's."""
    if post.visibility is not Visibility.public or not tags:
        return []
    return [] if not author.local and await stream_queries.on_limited_peer(session, author.id) else tags


def _with_author(homes: set[int], author: Actor) -> set[int]:
    return homes | {author.id} if author.local else homes


async def post_streams(session: AsyncSession, post: Object, author: Actor, homes: set[int],
                       links: Links | None = None, *, tags: list[str] | None = None) -> tuple[str, ...]:
    """The streams that hear of a post: its homes' (`post_homes`, `new_posts_homes`), and for a
    public post the public ones and its hashtags' (from `links`, its hashtags as just stored, or
    `tags`, else read), unless its author's peer is limited (kept out of them as out of the public
    timelines)."""
    streams = [f"user:{actor_id}" for actor_id in sorted(homes)]
    public = post.visibility is Visibility.public
    if public and (author.local or not await stream_queries.on_limited_peer(session, author.id)):
        streams += ["public", "public:local" if post.local else "public:remote"]
        streams += [f"hashtag:{name}" for name in sorted(await _tags(session, post, links, tags))]
    return tuple(streams)


async def _tags(session: AsyncSession, post: Object, links: Links | None, tags: list[str] | None) -> list[str]:
    """A post's hashtags: as just stored (`links`), as the caller read them (`tags`), else read."""
    if links is not None:
        return links.tags
    return tags if tags is not None else await post_queries.tag_names(session, post.id)


async def record_post(session: AsyncSession, post: Object, author: Actor, event: str) -> None:
    """`status.update` or `delete` of a post, to everyone who should hear of it (a new post goes
    through `social.feeds.add_post_to_homes`, which also writes the home-feed rows)."""
    # its hashtags read once, for its homes and its streams (only a public post's count)
    tags = await post_queries.tag_names(session, post.id) if post.visibility is Visibility.public else []
    homes = await post_homes(session, post, author, tags=tags)
    record(session, StreamEvent(await post_streams(session, post, author, homes, tags=tags), event, "status", post.id))
