"""`rounds queue`, run as a real process: list, retry and discard deliveries (inbox items are
covered with the poison rows in test_poison.py), usage errors (2), refusals (1), the audit log,
and a discard that lands while its delivery is being sent."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from federation.admin import queues

from federation.outbox import actions
from federation.remote.resolve import resolve_actor
from server.cli import main
from storage.models import AuditEntry, Delivery, DeliveryState, Object, Visibility
from tests.cli_helpers import run_cli
from tests.fakepeer import FakePeer
from tests.instances import Instance


@pytest.fixture
async def setup(instances):
    """A with alice, and a fake peer with zed, whom A knows."""
    a = await instances.start()
    await a.add_user("alice")
    peer = await FakePeer().start()
    zed = await resolve_actor(a.fed, peer.add_actor("zed"))
    yield a, peer, zed
    await peer.stop()


async def _like(a: Instance, peer: FakePeer, author, n: int) -> None:
    """alice likes a note of zed's: one delivery to the peer."""
    async with a.db.sessions.begin() as session:
        note = Object(uri=f"{peer.base}/notes/{n}", type="Note", actor_id=author.id, local=False,
                      visibility=Visibility.public, content="x")
        session.add(note)
    async with a.db.sessions.begin() as session:
        await actions.like(a.fed, session, await a.actor("alice"), note)


async def _deliveries(a: Instance) -> list[Delivery]:
    async with a.db.sessions() as session:
        return list(await session.scalars(select(Delivery).order_by(Delivery.id)))


async def test_retry_a_dead_delivery_and_discard_a_queued_one(setup, tmp_path):
    a, peer, zed = setup
    # Given a delivery the peer refused for good (410: dead) and one still queued
    peer.inbox_status = 410
    await _like(a, peer, zed, 1)
    assert await a.delivery.run_once() == 1
    await _like(a, peer, zed, 2)
    dead, queued = await _deliveries(a)
    assert (dead.state, queued.state) == (DeliveryState.dead, DeliveryState.queued)

    # When an admin lists the deliveries
    listed = run_cli(a, tmp_path, "queue", "list", "--deliveries")
    # Then both are there, with their state, attempts, type, peer and last error
    assert listed.returncode == 0, listed.stderr
    rows = {int(line.split()[1]): line.split() for line in listed.stdout.splitlines()[1:]}
    assert rows[dead.id][:6] == ["deliveries", str(dead.id), "dead", "1", "Like", peer.authority]
    assert "HTTP 410" in listed.stdout
    assert rows[queued.id][2:4] == ["queued", "0"]
    # And only the dead one with --state dead
    only_dead = run_cli(a, tmp_path, "queue", "list", "--deliveries", "--state", "dead").stdout
    assert str(dead.id) in only_dead and str(queued.id) not in only_dead

    # When the admin retries the dead one and discards the queued one
    assert run_cli(a, tmp_path, "queue", "retry", "deliveries", str(dead.id)).returncode == 0
    discarded = run_cli(a, tmp_path, "queue", "discard", "deliveries", str(queued.id))
    assert discarded.returncode == 0 and f"delivery {queued.id} cancelled" in discarded.stdout
    # Then the dead one is queued again and due, the other cancelled
    retried, cancelled = await _deliveries(a)
    assert retried.state is DeliveryState.queued and retried.finished_at is None
    assert cancelled.state is DeliveryState.cancelled and "discarded by cli:" in cancelled.last_error
    # And a cancelled delivery cannot be retried: refused (1), one line, nothing changed
    refused = run_cli(a, tmp_path, "queue", "retry", "deliveries", str(cancelled.id))
    assert refused.returncode == 1, refused.stderr
    assert refused.stderr.strip() == (f"rounds: delivery {cancelled.id} is cancelled; only dead ones can be retried; "
                                      "nothing was changed")
    # And when the peer takes it again, the retried one is delivered and the cancelled one never sent
    peer.inbox_status = 202
    a.clock.advance(minutes=1)  # the CLI's "now" is the system clock's
    posts = len([1 for method, *_ in peer.received if method == "POST"])
    assert await a.delivery.run_once() == 1
    assert [d.state for d in await _deliveries(a)] == [DeliveryState.delivered, DeliveryState.cancelled]
    assert len([1 for method, *_ in peer.received if method == "POST"]) == posts + 1
    # And both changes are in the audit log, shown by 'rounds audit'
    audit = run_cli(a, tmp_path, "audit").stdout.splitlines()
    assert len(audit) == 2
    assert "delivery.retry" in audit[0] and "dead -> queued" in audit[0]
    assert "delivery.discard" in audit[1] and "queued -> cancelled" in audit[1]


async def test_all_dead_and_the_usage_errors(setup, tmp_path):
    a, peer, zed = setup
    # Given two dead deliveries
    peer.inbox_status = 410
    await _like(a, peer, zed, 1)
    await _like(a, peer, zed, 2)
    await a.delivery.run_once()
    # When an admin discards every dead delivery
    done = run_cli(a, tmp_path, "queue", "discard", "deliveries", "--all-dead")
    # Then both are cancelled, and a second time finds nothing to do
    assert done.returncode == 0 and done.stdout.count("cancelled") == 2
    assert [d.state for d in await _deliveries(a)] == [DeliveryState.cancelled] * 2
    again = run_cli(a, tmp_path, "queue", "discard", "deliveries", "--all-dead")
    assert again.returncode == 0 and "No dead delivery" in again.stdout
    # And an unknown id is refused (1), one line, without a traceback
    unknown = run_cli(a, tmp_path, "queue", "retry", "deliveries", "42")
    assert unknown.returncode == 1 and unknown.stderr == "rounds: there is no delivery 42; 'rounds queue list' shows them\n"
    async with a.db.sessions() as session:
        assert len(list(await session.scalars(select(AuditEntry)))) == 2


async def test_a_discard_made_while_the_delivery_is_being_sent_stands(setup):
    a, peer, zed = setup
    # Given a queued delivery, and an admin who discards it while the peer is receiving it
    await _like(a, peer, zed, 1)
    (delivery,) = await _deliveries(a)

    async def discard_now() -> None:
        async with a.db.sessions.begin() as session:
            await queues.discard(session, queues.DELIVERIES, [delivery.id], by="test", at=a.clock.now())

    peer.on_post = discard_now
    peer.inbox_status = 503
    # When the worker records the send's outcome (a retryable failure)
    assert await a.delivery.run_once() == 1
    # Then the discard stands: the delivery is cancelled, not queued again
    (row,) = await _deliveries(a)
    assert row.state is DeliveryState.cancelled and "discarded by test" in row.last_error


@pytest.mark.parametrize("args", [
    ["retry", "deliveries"], ["retry", "deliveries", "1", "--all-dead"], ["discard", "inbox", "x"],
    ["list", "--deliveries", "--state", "failed"], ["retry", "outbox", "1"], ["list", "--limit", "0"],
])
def test_usage_errors_exit_2_with_one_line(args, capsys):
    # (parsed before any configuration is read, so no instance is needed)
    with pytest.raises(SystemExit) as exit_:
        main(["queue", *args])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: rounds queue") and "error:" in err and "Traceback" not in err


@pytest.mark.parametrize("args", [[], ["list"], ["retry"], ["discard"], ["prune"]])
def test_every_queue_command_has_help(args, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["queue", *args, "--help"])
    assert exit_.value.code == 0 and capsys.readouterr().out.startswith("usage: rounds queue")
