"""Polls. For reading: the polls of many posts in one query, for the client API's Status
entities: each poll with its options in order and the options the viewer chose. Built once, at
import, with an expanding `ids` parameter, like storage.statuses; synchronous, so it runs inside a
rendering's read. For writing (below): polls, options and votes, asynchronous, in the caller's
transaction."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import BigInteger, bindparam, delete, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from storage.db import core_rows
from storage.models import Actor, Poll, PollOption, PollVote


class PollView(NamedTuple):
    multiple: bool
    hide_totals: bool
    expires_at: datetime | None
    voters_count: int | None
    options: list[tuple[str, int]]  # (title, votes), in order
    own_votes: list[int]  # the viewer's choices


_IDS = bindparam("ids", expanding=True)
_VIEWER = bindparam("viewer", type_=BigInteger)  # None: nobody, so nothing is chosen
_POLLS = select(
    Poll.object_id, Poll.multiple, Poll.hide_totals, Poll.expires_at, Poll.voters_count,
    PollOption.position, PollOption.title, PollOption.votes_count,
    exists().where(PollVote.object_id == Poll.object_id, PollVote.actor_id == _VIEWER,
                   PollVote.choice == PollOption.position),
).join(PollOption, PollOption.object_id == Poll.object_id).where(Poll.object_id.in_(_IDS)).order_by(
    Poll.object_id, PollOption.position)


def polls_of(session: Session, viewer_id: int | None, ids: Iterable[int]) -> dict[int, PollView]:
    """The poll of each post that has one, keyed by the post's id."""
    ids = list(set(ids))
    found: dict[int, PollView] = {}
    if not ids:
        return found
    for object_id, multiple, hide_totals, expires_at, voters, position, title, votes, chosen in core_rows(
            session, _POLLS, {"ids": ids, "viewer": viewer_id}):
        view = found.setdefault(object_id, PollView(multiple, hide_totals, expires_at, voters, [], []))
        view.options.append((title, votes))
        if chosen:
            view.own_votes.append(position)
    return found


# --- writing: polls, options and votes as the domain changes them ------------------------------

async def poll_of(session: AsyncSession, object_id: int) -> Poll | None:
    return await session.get(Poll, object_id)


async def add_poll(session: AsyncSession, poll: Poll, titles: Iterable[str] = ()) -> Poll:
    """Store a new poll (flushed) and, if `titles` are given, its options in order."""
    session.add(poll)
    await session.flush()
    if titles:
        await add_options(session, poll.object_id, titles)
    return poll


async def add_options(session: AsyncSession, object_id: int, titles: Iterable[str]) -> list[PollOption]:
    """A poll's options, in order, with no votes yet."""
    options = [PollOption(object_id=object_id, position=n, title=title, votes_count=0)
               for n, title in enumerate(titles)]
    session.add_all(options)
    await session.flush()
    return options


async def remove_options(session: AsyncSession, object_id: int) -> None:
    """Forget a poll's options and every vote on them (a remote poll whose options changed)."""
    await session.execute(delete(PollVote).where(PollVote.object_id == object_id))
    await session.execute(delete(PollOption).where(PollOption.object_id == object_id))


async def options_of(session: AsyncSession, object_id: int) -> list[PollOption]:
    return list(await session.scalars(
        select(PollOption).where(PollOption.object_id == object_id).order_by(PollOption.position)))


async def choices_of(session: AsyncSession, object_id: int, voter_id: int) -> set[int]:
    """The options one voter chose on a poll (empty if they have not voted)."""
    return set(await session.scalars(
        select(PollVote.choice).where(PollVote.object_id == object_id, PollVote.actor_id == voter_id)))


async def vote_counted(session: AsyncSession, uri: str) -> bool:
    return await session.scalar(select(PollVote.id).where(PollVote.uri == uri)) is not None


async def add_votes(session: AsyncSession, object_id: int, voter_id: int, choices: list[int],
                    uris: list[str | None], now: datetime, *, first: bool) -> list[PollVote]:
    """One voter's new votes, and the counts they add to: each chosen option's, and the poll's
    voters if these are the voter's `first` (a poll that does not count voters stays uncounted)."""
    rows = [PollVote(object_id=object_id, actor_id=voter_id, choice=choice, uri=uri, created_at=now)
            for choice, uri in zip(choices, uris)]
    session.add_all(rows)
    await session.flush()
    await session.execute(update(PollOption).where(PollOption.object_id == object_id,
                                                   PollOption.position.in_(choices))
                          .values(votes_count=PollOption.votes_count + 1))
    if first:
        await session.execute(update(Poll).where(Poll.object_id == object_id, Poll.voters_count.is_not(None))
                              .values(voters_count=Poll.voters_count + 1))
    return rows


async def ended_unhandled(session: AsyncSession, now: datetime, limit: int, *, skip_locked: bool) -> list[Poll]:
    """Polls that have ended by `now` and whose end is not handled yet, the earliest first."""
    query = select(Poll).where(Poll.ended_at.is_(None), Poll.expires_at <= now).order_by(Poll.expires_at)
    return await _claim(session, query, limit, skip_locked)


async def updates_due(session: AsyncSession, now: datetime, limit: int, *, skip_locked: bool) -> list[Poll]:
    """Local polls whose new counts are due to go out, the longest due first."""
    return await _claim(session, select(Poll).where(Poll.update_due_at <= now).order_by(Poll.update_due_at),
                        limit, skip_locked)


async def _claim(session: AsyncSession, query, limit: int, skip_locked: bool) -> list[Poll]:
    """`skip_locked` (PostgreSQL): rows another worker holds are skipped, so no poll is handled twice."""
    if skip_locked:
        query = query.with_for_update(skip_locked=True)
    return list(await session.scalars(query.limit(limit)))


async def local_voters(session: AsyncSession, object_id: int) -> list[Actor]:
    return list(await session.scalars(select(Actor).where(
        Actor.local.is_(True), Actor.id.in_(select(PollVote.actor_id).where(PollVote.object_id == object_id)))))
