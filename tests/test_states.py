"""The declared state machines (storage/states.py): a move they do not declare raises and changes
nothing; a bulk move's WHERE comes from the same declaration."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

import pytest

from storage.models import DeliveryState, FollowState, InboxState
from storage.states import DELIVERIES, FOLLOWS, INBOX, MEMBERSHIPS, IllegalTransition, MembershipState

NOW = datetime(2026, 12, 6, tzinfo=timezone.utc)


@dataclass
class Row:
    state: object
    updated_at: datetime | None = None


def test_a_declared_move_changes_the_state_and_stamps_it():
    row = Row(FollowState.pending)
    assert FOLLOWS.move(row, FollowState.accepted, NOW) is True
    assert (row.state, row.updated_at) == (FollowState.accepted, NOW)


def test_staying_put_is_no_move():
    row = Row(FollowState.accepted)
    assert FOLLOWS.move(row, FollowState.accepted, NOW) is False
    assert row.updated_at is None


@pytest.mark.parametrize(("machine", "source", "target"), [
    (FOLLOWS, FollowState.undone, FollowState.accepted),  # a late Accept of a withdrawn follow
    (FOLLOWS, FollowState.accepted, FollowState.pending),
    (INBOX, InboxState.done, InboxState.queued),          # done is final: no admin retry
    (INBOX, InboxState.discarded, InboxState.queued),
    (DELIVERIES, DeliveryState.delivered, DeliveryState.queued),
    (DELIVERIES, DeliveryState.cancelled, DeliveryState.queued),
    (MEMBERSHIPS, MembershipState.banned, MembershipState.accepted),  # unbanned is not rejoined
])
def test_an_undeclared_move_raises_and_changes_nothing(machine, source, target):
    row = Row(source)
    with pytest.raises(IllegalTransition, match=f"{source.value} cannot become {target.value}"):
        machine.move(row, target, NOW)
    assert (row.state, row.updated_at) == (source, None)
    assert not machine.allows(source, target)


def test_every_state_is_declared_and_bulk_moves_take_their_sources_from_the_declaration():
    for machine in (FOLLOWS, INBOX, DELIVERIES, MEMBERSHIPS):
        states = type(next(iter(machine.moves)))
        assert set(machine.moves) == set(states), machine.name
    # what `rounds queue retry` and `discard` may touch
    assert INBOX.sources(InboxState.queued) == {InboxState.failed, InboxState.dead}
    assert INBOX.sources(InboxState.discarded) == {InboxState.failed, InboxState.dead}
    assert DELIVERIES.sources(DeliveryState.queued) == {DeliveryState.dead}
    assert DELIVERIES.sources(DeliveryState.cancelled) == {DeliveryState.queued, DeliveryState.dead}
    # terminal states go nowhere
    for machine, final in ((INBOX, InboxState.done), (INBOX, InboxState.ignored), (INBOX, InboxState.discarded),
                           (DELIVERIES, DeliveryState.delivered), (DELIVERIES, DeliveryState.cancelled)):
        assert machine.moves[final] == frozenset(), final
