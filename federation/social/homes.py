"""A new post, written here or arrived from a peer, joins the home timelines it belongs in: one
`home_feed` row per local home (see federation.social.feeds) and an `update` stream event, so
open timelines show it at once. Edits and deletes only send stream events (streams.record_post)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from federation.social import feeds
from federation.social.events import StreamEvent, record
from federation.social.streams import post_homes, post_streams
from storage.models import Actor, Object


async def add_post_to_homes(session: AsyncSession, post: Object, author: Actor) -> None:
    """Write the post's home-feed rows and queue its `update` stream event."""
    homes = await post_homes(session, post, author)
    await feeds.add(session, homes, post.id, author.id)
    record(session, StreamEvent(await post_streams(session, post, author, homes), "update", "status", post.id))
