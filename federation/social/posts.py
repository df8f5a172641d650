"""Posts (notes, articles, ...): remote ones stored from ActivityStreams, local ones rendered to it.

Visibility is read from addressing the way Mastodon-compatible servers write it: Public in `to`
is public, Public only in `cc` is unlisted, the author's followers collection without Public is
followers-only, and anything else is direct. Remote HTML is sanitised before it is stored, and
every remote post is bounded first (`federation.remote.limits`: PostRefused if it is over a limit
that cutting cannot fix). A post dated in the future is dated when it arrived.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from federation.articles import documents as article_documents
from federation.articles import remote as remote_articles
from federation.communities.contexts import context_of
from federation.social import emojis, polls, quotes
from federation.remote.limits import PostRefused, bound
from federation.protocol.sanitize import plain_text, sanitize_html
from federation.runtime.settings import FederationSettings
from federation.social.access import can_see
from federation.protocol.urls import LocalUrls
from federation.protocol.vocab import PUBLIC
from federation.protocol.vocab.render import note_to_ap
from federation.protocol.vocab.parse import APObject
from storage import actors as actor_queries
from storage.accounts_api import on_blocked_peers
from storage.ids import new_id, parse_id
from storage import posts as post_queries
from storage import timelines as timeline_queries
from storage.posts import add_edit, add_remote_post, link_posts, post_by_id, unlink_post
from storage.interactions import announce_by_id
from storage.models import Actor, Announce, Object, Visibility



@dataclass(frozen=True)
class Links:
    """The actors a post mentions and its hashtag names, as they were just stored with it: whoever
    reacts to the new post in the same transaction (its homes, streams and notifications) takes
    them from here instead of reading them back."""

    mentions: list[Actor]
    tags: list[str]


def visibility_of(to: tuple[str, ...], cc: tuple[str, ...], followers_url: str | None) -> Visibility:
    if PUBLIC in to:
        return Visibility.public
    if PUBLIC in cc:
        return Visibility.unlisted
    if followers_url and followers_url in to + cc:
        return Visibility.private
    return Visibility.direct


def remote_post_row(ap: APObject, author: Actor, now: datetime, limits: FederationSettings, *,
                    by_fetch: bool = False) -> tuple[APObject, Object]:
    """A remote post (bounded: PostRefused if it is over a limit that cutting cannot fix) and
    the row it is stored as, not added to any session yet."""
    ap = bound(ap, limits)
    published = min(ap.published or now, now)
    post = Object(
        id=new_id(at=published),
        uri=ap.id,
        type=ap.type,
        actor_id=author.id,
        local=False,
        visibility=visibility_of(ap.to, ap.cc, author.followers_url),
        published=published,
        raw=ap.raw,
        reached_homes=not by_fetch,
    )
    _copy_content(post, ap)
    return ap, post


async def store_remote_post(session: AsyncSession, ap: APObject, author: Actor, now: datetime,
                            limits: FederationSettings, *, by_fetch: bool = False) -> tuple[Object, Links | None]:
    """The row for a remote post, and its `Links` if it is new: inserted with its mentions and
    tags if it was not stored yet (by us, or by another worker at the same moment: then its row,
    and None). PostRefused (nothing written) if it is over the limits.

    `by_fetch`: the post was fetched by reference (a reply's parent, a boost's target), not
    delivered by its Create, so nobody adds it to its followers' homes now; it is stored with
    `reached_homes` False, and its Create, if it comes, adds it then (`claim_homes`)."""
    ap, post = remote_post_row(ap, author, now, limits, by_fetch=by_fetch)
    post, new = await add_remote_post(session, post)  # or the one stored with its uri
    if not new:
        return post, None
    (links,) = await _link(session, [(post, ap)])
    await emojis.keep_remote(session, author, [ap.raw], now)
    await quotes.link_remote(session, post, ap, author, now)
    if post.type == "Question":
        await polls.store_remote(session, post, ap.question)
    await remote_articles.keep(session, post, ap, author, now)  # an Article or a Page, whole
    return post, links


def stored_alike(ap: APObject) -> bool:
    """Whether a new remote post needs nothing but its row, mentions, tags and emojis stored, so
    that many can be stored together (`store_new_remote_posts`): a Note that quotes nothing."""
    return ap.type == "Note" and ap.quote is None


async def store_new_remote_posts(session: AsyncSession, arrivals: list[tuple[APObject, Actor]], now: datetime,
                                 limits: FederationSettings) -> list[tuple[Object, APObject, Links] | None]:
    """`store_remote_post` of many posts delivered by their Creates, each `stored_alike`, with a
    statement per table for all of them. For each: its row (not in the session: read its columns,
    load it to change it), the post as bounded, and its `Links`; or None where it was not stored
    here (over the limits, stored already, or its id taken), for `store_remote_post` to tell why."""
    rows: list[tuple[APObject, Object] | None] = []
    for ap, author in arrivals:
        try:
            rows.append(remote_post_row(ap, author, now, limits))
        except PostRefused:
            rows.append(None)
    inserted = await post_queries.add_remote_posts(session, [post for _, post in filter(None, rows)])
    stored = [row if row is not None and row[1].id in inserted else None for row in rows]
    links = iter(await _link(session, [(post, ap) for ap, post in filter(None, stored)]))
    found: list[tuple[Object, APObject, Links] | None] = []
    for row, (_, author) in zip(stored, arrivals):
        if row is None:
            found.append(None)
            continue
        ap, post = row
        await emojis.keep_remote(session, author, [ap.raw], now)
        found.append((post, ap, next(links)))
    return found


async def apply_remote_edit(session: AsyncSession, post: Object, ap: APObject, now: datetime,
                            limits: FederationSettings) -> bool:
    """Keep the current version in the history and take the new one. False if nothing changed;
    PostRefused (nothing written) if the new version is over the limits."""
    ap = bound(ap, limits)
    post.quote_policy = ap.quote_policy  # who may quote it: no edit of its own
    author = await actor_queries.actor_by_id(session, post.actor_id)
    # an article's whole text may change where its post (title, summary, link) does not
    revised = author is not None and await remote_articles.revise(session, post, ap, author, now)
    if (post.content, post.summary, post.sensitive) == (
        sanitize_html(ap.content), plain_text(ap.summary), ap.sensitive
    ) and (post.attachments or []) == [a.as_dict() for a in ap.attachments]:
        if revised:
            post.updated = min(ap.updated or now, now)
            post.raw = ap.raw
        return revised
    await keep_version(session, post)
    _copy_content(post, ap)
    post.updated = min(ap.updated or now, now)
    post.raw = ap.raw
    await unlink_post(session, post.id)
    await _link(session, [(post, ap)])
    if author is not None:
        await emojis.keep_remote(session, author, [ap.raw], now)
    return True


async def keep_version(session: AsyncSession, item: Object) -> None:
    """Save the current version of a post (text, content warning, attachments) in its edit
    history; call it before the post changes."""
    add_edit(session, item)


def _copy_content(post: Object, ap: APObject) -> None:
    post.content = sanitize_html(ap.content)
    post.summary = plain_text(ap.summary)
    post.sensitive = ap.sensitive
    post.language = ap.language
    post.url = ap.url
    post.in_reply_to_uri = ap.in_reply_to
    post.attachments = [attachment.as_dict() for attachment in ap.attachments] or None
    post.quote_policy = ap.quote_policy


async def _link(session: AsyncSession, posts: list[tuple[Object, APObject]]) -> list[Links]:
    """Store new posts' mentions (of the actors we know) and hashtags; what was stored, for each."""
    known = await actor_queries.actors_by_uris(session, sorted({uri for _, ap in posts for uri in ap.mentions}))
    links = [Links([known[uri] for uri in dict.fromkeys(ap.mentions) if uri in known], list(ap.hashtags))
             for _, ap in posts]
    await link_posts(session, [(post.id, [actor.id for actor in link.mentions], link.tags)
                               for (post, _), link in zip(posts, links)])
    return links


