"""What a community's moderators do: answer joins, remove or ban members. Each action is audited
in the caller's transaction as `moderator:<uri>`; a member's own server hears of a removal as a
Reject of their follow of the group (FEP-1b12 has no other word for it).

Who moderates: the community's moderators, and the instance's own admins and moderators, who
answer for everything the instance hosts.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from federation.admin.audit import audit
from federation.communities import threads
from federation.communities.groups import CommunityError
from federation.outbox import relations, sending
from federation.protocol.vocab.community import ban_to_ap, featured_change_to_ap, removal_to_ap
from federation.runtime.context import Federation
from federation.social.follows import follow_between
from storage import communities as queries
from storage.accounts_api import account_of
from federation.social.notifications import notify
from storage.interactions import add_pin, mark_of, remove_mark
from storage.models import Actor, FollowState, NotificationType, Object, Pin


class NotAModerator(CommunityError):
    """The actor does not moderate this community."""


async def may_moderate(session: AsyncSession, group: Actor, actor: Actor) -> bool:
    """Whether `actor` moderates `group`. No one elsewhere moderates an institution-only community,
    whatever they were before it became one."""
    if not actor.local and await queries.is_local_only_actor(session, group.id):
        return False
    if await queries.is_moderator(session, group.id, actor.id):
        return True
    account = await account_of(session, actor.id) if actor.local else None
    return account is not None and (account.is_admin or account.is_moderator)


async def moderated(session: AsyncSession, actor: Actor) -> list[int] | None:
    """The communities hosted here that a local `actor` moderates, as `may_moderate` says for each:
    their ids, or None for all of them (the instance's admins and moderators). For a remote actor,
    none: her moderation comes through the client API of her own server, not these pages."""
    if not actor.local:
        return []
    account = await account_of(session, actor.id)
    if account is not None and (account.is_admin or account.is_moderator):
        return None
    return await queries.moderated_by(session, actor.id)


async def check_moderator(session: AsyncSession, group: Actor, actor: Actor) -> None:
    if not await may_moderate(session, group, actor):
        raise NotAModerator(f"only a moderator of {group.username} may do this")


async def _audit(session: AsyncSession, moderator: Actor, action: str, group: Actor, member: Actor,
                 now: datetime, reason: str = "") -> None:
    await audit(session, by=f"moderator:{moderator.uri}", action=f"community.{action}", subject=group.uri,
                before=None, after={"member": member.uri}, reason=reason, at=now)


async def answer_join(fed: Federation, session: AsyncSession, group: Actor, applicant: Actor, moderator: Actor, *,
                      accept: bool) -> None:
    """Approve or refuse a pending join (CommunityError if there is none)."""
    await check_moderator(session, group, moderator)
    row = await follow_between(session, applicant, group)
    if row is None or row.state is not FollowState.pending:
        raise CommunityError(f"{applicant.username} has not asked to join {group.username}")
    await relations.answer_follow(fed, session, row, accept=accept)
    if accept:  # a member here hears of it at once (one elsewhere, from her server, on the Accept)
        await notify(session, applicant, NotificationType.join_approved, group, None, fed.clock.now())
    await _audit(session, moderator, "join.approve" if accept else "join.reject", group, applicant, fed.clock.now())


async def remove_member(fed: Federation, session: AsyncSession, group: Actor, member: Actor, moderator: Actor, *,
                        ban: bool, reason: str = "", received: dict[str, Any] | None = None) -> None:
    """End a membership (its follow becomes rejected, and a remote member's server is told); with
    `ban`, the member may not join again, and the group announces the moderator's Block to its
    members (`received`: the one a moderator elsewhere sent, as it came)."""
    await check_moderator(session, group, moderator)
    now = fed.clock.now()
    row = await follow_between(session, member, group)
    if row is not None and row.state in (FollowState.pending, FollowState.accepted):
        await relations.answer_follow(fed, session, row, accept=False)
    elif not ban:
        raise CommunityError(f"{member.username} is not a member of {group.username}")
    if ban:
        await queries.add_ban(session, group.id, member.id, now)
        block = received or ban_to_ap(sending.activity_uri(moderator, "Block"), moderator, member, group)
        await threads.announce_moderation(fed, session, group, block)
    await _audit(session, moderator, "member.ban" if ban else "member.remove", group, member, now, reason)


async def close_to_peers(fed: Federation, session: AsyncSession, group: Actor, *, by: str) -> tuple[int, int]:
    """What a federated community about to become institution-only does first, while it may
    still speak to other servers: each membership and join request elsewhere ends (its follow
    rejected, and the server told, as a removal by a moderator is), and each moderator
    elsewhere stops being one (the instance's admins and moderators still moderate it). Audited
    once; (memberships ended, moderators removed). Call it before the change (`groups.update`):
    once the community is institution-only, nothing it sends leaves the instance."""
    follows = await queries.memberships_elsewhere(session, group.id)
    for row, _ in follows:
        await relations.answer_follow(fed, session, row, accept=False)
    moderators = await queries.moderators_elsewhere(session, group.id)
    for moderator in moderators:
        await queries.remove_moderator(session, group.id, moderator.id)
    if follows or moderators:
        await audit(session, by=by, action="community.close_to_peers", subject=group.uri,
                    before={"members": [member.uri for _, member in follows],
                            "moderators": [m.uri for m in moderators]}, after=None, reason="", at=fed.clock.now())
    return len(follows), len(moderators)


async def remove_post(fed: Federation, session: AsyncSession, group: Actor, item: Object, moderator: Actor, *,
                      reason: str = "", received: dict[str, Any] | None = None) -> None:
    """Take a post out of the community (`threads.leave_community`) and tell every member's server,
    which does the same: the group announces the moderator's Delete of it (`received`: the one a
    moderator elsewhere sent, announced as it came)."""
    await check_moderator(session, group, moderator)
    now = fed.clock.now()
    if not await threads.leave_community(session, group, item, now):
        raise CommunityError(f"that post is not in {group.username}")
    removal = received or removal_to_ap(sending.activity_uri(moderator, "Delete"), moderator, item.uri, group)
    await threads.relay_activity(fed, session, item, removal, groups=[group])
    await audit(session, by=f"moderator:{moderator.uri}", action="community.post.remove", subject=group.uri,
                before={"post": item.uri}, after=None, reason=reason, at=now)


async def pin(fed: Federation, session: AsyncSession, group: Actor, item: Object, moderator: Actor, *,
              pinned: bool, received: dict[str, Any] | None = None) -> bool:
    """Pin a thread of the community (its members here are notified), or unpin it; False if it
    already was (or was not). Members' servers hear of it as the group's Announce of the
    moderator's Add to (or Remove from) its featured collection (`received`: the one a moderator
    elsewhere sent, announced as it came)."""
    await check_moderator(session, group, moderator)
    if pinned and group.id not in [g.id for g in await queries.groups_announcing(session, item.id)]:
        raise CommunityError(f"that post is not in {group.username}")
    existing = await mark_of(session, Pin, group.id, item.id)
    if (existing is not None) == pinned:
        return False
    now = fed.clock.now()
    if pinned:
        await add_pin(session, group.id, item.id)
        for member in await queries.local_members(session, group.id):
            await notify(session, member, NotificationType.status, group, item, now)
    else:
        await remove_mark(session, existing)
    change = received or featured_change_to_ap(sending.activity_uri(moderator, "Add" if pinned else "Remove"),
                                               moderator, item.uri, group, pinned=pinned)
    await threads.relay_activity(fed, session, item, change, groups=[group])
    await audit(session, by=f"moderator:{moderator.uri}", action="community.pin" if pinned else "community.unpin",
                subject=group.uri, before=None, after={"post": item.uri}, reason="", at=now)
    return True
