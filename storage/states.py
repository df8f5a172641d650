"""Every queue-like table's states, and the moves allowed between them, declared in one place.

A row changes state only through its table's machine: `MACHINE.move(row, target)` on a loaded row,
or, for a bulk UPDATE, `WHERE state IN MACHINE.reaching(target)` (`storage.leases.move` writes
it), so even a statement that moves many rows moves only those the declaration allows. A move the declaration does not allow raises
`IllegalTransition`: a caller that may legitimately meet one (a late Accept of a withdrawn follow)
asks `allows` first and decides what to do. Staying in the same state is not a move and is always
allowed.

Follows (`federation.social.follows` and the Accept, Reject, Undo and Block handlers):
    pending  -> accepted | rejected | undone
    accepted -> undone | rejected               (a Reject after an Accept withdraws it)
    rejected -> pending | accepted              (asked again; a peer that changed its mind)
    undone   -> pending                         (asked anew; a late Accept of the old request
                                                 must not bring it back)
Inbox items (`federation.inbox.worker`; `rounds queue` is the admin's hand):
    queued -> done | ignored | failed           (the worker: one outcome per attempt)
    queued -> dead                              (its attempts ran out under earlier leases)
    failed -> queued                            (due again: a claim leases it like a queued one)
    failed -> dead                              (the attempt numbered inbox_max_attempts failed)
    failed | dead -> queued                     (an admin's retry, due now, attempts from zero)
    failed | dead -> discarded                  (an admin gave up; kept, so a redelivery is a no-op)
Deliveries (`federation.outbox.delivery`; `rounds queue` too):
    queued -> delivered | dead | cancelled      (a retryable failure stays queued, due later)
    dead   -> queued                            (an admin's retry, due now)
    dead   -> cancelled                         (an admin's discard)
Web Push deliveries (`federation.social.push`):
    queued -> delivered | dead | cancelled      (cancelled: the subscription changed its mind)
Quotes (`federation.social.quotes`: the quoted author's answer to a quote post):
    pending  -> accepted | rejected             (the quoted author answers)
    rejected -> accepted                        (a later authorisation)
    accepted -> revoked                         (the quoted author withdraws it)
Community memberships (declared ahead of the communities that will use them):
    pending  -> accepted | rejected             (a moderator answers a join request)
    accepted -> left | removed | banned         (the member leaves, or a moderator acts)
    rejected | left | removed -> pending        (asked again)
    banned   -> left                            (unbanned: may ask again from there)
Articles (`federation.articles`: an author's article and its community's review):
    draft     -> in_review                      (submitted to a community that approves articles)
    draft     -> published                      (submitted where no approval is needed)
    in_review -> published                      (a moderator approves it: validated_by, validated_at)
    in_review -> draft                          (a moderator rejects it, with a reason)
    published: final (an edit makes a new version; a deletion removes the article)
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from storage.models.articles import ArticleState
from storage.models.queues import DeliveryState, InboxState
from storage.models.quotes import QuoteState
from storage.models.social import FollowState

S = TypeVar("S", bound=enum.Enum)


class IllegalTransition(ValueError):
    """A move its table's machine does not allow; nothing was changed."""

    def __init__(self, machine: str, source: enum.Enum, target: enum.Enum) -> None:
        super().__init__(f"{machine}: {source.value} cannot become {target.value}")
        self.machine, self.source, self.target = machine, source, target


@dataclass(frozen=True)
class Machine(Generic[S]):
    name: str
    moves: Mapping[S, frozenset[S]]  # every state -> the states it may move to

    def allows(self, source: S, target: S) -> bool:
        return source is target or target in self.moves[source]

    def check(self, source: S, target: S) -> None:
        if not self.allows(source, target):
            raise IllegalTransition(self.name, source, target)

    def sources(self, target: S) -> frozenset[S]:
        """The states a row may be in to move to `target`: the WHERE of a bulk move."""
        return frozenset(state for state, targets in self.moves.items() if target in targets)

    def reaching(self, target: S) -> frozenset[S]:
        """The states a row may be in and end in `target`: its sources, and `target` itself
        (staying is not a move). The WHERE of a bulk UPDATE that may also touch rows already there."""
        return self.sources(target) | {target}

    def move(self, row, target: S, now: datetime | None = None) -> bool:
        """Move a loaded row to `target`; True if its state changed, and then its `updated_at`
        becomes `now` when given. Raises IllegalTransition, changing nothing, if not allowed."""
        self.check(row.state, target)
        if row.state is target:
            return False
        row.state = target
        if now is not None:
            row.updated_at = now
        return True


def _machine(name: str, states: type[S], moves: Mapping[S, set[S]]) -> Machine[S]:
    declared = {state: frozenset(moves.get(state, ())) for state in states}
    return Machine(name, declared)


F = FollowState
FOLLOWS = _machine("follow", FollowState, {
    F.pending: {F.accepted, F.rejected, F.undone},
    F.accepted: {F.undone, F.rejected},
    F.rejected: {F.pending, F.accepted},
    F.undone: {F.pending},
})

I = InboxState
INBOX = _machine("inbox item", InboxState, {
    I.queued: {I.done, I.ignored, I.failed, I.dead},
    I.failed: {I.queued, I.dead, I.discarded},
    I.dead: {I.queued, I.discarded},
})
INBOX_DUE = (I.queued, I.failed)  # what a claim takes once next_attempt_at passes

D = DeliveryState
DELIVERIES = _machine("delivery", DeliveryState, {
    D.queued: {D.delivered, D.dead, D.cancelled},
    D.dead: {D.queued, D.cancelled},
})
DELIVERY_DUE = (D.queued,)  # what a claim takes once next_attempt_at passes, unless leased
PUSHES = _machine("push delivery", DeliveryState, {
    D.queued: {D.delivered, D.dead, D.cancelled},
})

Q = QuoteState
QUOTES = _machine("quote", QuoteState, {
    Q.pending: {Q.accepted, Q.rejected},
    Q.rejected: {Q.accepted},
    Q.accepted: {Q.revoked},
})


class MembershipState(str, enum.Enum):
    pending = "pending"
    accepted = "accepted"
    rejected = "rejected"
    left = "left"
    removed = "removed"
    banned = "banned"


M = MembershipState
MEMBERSHIPS = _machine("membership", MembershipState, {
    M.pending: {M.accepted, M.rejected},
    M.accepted: {M.left, M.removed, M.banned},
    M.rejected: {M.pending},
    M.left: {M.pending},
    M.removed: {M.pending},
    M.banned: {M.left},
})

A = ArticleState
ARTICLES = _machine("article", ArticleState, {
    A.draft: {A.in_review, A.published},
    A.in_review: {A.published, A.draft},
})

del F, I, D, Q, M, A
