"""Polls: the rules for making one and voting on it, and the counts, for local polls and remote
Questions alike.

A poll is a post of type Question plus a `polls` row with its options and votes. A vote is a row
unique per voter and option, so a repeated or redelivered vote counts once, and each new vote
increments the counts. A local poll's counts are the truth: once they change, an
Update(Question) is due to its audience `UPDATE_DELAY` later, so a burst of votes goes out as
one update (the poll worker sends it). A remote poll's counts are whatever its author's server
last said; a local vote on it counts at once and the next Update(Question) corrects it.

Remote documents are read here from the raw JSON of the stored Question and of incoming votes:
Mastodon and GoToSocial vote with a Note that has a `name` and no content, Akkoma with an Answer.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from federation.protocol.urls import authority
from federation.protocol.vocab.polls import APQuestion, APVote
from federation.protocol.vocab.render import question_to_ap
from federation.social.access import can_see
from storage import polls as queries
from storage.models import Actor, Object, Poll, PollOption, PollVote
from storage.polls import PollView
from storage.posts import local_post_by_uri

UPDATE_DELAY = timedelta(seconds=30)


class PollError(Exception):
    """The poll or the vote is refused; one line (a 422 for a client, an ignored activity for a peer)."""


@dataclass(frozen=True)
class PollLimits:
    """What a new local poll may be; /api/v2/instance advertises exactly these."""

    max_options: int = 4
    max_characters_per_option: int = 50
    min_expiration: int = 300  # seconds
    max_expiration: int = 2_629_746  # a month

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


LIMITS = PollLimits()


@dataclass(frozen=True)
class NewPoll:
    options: tuple[str, ...]
    expires_in: int
    multiple: bool
    hide_totals: bool


def new_poll(options: list[str], expires_in: int, *, multiple: bool, hide_totals: bool,
             limits: PollLimits = LIMITS) -> NewPoll:
    titles = tuple(option.strip() for option in options)
    if not 2 <= len(titles) <= limits.max_options:
        raise PollError(f"a poll needs 2 to {limits.max_options} options")
    if any(not title for title in titles):
        raise PollError("poll options can't be blank")
    if any(len(title) > limits.max_characters_per_option for title in titles):
        raise PollError(f"poll options are limited to {limits.max_characters_per_option} characters")
    if len(set(titles)) != len(titles):
        raise PollError("poll options must differ")
    if not limits.min_expiration <= expires_in <= limits.max_expiration:
        raise PollError(f"a poll lasts {limits.min_expiration} to {limits.max_expiration} seconds")
    return NewPoll(titles, expires_in, multiple, hide_totals)


async def add_local(session: AsyncSession, item: Object, spec: NewPoll, now: datetime) -> Poll:
    return await queries.add_poll(session, Poll(object_id=item.id, multiple=spec.multiple, hide_totals=spec.hide_totals,
                                                expires_at=now + timedelta(seconds=spec.expires_in), voters_count=0),
                                  spec.options)


async def options_of(session: AsyncSession, poll: Poll) -> list[PollOption]:
    return await queries.options_of(session, poll.object_id)


def expired(poll: Poll | PollView, now: datetime) -> bool:
    """Whether a poll (a row, or a rendering's view of one) has ended at `now`."""
    return poll.expires_at is not None and poll.expires_at <= now


# --- ActivityStreams -------------------------------------------------------------------------

async def question_fields(session: AsyncSession, item: Object, now: datetime) -> dict[str, Any]:
    """The poll fields of a local Question (see question_to_ap); none if it has no poll."""
    poll = await queries.poll_of(session, item.id)
    if poll is None:
        return {}
    return question_to_ap(poll, await options_of(session, poll), closed=expired(poll, now))


async def store_remote(session: AsyncSession, item: Object, question: APQuestion | None) -> bool:
    """Create or refresh the poll of a remote Question as parsed; False if it has none.
    Options that changed take their votes with them, as an edited poll starts over."""
    if question is None:
        return False
    poll = await queries.poll_of(session, item.id)
    if poll is None:
        poll = await queries.add_poll(session, Poll(object_id=item.id, hide_totals=False, multiple=question.multiple,
                                                    expires_at=question.expires_at,
                                                    voters_count=question.voters_count))
    poll.multiple, poll.expires_at, poll.voters_count = question.multiple, question.expires_at, question.voters_count
    options = await options_of(session, poll)
    titles = [title for title, _ in question.options]
    if [o.title for o in options] != titles:
        await queries.remove_options(session, item.id)
        options = await queries.add_options(session, item.id, titles)
    for option, (_, votes) in zip(options, question.options):
        option.votes_count = votes
    return True


# --- votes -----------------------------------------------------------------------------------

async def receive_vote(session: AsyncSession, voter: Actor, vote: APVote, now: datetime) -> None:
    """Count a peer's vote on a local poll. PollError says why it does not count."""
    item = await local_post_by_uri(session, vote.poll_uri)
    poll = await queries.poll_of(session, item.id) if item is not None else None
    if poll is None or item.deleted_at is not None or not await can_see(session, item, voter):
        raise PollError(f"{vote.poll_uri} is not a poll here")
    if expired(poll, now):
        raise PollError("the poll has ended")
    titles = [option.title for option in await options_of(session, poll)]
    if vote.title not in titles:
        raise PollError(f"the poll has no option {vote.title!r}")
    choice = titles.index(vote.title)
    earlier = await queries.choices_of(session, poll.object_id, voter.id)
    if choice in earlier or (earlier and not poll.multiple):
        raise PollError(f"{voter.uri} has voted on this poll already")
    # the vote's id is kept only if it is the voter's to name (an Answer's origin is not checked)
    uri = vote.uri if authority(vote.uri) == authority(voter.uri) else None
    if uri is not None and await queries.vote_counted(session, uri):
        raise PollError(f"the vote {uri} was counted already")
    await _record(session, item, poll, voter, [choice], [uri], now, first=not earlier)


async def cast(session: AsyncSession, item: Object, voter: Actor, choices: list[int],
               now: datetime) -> list[tuple[PollVote, str]]:
    """A local user's vote: the rows recorded, each with its option's title."""
    poll = await queries.poll_of(session, item.id)
    if poll is None:
        raise PollError("the post has no poll")
    if item.actor_id == voter.id:
        raise PollError("you cannot vote on your own poll")
    if expired(poll, now):
        raise PollError("the poll has already ended")
    if await queries.choices_of(session, poll.object_id, voter.id):
        raise PollError("you have already voted on this poll")
    titles = [option.title for option in await options_of(session, poll)]
    chosen = sorted(set(choices))
    if not chosen or any(not 0 <= choice < len(titles) for choice in chosen):
        raise PollError(f"choose options between 0 and {len(titles) - 1}")
    if len(chosen) > 1 and not poll.multiple:
        raise PollError("this poll takes one choice")
    rows = await _record(session, item, poll, voter, chosen, [None] * len(chosen), now, first=True)
    return [(row, titles[row.choice]) for row in rows]


async def _record(session: AsyncSession, item: Object, poll: Poll, voter: Actor, choices: list[int],
                  uris: list[str | None], now: datetime, *, first: bool) -> list[PollVote]:
    """New votes of one voter (the callers checked they are new, and know whether they are the
    voter's `first` on this poll): rows and counts."""
    rows = await queries.add_votes(session, poll.object_id, voter.id, choices, uris, now, first=first)
    if item.local and poll.update_due_at is None:
        poll.update_due_at = now + UPDATE_DELAY
    return rows
