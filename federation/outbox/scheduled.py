"""Scheduled posts (Mastodon's scheduled statuses): a post asked for later is checked as a post is
(its uploads hers and free), kept with its draft, and published when its time comes by the
workers (`run_once`), as if she posted it then. Until then its time may move, or it may be
cancelled (its uploads are then free again, and swept a day later if unused).

Exactly once: a worker claims a due post for CLAIM (a lease, so a worker that died leaves it to
another) and publishes it with an Idempotency-Key of its own (`scheduled:ID`), so that a worker
that died after publishing it and before deleting its row leaves its successor the same post,
not a second one. A post that can no longer be published (the post it answers is gone, an
upload went to another post, its author was disabled or deleted) is dropped, and logged.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, fields
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from federation.outbox import drafts
from federation.outbox.actions import OutboxError
from federation.runtime.context import Federation
from federation.social import media
from federation.social.compose import Draft
from federation.social.polls import NewPoll
from storage import scheduled as queries
from storage.ids import new_id
from storage.models import Actor, ScheduledStatus, Visibility

log = logging.getLogger(__name__)

MIN_AHEAD = timedelta(minutes=5)  # as on Mastodon: sooner is a post, not a schedule
CLAIM = timedelta(minutes=5)
BATCH = 20


class ScheduleError(Exception):
    """A schedule refused; one line, nothing written."""


def draft_to_json(draft: Draft) -> dict[str, Any]:
    data = asdict(draft)
    data["visibility"] = draft.visibility.value
    return data


def draft_from_json(data: dict[str, Any]) -> Draft:
    known = {field.name for field in fields(Draft)}
    values = {name: value for name, value in data.items() if name in known}
    values["visibility"] = Visibility(values.get("visibility", "public"))
    values["media_ids"] = tuple(values.get("media_ids") or ())
    if values.get("poll") is not None:
        poll = values["poll"]
        values["poll"] = NewPoll(tuple(poll["options"]), poll["expires_in"], poll["multiple"], poll["hide_totals"])
    return Draft(**values)


def _check_time(at: datetime, now: datetime) -> None:
    if at < now + MIN_AHEAD:
        raise ScheduleError("The scheduled date must be at least 5 minutes in the future")


async def schedule(session: AsyncSession, author: Actor, draft: Draft, at: datetime, now: datetime) -> ScheduledStatus:
    """Keep `draft` (already checked as a new post's parameters are) to publish at `at`."""
    _check_time(at, now)
    try:
        uploads = await media.attachable(session, author, draft.media_ids, None)
    except media.InvalidMedia as exc:
        raise ScheduleError(str(exc)) from exc
    row = ScheduledStatus(id=new_id(), actor_id=author.id, scheduled_at=at, draft=draft_to_json(draft),
                          media_ids=[upload.id for upload in uploads], created_at=now)
    session.add(row)
    await session.flush()
    return row


def reschedule(row: ScheduledStatus, at: datetime, now: datetime) -> None:
    _check_time(at, now)
    row.scheduled_at = at


async def run_once(fed: Federation, limit: int = BATCH) -> int:
    """Publish up to `limit` scheduled posts that are due; how many were taken."""
    now = fed.clock.now()
    async with fed.transaction() as session:
        due = await queries.claim_due(session, now, now + CLAIM, limit, skip_locked=not fed.db.is_sqlite)
        taken = [(row.id, row.actor_id, row.draft) for row in due]
    for row_id, actor_id, data in taken:
        await _publish(fed, row_id, actor_id, data)
    return len(taken)


async def _publish(fed: Federation, row_id: int, actor_id: int, data: dict[str, Any]) -> None:
    """Publish one claimed post, then forget it; dropped if it cannot be published. Whatever
    else fails (the database) leaves it claimed: it is tried again once the claim lapses."""
    async with fed.db.sessions() as session:
        author = await queries.live_author(session, actor_id)
    if author is None:
        log.warning("scheduled post %d dropped: its author is disabled or gone", row_id)
    else:
        try:
            post = await drafts.publish(fed, author, draft_from_json(data), idempotency_key=f"scheduled:{row_id}")
        except OutboxError as exc:
            log.warning("scheduled post %d of %s could not be published, dropped: %s", row_id, author.username, exc)
        else:
            log.info("scheduled post %d of %s published as %s", row_id, author.username, post.uri)
    async with fed.transaction() as session:
        await queries.forget(session, row_id)
