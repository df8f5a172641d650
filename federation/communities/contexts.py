"""Which context a post is in (FEP-7888): a community owns its threads' contexts.

A thread of a community hosted here has the context `{group}/context/{root id}`
(`vocab.community.context_url`), served by `server.activitypub.collections.get_context`,
listing the posts the community announced. A post made here names it in its `context`; a post
in a thread of a community elsewhere copies the context its thread already carries (FEP-7888:
"you MAY copy the context"). The community's Announces name it too, because a member's post is
written before the community has seen it (a thread's first post cannot know its context: the
community makes it on announcing). Reading a thread back from its context is `backfill`'s.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from federation.protocol.vocab.community import context_url
from storage import communities as queries
from storage import community_threads as thread_queries
from storage.models import Actor, ActorType, Object
from storage.posts import stored_thread


async def context_of(session: AsyncSession, item: Object, mentions: list[Actor]) -> str | None:
    """The context a post made here names: its thread's in a community hosted here (a new
    thread's if it is addressed to one), else the one its thread carries from elsewhere; None
    for a post in no community's thread."""
    chain = await stored_thread(session, item.uri, 40) if item.in_reply_to_uri else []
    root = chain[-1] if chain else item
    if root.id == item.id:
        for actor in mentions:
            if actor.local and actor.type is ActorType.Group and await queries.community_of(session, actor.id):
                return context_url(actor, item.id)
        return None
    for group in await queries.groups_announcing(session, root.id):
        if group.local:
            return context_url(group, root.id)
    for post in chain[1:]:
        copied = (post.raw or {}).get("context") if not post.local else None
        if isinstance(copied, str) and copied.startswith(("https://", "http://")):
            return copied
    return None


async def thread_context(session: AsyncSession, group: Actor, item: Object) -> str:
    """The context of the thread of a community hosted here that `item` is in (or starts)."""
    return context_url(group, (await thread_queries.thread_root(session, item)).id)
