"""A user of ours who moderates a community on another server (FEP-1b12: she is in its
moderators collection, its `attributedTo`): what she does to it is sent to the community, which
decides and announces it to its members, ourselves among them.

- remove a post of one of its threads: a Delete of the post naming the community (`audience`),
  as Lemmy says it;
- pin or unpin a thread: an Add to (Remove from) its `featured` collection;
- ban a member: a Block with the community as `target`.

Whether she moderates it is asked of the community's own moderators collection, fetched from
its server before the transaction (`check_moderator`); nothing is sent if she is not listed.
Each action is audited here as well, as `moderator:<her uri>`.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from federation.admin.audit import audit
from federation.communities.groups import CommunityError
from federation.communities.moderation import NotAModerator
from federation.outbox import sending
from federation.protocol.fetch import FetchError
from federation.protocol.urls import authority
from federation.protocol.vocab.community import ban_to_ap, featured_change_to_ap, removal_to_ap
from federation.runtime.context import Federation
from storage import communities as queries
from storage.models import Actor, ActorType, Object

MAX_MODERATORS = 200  # a moderators collection longer than this is read this far


def is_elsewhere(actor: Actor) -> bool:
    """A community on another server (a Group actor we do not host)."""
    return actor.type is ActorType.Group and not actor.local and actor.deleted_at is None


def moderators_url(group: Actor) -> str | None:
    """The community's moderators collection, from its document: `attributedTo` (FEP-1b12) or
    Lemmy's `moderators`, on the community's own server."""
    raw = group.raw or {}
    for key in ("attributedTo", "moderators"):
        value = raw.get(key)
        if isinstance(value, str) and authority(value) == authority(group.uri):
            return value
    return None


async def moderators_of(fed: Federation, group: Actor) -> list[str]:
    """The ids in the community's moderators collection, as its server serves it now."""
    url = moderators_url(group)
    if url is None:
        raise CommunityError(f"{group.uri} names no moderators collection")
    try:
        _, document = await fed.fetcher.get_json(url)
    except FetchError as exc:
        raise CommunityError(f"cannot read the moderators of {group.uri}: {exc}") from exc
    items = document.get("orderedItems", document.get("items", []))
    ids = [item if isinstance(item, str) else item.get("id") if isinstance(item, dict) else None
           for item in (items if isinstance(items, list) else [])[:MAX_MODERATORS]]
    return [uri for uri in ids if isinstance(uri, str)]


async def check_moderator(fed: Federation, group: Actor, me: Actor) -> None:
    """NotAModerator unless the community lists `me` among its moderators (network)."""
    if me.uri not in await moderators_of(fed, group):
        raise NotAModerator(f"only a moderator of {group.username} may do this")


async def _in_threads(session: AsyncSession, group: Actor, item: Object) -> None:
    if group.id not in [g.id for g in await queries.groups_announcing(session, item.id)]:
        raise CommunityError(f"that post is not in {group.username}")


async def _send(fed: Federation, session: AsyncSession, me: Actor, group: Actor, document: dict, action: str,
                after: dict) -> None:
    await sending.send(fed, session, me, document, [group])
    await audit(session, by=f"moderator:{me.uri}", action=f"community.{action}", subject=group.uri, before=None,
                after=after, reason="", at=fed.clock.now())


async def remove_post(fed: Federation, session: AsyncSession, group: Actor, item: Object, me: Actor) -> None:
    await _in_threads(session, group, item)
    document = removal_to_ap(sending.activity_uri(me, "Delete"), me, item.uri, group)
    await _send(fed, session, me, group, document, "post.remove", {"post": item.uri})


async def pin(fed: Federation, session: AsyncSession, group: Actor, item: Object, me: Actor, *, pinned: bool) -> None:
    await _in_threads(session, group, item)
    if group.featured_url is None:
        raise CommunityError(f"{group.username} has no featured collection to pin to")
    document = featured_change_to_ap(sending.activity_uri(me, "Add" if pinned else "Remove"), me, item.uri, group,
                                     pinned=pinned)
    await _send(fed, session, me, group, document, "pin" if pinned else "unpin", {"post": item.uri})


async def ban(fed: Federation, session: AsyncSession, group: Actor, member: Actor, me: Actor) -> None:
    document = ban_to_ap(sending.activity_uri(me, "Block"), me, member, group)
    await _send(fed, session, me, group, document, "member.ban", {"member": member.uri})
