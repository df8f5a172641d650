"""Who receives an activity sent from here.

An activity goes to the remote actors it names (those a post mentions or answers, the one
followed, liked or blocked) and, for every post but a direct one, to its author's followers. Each
server gets it once per inbox, its shared inbox where it has one; a peer the policy refuses gets
nothing. Local recipients are never in an audience: their rows (feed, notification, follow) are
written directly, in the same transaction.

Nothing about an institution-only (`local_only`) post ever leaves the instance: its Create,
Update and Delete, a like, a boost or a vote on it, a boost's Undo. Its audience is empty,
whatever it names.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from federation.peers.policy import Policy
from federation.protocol.urls import authority
from federation.social.follows import remote_followers
from storage.models import Actor, Object, Visibility


async def target_inboxes(session: AsyncSession, policy: Policy, recipients: Iterable[Actor], *,
                         followers_of: Actor | None = None, about: Object | None = None) -> dict[str, str]:
    """Each inbox to deliver to, once, with its peer: the remote recipients' and, if
    `followers_of` is given, that actor's remote followers', minus the peers the policy refuses;
    none at all when the activity is `about` an institution-only post."""
    if about is not None and about.local_only:
        return {}
    remote = [actor for actor in recipients if not actor.local and actor.deleted_at is None]
    if followers_of is not None:
        remote += await remote_followers(session, followers_of)
    inboxes: dict[str, str] = {}
    for actor in remote:
        inbox = actor.shared_inbox or actor.inbox
        peer = authority(inbox)
        if policy.allows(peer):
            inboxes.setdefault(inbox, peer)
    return inboxes


def followers_hearing_of(item: Object, author: Actor) -> Actor | None:
    """Whose followers hear of a post (its Create, Update or Delete): the author's, unless the
    post is direct, which reaches only whom it mentions."""
    return author if item.visibility is not Visibility.direct else None
