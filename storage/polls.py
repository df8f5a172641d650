"""The polls of many posts in one query, for the client API's Status entities: each poll with
its options in order and the options the viewer chose. Built once, at import, with an expanding
`ids` parameter, like storage.statuses; synchronous, so it runs inside a rendering's read."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import BigInteger, bindparam, exists, select
from sqlalchemy.orm import Session

from storage.db import core_rows
from storage.models import Poll, PollOption, PollVote


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
