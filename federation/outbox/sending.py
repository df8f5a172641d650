"""An activity made here: its id, its row (the document as sent), and one delivery row per
target inbox of its audience (see audience.py), in the caller's transaction. The delivery worker
is woken once that transaction commits; nothing is sent before."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from federation.outbox.audience import target_inboxes
from federation.runtime.context import Federation
from federation.social.access import stays_home
from storage.db import after_commit
from storage.ids import new_id
from storage.local_activities import add_local_activity, queue_deliveries
from storage.models import Activity, Actor, Object
from storage.posts import post_by_id


def activity_uri(actor: Actor, kind: str) -> str:
    return f"{actor.uri}#{kind.lower()}s/{new_id()}"


async def record(
    fed: Federation, session: AsyncSession, actor: Actor, document: dict[str, Any], *,
    object_id: int | None = None, public: bool = False,
) -> Activity:
    return await add_local_activity(session, document, actor_id=actor.id, object_uri=object_uri(document),
                                    object_id=object_id, public=public, published=fed.clock.now())


def object_uri(document: dict[str, Any]) -> str | None:
    value = document.get("object")
    return value if isinstance(value, str) else value.get("id") if isinstance(value, dict) else None


async def deliver(
    fed: Federation, session: AsyncSession, activity: Activity, sender: Actor, recipients: Iterable[Actor],
    *, followers_of: Actor | None = None, about: Object | None = None,
) -> int:
    """One delivery row per target inbox of the audience (see audience.py); returns how many.
    `about` is the post the activity is about, read from the activity's object if not given.
    The delivery worker is woken once the transaction commits. Nothing from or to an
    institution-only community leaves the instance (`access.stays_home`)."""
    recipients = list(recipients)
    if await stays_home(session, sender, recipients):
        return 0
    if about is None and activity.object_id is not None:
        about = await post_by_id(session, activity.object_id)
    inboxes = await target_inboxes(session, fed.policy, recipients, followers_of=followers_of, about=about)
    await queue_deliveries(session, activity, sender.id, inboxes, fed.clock.now())
    if inboxes:
        after_commit(session, fed.wake.deliveries.set)
    return len(inboxes)


async def send(fed: Federation, session: AsyncSession, actor: Actor, document: dict[str, Any],
                recipients: list[Actor], *, followers_of: Actor | None = None, about: Object | None = None) -> int:
    """Record an activity (about the post `about`, if any: an Undo names only the activity it
    undoes) and queue it for its audience; how many deliveries were queued."""
    activity = await record(fed, session, actor, document)
    return await deliver(fed, session, activity, actor, recipients, followers_of=followers_of, about=about)
