"""Polls as peers send them: a Question's options and counts, and a vote (a Note with a `name`
and no content, as Mastodon, GoToSocial and Misskey send it, or an Answer, as Akkoma and Pleroma
do). Read once, at the boundary, by `parse`; the domain (`federation.social.polls`) takes these."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from federation.protocol.vocab.values import (
    UNSUPPORTED,
    as_list,
    count,
    id_of,
    is_uri,
    parse_datetime,
    type_of,
)

VOTE_TYPES = frozenset({"Note", "Answer"})


@dataclass(frozen=True)
class APQuestion:
    """The poll of a Question: its options (title, votes), whether several may be chosen, when it
    ends, and how many voted (when the document says, or a single-choice poll's sum)."""


    options: tuple[tuple[str, int], ...]  # (title, votes)
    multiple: bool
    expires_at: datetime | None
    voters_count: int | None


def ap_to_question(raw: dict[str, Any]) -> APQuestion | None:
    """The poll in a remote Question's document, or None if it has no options."""
    multiple = isinstance(raw.get("anyOf"), (list, dict)) and bool(raw["anyOf"])
    options = []
    for option in as_list(raw.get("anyOf" if multiple else "oneOf")):
        if not isinstance(option, dict) or not isinstance(option.get("name"), str):
            continue
        replies = option.get("replies")
        total = replies.get("totalItems") if isinstance(replies, dict) else None
        options.append((option["name"], count(total) or 0))
    if not options:
        return None
    ends = [t for t in (parse_datetime(raw.get("endTime")), parse_datetime(raw.get("closed"))) if t is not None]
    voters = count(raw.get("votersCount"))
    if voters is None:
        voters = None if multiple else sum(votes for _, votes in options)
    return APQuestion(tuple(options), multiple, min(ends) if ends else None, voters)


@dataclass(frozen=True)
class APVote:
    """A vote as a peer sends it: the voted option's title, on the Question `poll_uri`."""

    uri: str
    poll_uri: str
    title: str


def ap_to_vote(raw: Any) -> APVote | None:
    """The vote a Create carries, if it is one: a Note with a `name`, an `inReplyTo` and no
    content (Mastodon, GoToSocial, Misskey) or an Answer (Akkoma, Pleroma). `raw`: the embedded
    object."""
    kind = type_of(raw.get("type"), VOTE_TYPES) if isinstance(raw, dict) else UNSUPPORTED
    if kind == UNSUPPORTED:
        return None
    vote_id, poll_uri, title = id_of(raw), id_of(raw.get("inReplyTo")), raw.get("name")
    if kind == "Note" and raw.get("content"):
        return None
    if not (is_uri(vote_id) and is_uri(poll_uri) and isinstance(title, str) and title):
        return None
    return APVote(vote_id, poll_uri, title)
