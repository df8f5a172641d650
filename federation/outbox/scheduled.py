"""Scheduled posts (Mastodon's scheduled statuses): a post asked for later is checked as a post is
(the post it answers or quotes one she may see, its uploads hers and free), kept with its draft
and its uploads (which no other post may take meanwhile, and the media sweep leaves alone), and
published when its time comes by the workers (`run_once`), as if she posted it then. Until then
its time may move, or it may be cancelled; her app's Idempotency-Key gives a retried request the
scheduled post it made. At most MAX_WAITING wait for one author, MAX_A_DAY on one UTC day.

Exactly once: a worker claims a due post for CLAIM (a lease, so a worker that died leaves it to
another), and the post's own transaction deletes its row, if it is still due (not cancelled nor
moved meanwhile), before anything is posted: the post and the row's end commit together, or
neither does. A post that can no longer be published (the post it answers is gone, its author
was disabled or deleted) is dropped, and logged; one that fails otherwise is tried again when
its claim lapses, for a day, then dropped.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, fields
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from federation.outbox import drafts
from federation.outbox.actions import NoSuchPost, OutboxError
from federation.runtime.context import Federation
from federation.social import media
from federation.social.compose import Draft
from federation.social.polls import NewPoll
from federation.social.posts import visible_post
from storage import scheduled as queries
from storage.actors import actor_by_id
from storage.ids import new_id
from storage.models import Actor, ScheduledStatus, Visibility

log = logging.getLogger(__name__)

MIN_AHEAD = timedelta(minutes=5)  # as on Mastodon: sooner is a post, not a schedule
MAX_WAITING, MAX_A_DAY = 300, 25  # as on Mastodon
CLAIM = timedelta(minutes=5)
GIVE_UP = timedelta(days=1)  # a post failing past this long after its time is dropped
BATCH = 5
DRAFT_VERSION = 1


class ScheduleError(Exception):
    """A schedule refused; one line, nothing written."""


def draft_to_json(draft: Draft) -> dict[str, Any]:
    return {**asdict(draft), "visibility": draft.visibility.value, "version": DRAFT_VERSION}


def draft_from_json(data: dict[str, Any]) -> Draft:
    """The Draft kept by `draft_to_json`; ValueError if it was kept in another shape (it is not
    guessed at: a field read wrong could publish an institution-only post to peers)."""
    values = {name: value for name, value in data.items() if name != "version"}
    if data.get("version") != DRAFT_VERSION or set(values) != {field.name for field in fields(Draft)}:
        raise ValueError(f"a draft kept in another shape (version {data.get('version')!r})")
    values["visibility"] = Visibility(values["visibility"])
    values["media_ids"] = tuple(values["media_ids"])
    values["media_edits"] = tuple(values["media_edits"])
    if values["poll"] is not None:
        poll = values["poll"]
        values["poll"] = NewPoll(tuple(poll["options"]), poll["expires_in"], poll["multiple"], poll["hide_totals"])
    return Draft(**values)


def _check_time(at: datetime, now: datetime) -> None:
    if at < now + MIN_AHEAD:
        raise ScheduleError("The scheduled date must be at least 5 minutes in the future")


async def schedule(session: AsyncSession, author: Actor, draft: Draft, at: datetime, now: datetime,
                   idempotency_key: str = "") -> ScheduledStatus:
    """Keep `draft` (its parameters already checked as a new post's) to publish at `at`. The
    same key from the same author gives the scheduled post it made. NoSuchPost if the post it
    answers or quotes is not one she may see."""
    if idempotency_key and (earlier := await queries.scheduled_by_key(session, author.id, idempotency_key)):
        return earlier
    _check_time(at, now)
    total, that_day = await queries.counts(session, author.id, at)
    if total >= MAX_WAITING or that_day >= MAX_A_DAY:
        raise ScheduleError(f"at most {MAX_WAITING} scheduled posts, {MAX_A_DAY} on one day")
    for post_id in (draft.in_reply_to_id, draft.quoted_status_id):
        if post_id and await visible_post(session, post_id, author) is None:
            raise NoSuchPost(post_id)
    try:
        uploads = await media.attachable(session, author, draft.media_ids, None)
    except media.InvalidMedia as exc:
        raise ScheduleError(str(exc)) from exc
    row = ScheduledStatus(id=new_id(), actor_id=author.id, scheduled_at=at, draft=draft_to_json(draft),
                          idempotency_key=idempotency_key or None, created_at=now)
    session.add(row)
    await session.flush()
    await queries.hold_media(session, row.id, uploads)
    return row


def reschedule(row: ScheduledStatus, at: datetime, now: datetime) -> None:
    """Move it (a worker publishing it meanwhile finds it no longer due, and leaves it)."""
    _check_time(at, now)
    row.scheduled_at = at


async def cancel(session: AsyncSession, row: ScheduledStatus) -> None:
    """Forget it; its uploads are free again (a worker publishing it meanwhile finds it gone)."""
    await queries.forget(session, row.id)


async def run_once(fed: Federation, limit: int = BATCH) -> int:
    """Publish up to `limit` scheduled posts that are due; how many were taken."""
    now = fed.clock.now()
    async with fed.transaction() as session:
        due = await queries.claim_due(session, now, now + CLAIM, limit, skip_locked=not fed.db.is_sqlite)
        taken = [(row.id, row.actor_id, row.draft, row.scheduled_at) for row in due]
    for row_id, actor_id, data, at in taken:
        await _publish(fed, row_id, actor_id, data, at)
    return len(taken)


async def _publish(fed: Federation, row_id: int, actor_id: int, data: dict[str, Any], at: datetime) -> None:
    """Publish one claimed post: its row ends in the post's transaction (`drafts.publish`'s
    `first`), or it is dropped, or (a failure of another kind) left for its claim to lapse."""
    now = fed.clock.now()

    async def first(session: AsyncSession) -> bool:
        """Still due (not cancelled nor moved), and its author may still post (not disabled)."""
        if not await queries.take(session, row_id, now):
            return False
        if await queries.live_author(session, actor_id) is None:
            raise OutboxError("its author is disabled or gone")
        return True

    async with fed.db.sessions() as session:
        author = await actor_by_id(session, actor_id)
    try:
        if author is None:
            raise OutboxError("its author is gone")
        post = await drafts.publish(fed, author, draft_from_json(data), first=first)
    except drafts.Withdrawn:
        log.info("scheduled post %d was cancelled or moved as it came due", row_id)
    except (OutboxError, ValueError) as exc:
        log.warning("scheduled post %d could not be published, dropped: %s", row_id, exc)
        await _drop(fed, row_id)
    except Exception:
        log.exception("scheduled post %d failed; it is tried again when its claim lapses", row_id)
        if now > at + GIVE_UP:
            log.warning("scheduled post %d dropped: it has failed for %s", row_id, GIVE_UP)
            await _drop(fed, row_id)
    else:
        log.info("scheduled post %d of %s published as %s", row_id, author.username, post.uri)


async def _drop(fed: Federation, row_id: int) -> None:
    async with fed.transaction() as session:
        await queries.forget(session, row_id)