async def claim_homes(session: AsyncSession, post: Object) -> bool:
    """True, once, for a post stored by fetch whose followers' homes have not had it yet: the
    caller adds it to them now. False for a post that already reached them."""
    return await post_queries.claim_homes(session, post.id)


async def mentioned_actors(session: AsyncSession, post: Object) -> list[Actor]:
    return await post_queries.mentioned_actors(session, post.id)


async def visible_thread(session: AsyncSession, post: Object, viewer: Actor | None
                         ) -> tuple[list[Object], list[Object]]:
    """(ancestors oldest first, descendants in reply order) of `post` that `viewer` may see."""
    ancestors, descendants = await session.run_sync(lambda sync: timeline_queries.thread(sync, post))
    return ([a for a in ancestors if await can_see(session, a, viewer)],
            [d for d in descendants if await can_see(session, d, viewer)])


async def visible_post(session: AsyncSession, post_id: str, viewer: Actor | None) -> Object | None:
    """The post with this id (as a client sends it) if `viewer` may see it; else None, as if it
    did not exist."""
    parsed = parse_id(post_id)
    return await _shown(session, await post_by_id(session, parsed), viewer) if parsed is not None else None


async def _shown(session: AsyncSession, post: Object | None, viewer: Actor | None) -> Object | None:
    """`post` if `viewer` may see it and it is not by a blocked peer (kept until an admin purges
    it, hidden meanwhile by id as the timelines hide it)."""
    if post is None or not await can_see(session, post, viewer):
        return None
    if not post.local and await on_blocked_peers(session, {post.actor_id}):
        return None
    return post


