"""Notifications as they are written and dismissed, which of them a listing shows (`Scope`,
`listed`), and the policy and requests that hold some back (the client API reads pages of
them through storage.timelines and storage.notification_groups)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import BigInteger, String, and_, bindparam, case, cast, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import core
from storage.coverage import blocked_author, limited_author
from storage.ids import new_id
from storage.models import (
    Actor,
    Announce,
    Follow,
    FollowState,
    Marker,
    Notification,
    NotificationPolicy,
    NotificationRequest,
    NotificationType,
    Object,
    PolicyAction,
    RequestState,
)

LARGEST_ID = (1 << 63) - 1


@dataclass(frozen=True)
class Scope:
    """Which of a recipient's notifications a listing shows: never dismissed ones, nor those of
    blocked peers; of the `types` (None: all) but the `exclude`d, from `account_id` only if
    given, and the policy's held-back ones only if `include_filtered`."""

    types: frozenset[str] | None = None
    exclude: frozenset[str] = field(default_factory=frozenset)
    account_id: int | None = None
    include_filtered: bool = False


def listed(recipient_id: int, scope: Scope):
    """SQL: the recipient's notifications `scope` shows."""
    conditions = [Notification.recipient_id == recipient_id, Notification.dismissed.is_(False),
                  ~blocked_author(Notification.from_actor_id)]
    if not scope.include_filtered:
        conditions.append(Notification.filtered.is_(False))
    if scope.types:
        conditions.append(Notification.type.in_(scope.types))
    if scope.exclude:
        conditions.append(Notification.type.not_in(scope.exclude))
    if scope.account_id is not None:
        conditions.append(Notification.from_actor_id == scope.account_id)
    return and_(*conditions)


def group_of(grouped_types: frozenset[str]):
    """SQL: the group a notification shows in when only `grouped_types` group (see
    `shown_group_key`): its group key, or its id alone (digits, which no group key is)."""
    return case((and_(Notification.group_key.is_not(None), Notification.type.in_(grouped_types)),
                 Notification.group_key), else_=cast(Notification.id, String))


def shown_group_key(row: Notification, grouped_types: frozenset[str]) -> str:
    """The group key a listing shows `row` under: its group's, if its type may group, else a
    group of its own, `ungrouped-{id}`."""
    if row.group_key is not None and row.type.value in grouped_types:
        return row.group_key
    return f"ungrouped-{row.id}"


_INSERT_NOTIFICATION = insert(Notification.__table__)


async def add_notification(session: AsyncSession, recipient_id: int, kind: NotificationType, sender_id: int,
                           object_id: int | None, now: datetime, *, group_key: str | None = None,
                           filtered: bool = False) -> Notification:
    """Write a notification, at once, as a Core row (the unit of work's flush of one object cost
    more than twice as much). The Notification returned says what was written; it is not in the
    session."""
    values = {"id": new_id(), "recipient_id": recipient_id, "type": kind, "from_actor_id": sender_id,
              "object_id": object_id, "created_at": now, "dismissed": False, "group_key": group_key,
              "filtered": filtered}
    await core.execute(session, _INSERT_NOTIFICATION, values)
    return Notification(**values)


_LOCAL_BOOSTERS = select(Actor).where(Actor.local.is_(True), Actor.id.in_(
    select(Announce.actor_id).where(Announce.object_id == bindparam("object_id", type_=BigInteger))))


async def local_boosters(session: AsyncSession, object_id: int) -> list[Actor]:
    """The local actors who boosted a post (asked for every edit the inbox worker handles)."""
    return list(await session.scalars(_LOCAL_BOOSTERS, {"object_id": object_id}))


async def notification_by_id(session: AsyncSession, notification_id: int) -> Notification | None:
    return await session.get(Notification, notification_id)


async def dismiss_all(session: AsyncSession, recipient_id: int) -> None:
    await session.execute(update(Notification).where(Notification.recipient_id == recipient_id).values(dismissed=True))


async def count_unread(session: AsyncSession, recipient_id: int, *, cap: int, scope: Scope = Scope(),
                       grouped_types: frozenset[str] | None = None) -> int:
    """How many of the recipient's notifications `scope` shows are newer than the
    `notifications` marker, counted up to `cap`; with `grouped_types`, how many groups they
    make (of the newest `UNREAD_SCAN` of them)."""
    marker = await session.scalar(select(Marker.last_read_id).where(
        Marker.actor_id == recipient_id, Marker.timeline == "notifications"))
    read = min(int(marker), LARGEST_ID) if marker and marker.isdigit() else 0
    unread = and_(listed(recipient_id, scope), Notification.id > read)
    if grouped_types is None:
        newer = select(Notification.id).where(unread).limit(cap).subquery()
        return await session.scalar(select(func.count()).select_from(newer)) or 0
    groups = (select(group_of(grouped_types).label("group")).where(unread)
              .order_by(Notification.id.desc()).limit(UNREAD_SCAN).subquery())
    return min(cap, await session.scalar(select(func.count(func.distinct(groups.c.group)))) or 0)


