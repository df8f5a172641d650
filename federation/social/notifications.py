"""Notifications: what happened to a local actor, written in the transaction that made it happen,
with a stream event so a connected client hears of it at once, and a push for each of the
recipient's Web Push subscriptions that wants it (`federation.social.push`). Only local actors
are notified,
and never of their own doing (unless it is their poll that ended).

Two decisions are made as a notification is written:
- its group (`group_key`): favourites and boosts of one post, and follows, that arrive within
  the same `GROUP_HOURS` window of the clock share a key, so /api/v2/notifications shows them as
  one; every other notification is a group of its own;
- what the recipient's notification policy says of its sender (`verdict`): accept it, hold it
  back for the sender's notification request (written with `filtered`, with no stream event),
  or drop it (never written). The strictest answer of the rules that apply wins; a sender
  whose request was accepted is always let through, and polls and edits are never held.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from federation.social import push
from federation.social.events import StreamEvent, record
from storage import notifications as stored
from storage.models import (
    Actor,
    NotificationPolicy,
    NotificationType,
    Object,
    PolicyAction,
    RequestState,
    Visibility,
)
from storage.notifications import add_notification, local_boosters

GROUP_HOURS = 12
GROUPED = frozenset({NotificationType.favourite, NotificationType.reblog, NotificationType.follow})
GROUPED_TYPES = frozenset(kind.value for kind in GROUPED)
# never filtered nor dropped by the recipient's policy: what she took part in (a poll, a post she
# boosted), and what a moderator must answer, which comes from strangers by nature (a join
# request, an article awaiting her review)
NEVER_HELD = frozenset({NotificationType.poll, NotificationType.update, NotificationType.join_request,
                        NotificationType.article_review})
NEW_ACCOUNT = timedelta(days=30)
_SEVERITY = {PolicyAction.accept: 0, PolicyAction.filter: 1, PolicyAction.drop: 2}


def group_key(kind: NotificationType, item: Object | None, now: datetime) -> str | None:
    """The group a new notification joins (None: a group of its own)."""
    if kind not in GROUPED:
        return None
    window = int(now.timestamp()) // (GROUP_HOURS * 3600)
    return f"{kind.value}-{item.id}-{window}" if item is not None else f"{kind.value}-{window}"


async def verdict(session: AsyncSession, recipient: Actor, kind: NotificationType, sender: Actor,
                  item: Object | None, now: datetime) -> PolicyAction:
    """What the recipient's policy does with a notification from `sender`."""
    if kind in NEVER_HELD:
        return PolicyAction.accept
    rules = (await stored.policy_rules(session, recipient.id)
             or {name: policy_default(name) for name in NotificationPolicy.FIELDS})
    active = {name for name, action in rules.items() if action is not PolicyAction.accept}
    if not active or (active == {"for_limited_accounts"} and sender.local):  # the common cases: no query
        return PolicyAction.accept
    request = await stored.request_between(session, recipient.id, sender.id)
    if request is not None and request.state is RequestState.accepted:
        return PolicyAction.accept
    following, follower, limited = await stored.sender_facts(session, recipient.id, sender.id)
    applying = []
    if not following:
        applying.append(rules["for_not_following"])
    if not follower:
        applying.append(rules["for_not_followers"])
    if now - sender.published < NEW_ACCOUNT:
        applying.append(rules["for_new_accounts"])
    if limited:
        applying.append(rules["for_limited_accounts"])
    if (kind is NotificationType.mention and item is not None and item.visibility is Visibility.direct
            and not following and not await _answers(session, item, recipient)):
        applying.append(rules["for_private_mentions"])
    return max(applying, key=_SEVERITY.__getitem__, default=PolicyAction.accept)


def policy_default(name: str) -> PolicyAction:
    """A rule's value for a practitioner who never set her policy (the column's default)."""
    return PolicyAction(NotificationPolicy.__table__.c[name].server_default.arg)


async def _answers(session: AsyncSession, item: Object, recipient: Actor) -> bool:
    """`item` replies to a post of the recipient's (a private conversation she started)."""
    return item.in_reply_to_uri is not None and await stored.author_of_uri(session, item.in_reply_to_uri) == recipient.id


async def notify(
    session: AsyncSession, recipient: Actor, kind: NotificationType, sender: Actor,
    item: Object | None, now: datetime, *, to_self: bool = False,
) -> None:
    """Notify a local recipient; never of their own doing, unless `to_self` (their poll ended)."""
    if not recipient.local or (not to_self and recipient.id == sender.id):
        return
    action = PolicyAction.accept if to_self else await verdict(session, recipient, kind, sender, item, now)
    if action is PolicyAction.drop:
        return
    held = action is PolicyAction.filter
    row = await add_notification(session, recipient.id, kind, sender.id, item.id if item is not None else None,
                                 now, group_key=group_key(kind, item, now), filtered=held)
    if held:
        await stored.hold_for_request(session, recipient.id, sender.id, now)
    else:
        record(session, StreamEvent((f"user:{recipient.id}", f"user:notification:{recipient.id}"),
                                    "notification", "notification", row.id))
        await push.queue_for(session, recipient, row, sender)


async def notify_edit(session: AsyncSession, item: Object, author: Actor, now: datetime) -> None:
    """Tell the local actors who boosted `item` that it was edited (Mastodon's `update`)."""
    for booster in await local_boosters(session, item.id):
        await notify(session, booster, NotificationType.update, author, item, now)


async def notify_mentions(session: AsyncSession, item: Object, author: Actor, mentioned: list[Actor], now: datetime) -> None:
    for actor in mentioned:
        await notify(session, actor, NotificationType.mention, author, item, now)