async def visible_status(session: AsyncSession, status_id: str, viewer: Actor | None
                         ) -> tuple[Object, Announce | None] | None:
    """(post, None) for a post's id, or (the boosted post, the boost) for a boost's id, as the
    client API names both (one id space); None if there is no such thing, or `viewer` may not see
    the post. A boost is seen by whoever may see what it boosts."""
    post = await visible_post(session, status_id, viewer)
    if post is not None or (boost_id := parse_id(status_id)) is None:
        return None if post is None else (post, None)
    boost = await announce_by_id(session, boost_id)
    if boost is None:
        return None
    post = await _shown(session, await post_by_id(session, boost.object_id), viewer)
    return (post, boost) if post is not None else None


def addressing(post: Object, author: Actor, mentions: list[Actor]) -> tuple[list[str], list[str]]:
    """(to, cc) of a local post, from its visibility and mentions."""
    mentioned = [actor.uri for actor in mentions]
    followers = author.followers_url
    if post.visibility is Visibility.public:
        return [PUBLIC], [followers, *mentioned]
    if post.visibility is Visibility.unlisted:
        return [followers], [PUBLIC, *mentioned]
    if post.visibility is Visibility.private:
        return [followers], mentioned
    return mentioned, []


async def post_to_ap(session: AsyncSession, post: Object, author: Actor, mentions: list[Actor], base_url: str,
                     now: datetime) -> dict[str, Any]:
    """A local post as peers store it, with its poll if it is a Question."""
    to, cc = addressing(post, author, mentions)
    document = note_to_ap(post, author, to, cc, mentions, await post_queries.tag_names(session, post.id), base_url)
    if post.type == "Question":
        document.update(await polls.question_fields(session, post, now))
    document.update(await quotes.note_fields(session, post, author))
    context = await context_of(session, post, mentions)  # a community's thread (FEP-7888)
    if context is not None:
        document["context"] = context
    document.update(await article_documents.post_fields(session, post, author, base_url))  # an article's
    # our emojis its texts use, as they go out: an article's whole body, a poll's options
    options = [option.get("name") for key in ("oneOf", "anyOf") for option in document.get(key) or []]
    document["tag"] += await emojis.tags_for(session, author, LocalUrls(base_url), document.get("content"),
                                             document.get("summary"), document.get("name"), *options)
    return document