UNREAD_SCAN = 10_000


async def dismiss_group(session: AsyncSession, recipient_id: int, group_key: str) -> int:
    """Dismiss the recipient's notifications of a group (`ungrouped-{id}`: that one); how many."""
    if group_key.startswith("ungrouped-"):
        number = group_key.removeprefix("ungrouped-")
        if not number.isdigit() or len(number) > 19:
            return 0
        which = Notification.id == int(number)
    else:
        which = Notification.group_key == group_key
    result = await session.execute(update(Notification).where(
        Notification.recipient_id == recipient_id, which).values(dismissed=True))
    return result.rowcount or 0


# --- the policy, and the requests gathering what it held back ------------------------------------

async def policy_of(session: AsyncSession, actor_id: int) -> NotificationPolicy | None:
    return await session.get(NotificationPolicy, actor_id)


# built once: asked for every notification written
_POLICY_RULES = select(*(getattr(NotificationPolicy, name) for name in NotificationPolicy.FIELDS)).where(
    NotificationPolicy.actor_id == bindparam("actor_id", type_=BigInteger))


async def policy_rules(session: AsyncSession, actor_id: int) -> dict[str, PolicyAction] | None:
    """The rules of the actor's policy (NotificationPolicy.FIELDS), without loading its row; None
    if she never set one."""
    rows = await core.rows(session, _POLICY_RULES, {"actor_id": actor_id})
    return dict(zip(NotificationPolicy.FIELDS, rows[0])) if rows else None


def _sender_facts():
    recipient_id = bindparam("recipient_id", type_=BigInteger)
    sender_id = bindparam("sender_id", type_=BigInteger)
    follows = select(Follow.id).where(Follow.state == FollowState.accepted)
    return select(follows.where(Follow.follower_id == recipient_id, Follow.followee_id == sender_id).exists(),
                  follows.where(Follow.follower_id == sender_id, Follow.followee_id == recipient_id).exists(),
                  limited_author(sender_id))


# built once, as the two below: a policy that holds some notifications back asks them for each one
_SENDER_FACTS = _sender_facts()
_REQUEST_BETWEEN = select(NotificationRequest).where(
    NotificationRequest.recipient_id == bindparam("recipient_id", type_=BigInteger),
    NotificationRequest.from_actor_id == bindparam("sender_id", type_=BigInteger))
_AUTHOR_OF_URI = select(Object.actor_id).where(Object.uri == bindparam("uri"))


async def sender_facts(session: AsyncSession, recipient_id: int, sender_id: int) -> tuple[bool, bool, bool]:
    """(the recipient follows the sender, the sender follows the recipient, the sender is on a
    limited peer), in one query."""
    row = (await session.execute(_SENDER_FACTS, {"recipient_id": recipient_id, "sender_id": sender_id})).one()
    return bool(row[0]), bool(row[1]), bool(row[2])


async def author_of_uri(session: AsyncSession, uri: str) -> int | None:
    return await session.scalar(_AUTHOR_OF_URI, {"uri": uri})


async def request_between(session: AsyncSession, recipient_id: int, sender_id: int) -> NotificationRequest | None:
    return await session.scalar(_REQUEST_BETWEEN, {"recipient_id": recipient_id, "sender_id": sender_id})


async def hold_for_request(session: AsyncSession, recipient_id: int, sender_id: int, now: datetime) -> None:
    """Note a held-back notification on the sender's request, opening one if there is none (a
    dismissed request stays dismissed)."""
    request = await request_between(session, recipient_id, sender_id)
    if request is None:
        session.add(NotificationRequest(recipient_id=recipient_id, from_actor_id=sender_id,
                                        state=RequestState.pending, created_at=now, updated_at=now))
    else:
        request.updated_at = now


async def release_held(session: AsyncSession, recipient_id: int, sender_id: int) -> None:
    """Let the sender's held-back notifications through (an accepted request)."""
    await session.execute(update(Notification).where(
        Notification.recipient_id == recipient_id, Notification.from_actor_id == sender_id,
        Notification.filtered.is_(True)).values(filtered=False))
