"""A follow sent before the peer allows us is not lost.

Hospital A allows B; B has not allowed A yet. Alice (at A) follows Bob (at B): B refuses the
delivery (403), and A keeps it queued, backing off, with the reason where the admin looks. When
B's admin allows A, B greets A with a signed request, A stops backing off and delivers at once:
the follow is accepted with nothing more done by Alice, and without waiting out the backoff.
"""

from __future__ import annotations

import argparse

import pytest
from sqlalchemy import select

from federation.outbox import relations

from federation.peers import decisions
from federation.remote.actors import actor_from_document, upsert_remote_actor
from federation.peers.greeting import greet_allowed
from server import peer_commands
from storage.models import Delivery, DeliveryState, Follow, FollowState, Peer, PeerState
from tests.api_helpers import token_for
from tests.instances import Instance, settle

AP = {"Accept": "application/activity+json"}


async def _peer(instance: Instance, domain: str) -> Peer | None:
    async with instance.db.sessions() as session:
        return await session.scalar(select(Peer).where(Peer.domain == domain))


async def _bob_as_seen_by_a(a: Instance, b: Instance, http):
    """Bob's actor on A, from the key-only form B serves to anyone (A cannot read more of B yet)."""
    url = f"{b.base}/users/bob"
    async with http.get(url, headers=AP) as response:
        document = await response.json(content_type=None)
    async with a.db.sessions.begin() as session:
        return await upsert_remote_actor(session, actor_from_document(url, url, document), a.clock.now())


@pytest.fixture
async def hospitals(instances):
    """A (allowlist, allows B) and B (allowlist, does not allow A yet)."""
    a = await instances.start("a", federation={"mode": "allowlist"})
    b = await instances.start("b", federation={"mode": "allowlist"})
    await a.add_user("alice")
    await b.add_user("bob")
    async with a.db.sessions.begin() as session:
        await decisions.decide(session, b.urls.authority, PeerState.allowed, by="test", at=a.clock.now())
    await a.fed.reload_policy()
    return a, b


async def test_a_follow_made_before_the_peer_allows_us_goes_through_once_it_does(hospitals, http, capsys):
    a, b = hospitals
    alice_headers = await token_for(a, "alice", create=False)
    bob = await _bob_as_seen_by_a(a, b, http)

    # Given alice follows bob while B does not allow A: B refuses the delivery (403)
    async with a.db.sessions.begin() as session:
        await relations.follow(a.fed, session, await a.actor("alice"), bob)
    await a.step()
    async with a.db.sessions() as session:
        delivery = await session.scalar(select(Delivery).where(Delivery.peer == b.urls.authority))
    # Then the delivery is kept (retried later, up to the maximum age), not dead
    assert delivery.state is DeliveryState.queued and delivery.last_status == 403, delivery.last_error
    assert "not a peer" in delivery.last_error
    b_on_a = await _peer(a, b.urls.authority)
    assert b_on_a.retry_at is not None and "403" in b_on_a.last_failure_reason
    # and alice sees her follow as requested; A's admin sees the queued delivery and why
    async with http.get(f"{a.base}/api/v1/accounts/relationships", params={"id[]": str(bob.id)},
                        headers=alice_headers) as r:
        relationship = (await r.json())[0]
    assert relationship["requested"] is True and relationship["following"] is False
    await peer_commands.peers_list(a.settings, argparse.Namespace(state=None))
    listed = capsys.readouterr().out
    line = next(line for line in listed.splitlines() if line.startswith(b.urls.authority))
    assert " 1 " in line and "delivery failed: HTTP 403" in line and "not a peer" in line
    await peer_commands.peers_show(a.settings, argparse.Namespace(domain=b.urls.authority))
    shown = capsys.readouterr().out
    assert "1 queued, 0 dead" in shown and "backing off:       until" in shown
    # and B lists A as pending, with the key alice's delivery was signed with
    await b.fed.contacts.flush(b.db)
    a_on_b = await _peer(b, a.urls.authority)
    assert a_on_b.state is PeerState.pending and a_on_b.last_key_id == f"{a.base}/users/alice#main-key"
    assert a_on_b.last_refused_route == "POST /users/bob/inbox" and a_on_b.signature_state == "unverified"

    # When B's admin allows A (admin API), and B's greeting chore runs
    admin = await token_for(b, "root", "admin:write", admin=True)
    async with http.post(f"{b.base}/api/v1/admin/domain_allows", json={"domain": a.urls.authority},
                         headers=admin) as r:
        assert r.status == 200
    assert b.fed.wake.peers_allowed.is_set()
    assert await greet_allowed(b.fed) == 1

    # Then A has stopped backing off for B, though no time has passed
    assert (await _peer(a, b.urls.authority)).retry_at is None
    # and A delivers at once: bob gets the follow and accepts it, with nothing more from alice
    await settle(a, b)
    async with a.db.sessions() as session:
        follow = await session.scalar(select(Follow))
        delivery = await session.get(Delivery, delivery.id)
    assert delivery.state is DeliveryState.delivered
    assert follow.state is FollowState.accepted
    async with b.db.sessions() as session:
        assert (await session.scalar(select(Follow))).state is FollowState.accepted
    # and B greets A only once
    assert (await _peer(b, a.urls.authority)).last_key_id is None
    assert await greet_allowed(b.fed) == 0


async def test_without_a_greeting_the_follow_goes_through_at_the_next_retry(hospitals, http):
    a, b = hospitals
    bob = await _bob_as_seen_by_a(a, b, http)
    async with a.db.sessions.begin() as session:
        await relations.follow(a.fed, session, await a.actor("alice"), bob)
    await a.step()
    # When B's admin allows A from the command line (no greeting from that process)
    async with b.db.sessions.begin() as session:
        await decisions.decide(session, a.urls.authority, PeerState.allowed, by="cli:root", at=b.clock.now())
    await b.fed.reload_policy()
    assert await a.step() == 0  # A is still backing off
    # Then once A's backoff has passed, the follow goes through
    for instance in (a, b):
        instance.clock.advance(seconds=600)
    await settle(a, b)
    async with a.db.sessions() as session:
        assert (await session.scalar(select(Follow))).state is FollowState.accepted
