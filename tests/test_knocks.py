"""Knocks: requests from peers we refuse. They are refused before any key is fetched, recorded for
the admins within limits (per source address, a cap, an expiry), with whether their signature
was valid against a key we already held; and every refusal is logged, one line each.
"""

from __future__ import annotations

import argparse
import logging

import pytest
from sqlalchemy import func, select

from federation.peers import decisions
from federation.remote.resolve import RemoteError, resolve_actor
from server import peer_commands
from storage.models import Peer, PeerState
from tests.api_helpers import token_for
from tests.fakepeer import FakePeer, activity, fixture_keys
from tests.instances import Instance
from tests.statements import peers_written, statements_run

AP = {"Accept": "application/activity+json"}


async def _decide(instance: Instance, domain: str, state: PeerState) -> None:
    async with instance.db.sessions.begin() as session:
        await decisions.decide(session, domain, state, by="test", at=instance.clock.now())
    await instance.fed.reload_policy()


async def _peer(instance: Instance, domain: str) -> Peer | None:
    async with instance.db.sessions() as session:
        return await session.scalar(select(Peer).where(Peer.domain == domain))


async def _pending(instance: Instance) -> int:
    async with instance.db.sessions() as session:
        return await session.scalar(select(func.count()).select_from(Peer).where(Peer.state == PeerState.pending))


@pytest.fixture
async def fake_peers():
    started: list[FakePeer] = []

    async def start() -> FakePeer:
        peer = await FakePeer().start()
        peer.add_actor("carol")
        started.append(peer)
        return peer

    yield start
    for peer in started:
        await peer.stop()


async def test_made_up_key_ids_cannot_fill_the_pending_list(instances, http, fake_peers, caplog):
    # Given A in allowlist mode, keeping at most 30 pending peers (20 new per address per hour)
    a = await instances.start(federation={"mode": "allowlist", "pending_peers_max": 30})
    await a.add_user("alice")
    c = await fake_peers()
    inbox = f"{a.base}/users/alice/inbox"

    async def knock(n: int) -> int:
        follow = activity(c, "carol", "Follow", f"{a.base}/users/alice", str(n))
        status, _ = await c.post(http, "carol", inbox, follow, a.clock.now(),
                                 key_id=f"http://made-up-{n}.example/users/x#main-key")
        return status

    # When one address sends 300 requests signed with made-up key ids
    assert {await knock(n) for n in range(300)} == {403}
    await a.fed.contacts.flush(a.db)
    # Then only 20 of those peers are listed as pending, none of them verified, nothing fetched
    assert await _pending(a) == 20
    first = await _peer(a, "made-up-0.example")
    assert first.signature_state == "unverified" and first.last_refusal_reason == "not on the allowlist"
    assert [entry for entry in c.received if entry[0] == "GET"] == []
    # and a peer already listed is still counted
    await knock(0)
    await a.fed.contacts.flush(a.db)
    assert (await _peer(a, "made-up-0.example")).request_count == 2

    # When an hour has passed and it tries 20 more: the list stops at its cap, with a warning
    a.clock.advance(hours=1, seconds=1)
    with caplog.at_level(logging.WARNING, logger="federation.peers.contacts"):
        for n in range(300, 320):
            await knock(n)
        await a.fed.contacts.flush(a.db)
    assert await _pending(a) == 30
    assert "pending peers are full" in caplog.text

    # And pending peers not heard from for pending_peer_expiry_days (30) are forgotten
    a.clock.advance(days=30, hours=1)
    await knock(0)  # made-up-0 knocks again: it stays
    await a.fed.contacts.flush(a.db)
    async with a.db.sessions() as session:
        assert list(await session.scalars(select(Peer.domain).where(Peer.state == PeerState.pending))) == [
            "made-up-0.example"]


async def test_knocks_record_route_reason_and_signature_state(instances, http, fake_peers, capsys):
    a = await instances.start(federation={"mode": "allowlist"})
    await a.add_user("alice")
    c, d, e = await fake_peers(), await fake_peers(), await fake_peers()
    inbox = f"{a.base}/users/alice/inbox"
    # Given C was allowed once (A holds carol's key), then removed
    await _decide(a, c.authority, PeerState.allowed)
    await resolve_actor(a.fed, f"{c.base}/users/carol")
    async with a.db.sessions.begin() as session:
        await decisions.remove(session, c.authority, by="test", at=a.clock.now())
    await a.fed.reload_policy()
    gets_before = len([entry for entry in c.received if entry[0] == "GET"])
    # and A knows E from before, as a peer it delivered to (state known)
    async with a.db.sessions.begin() as session:
        session.add(Peer(domain=e.authority, state=PeerState.known, first_seen_at=a.clock.now()))

    # When C knocks with a good signature, D (never seen) knocks, and E knocks
    follow = activity(c, "carol", "Follow", f"{a.base}/users/alice")
    assert (await c.post(http, "carol", inbox, follow, a.clock.now()))[0] == 403
    assert (await d.post(http, "carol", inbox, activity(d, "carol", "Follow", f"{a.base}/users/alice"),
                         a.clock.now()))[0] == 403
    assert (await e.post(http, "carol", inbox, activity(e, "carol", "Follow", f"{a.base}/users/alice"),
                         a.clock.now()))[0] == 403
    await a.fed.contacts.flush(a.db)
    # Then each is pending, with the route, the reason and whether the signature was valid
    knock_c, knock_d, knock_e = [await _peer(a, peer.authority) for peer in (c, d, e)]
    assert (knock_c.state, knock_c.signature_state) == (PeerState.pending, "valid")
    assert knock_c.last_refused_route == "POST /users/alice/inbox"
    assert knock_c.last_refusal_reason == "not on the allowlist"
    assert knock_c.last_key_id == f"{c.base}/users/carol#main-key"
    assert (knock_d.state, knock_d.signature_state) == (PeerState.pending, "unverified")
    assert knock_e.state is PeerState.pending  # a known peer that knocks is pending, not "known"
    # and nothing was fetched from any of them
    assert len([entry for entry in c.received if entry[0] == "GET"]) == gets_before
    assert [entry for peer in (d, e) for entry in peer.received if entry[0] == "GET"] == []

    # When C's next knock carries a forged signature (another key), it is recorded as invalid
    assert (await c.post(http, "carol", inbox, activity(c, "carol", "Follow", f"{a.base}/users/alice", "2"),
                         a.clock.now(), key=fixture_keys(7)))[0] == 403
    await a.fed.contacts.flush(a.db)
    assert (await _peer(a, c.authority)).signature_state == "invalid"

    # And `peers pending` shows each knock: count, first and last seen, signature, route, reason
    await peer_commands.peers_pending(a.settings, argparse.Namespace())
    listed = capsys.readouterr().out
    line = next(line for line in listed.splitlines() if line.startswith(c.authority))
    assert line.split()[1] == "2" and "invalid" in line and "POST /users/alice/inbox" in line
    assert line.rstrip().endswith("not on the allowlist")
    assert a.clock.now().strftime("%Y-%m-%d") in line

    # And a blocked peer's knock never adds a row, whatever the mode
    await _decide(a, "127.0.0.1", PeerState.blocked)  # every port of 127.0.0.1
    f = await fake_peers()
    assert (await f.post(http, "carol", inbox, activity(f, "carol", "Follow", f"{a.base}/users/alice"),
                         a.clock.now()))[0] == 403
    await a.fed.contacts.flush(a.db)
    assert await _peer(a, f.authority) is None


async def test_refusals_are_logged_and_allowed_peers_are_counted(instances, http, fake_peers, caplog, capsys):
    a = await instances.start(federation={"mode": "allowlist"})
    alice_headers = await token_for(a, "alice")
    c, b = await fake_peers(), await fake_peers()
    await _decide(a, b.authority, PeerState.allowed)
    caplog.set_level(logging.INFO)

    # A refused inbox POST, a refused signed GET, a refused fetch and an empty search each log one
    # line naming the peer, the route and the reason
    follow = activity(c, "carol", "Follow", f"{a.base}/users/alice")
    await c.post(http, "carol", f"{a.base}/users/alice/inbox", follow, a.clock.now())
    signed = {**AP, **c.signed_headers("carol", f"{a.base}/users/alice", b"", a.clock.now())}
    signed.pop("Content-Type")
    async with http.get(f"{a.base}/users/alice", headers=signed) as r:
        assert r.status in (401, 403)
    with pytest.raises(RemoteError):
        await resolve_actor(a.fed, f"{c.base}/users/carol")
    async with http.get(f"{a.base}/api/v2/search", params={"q": f"carol@{c.authority}", "resolve": "true"},
                        headers=alice_headers) as r:
        assert (await r.json())["accounts"] == []
    lines = [record.getMessage() for record in caplog.records if c.authority in record.getMessage()]
    assert any(f"refused POST /users/alice/inbox from {c.authority}: 403" in line and "not a peer" in line
               for line in lines), lines
    assert any(line.startswith("refused GET /users/alice from") for line in lines), lines
    assert any(line.startswith(f"refused fetch of {c.base}/users/carol from {c.authority}: not an allowed peer")
               for line in lines), lines
    assert any(line.startswith(f"search 'carol@{c.authority}' resolved nothing") and "not an allowed peer" in line
               for line in lines), lines

    # An allowed peer's requests are counted in memory, and written by the next flush
    for n in range(3):
        status, _ = await b.post(http, "carol", f"{a.base}/users/alice/inbox",
                                 activity(b, "carol", "Follow", f"{a.base}/users/alice", str(n)), a.clock.now())
        assert status == 202
    assert (await _peer(a, b.authority)).request_count == 0  # nothing written on the request path
    await a.fed.contacts.flush(a.db)
    counted = await _peer(a, b.authority)
    assert counted.request_count == 3 and counted.last_seen_at is not None and counted.state is PeerState.allowed
    await peer_commands.peers_list(a.settings, argparse.Namespace(state=None))
    line = next(line for line in capsys.readouterr().out.splitlines() if line.startswith(b.authority))
    assert line.split()[5] == "3"


async def test_contacts_are_written_in_domain_order_whatever_order_they_were_seen_in(instances):
    """Every process writes peers' rows in the same order (domain), so two flushes of the same
    peers, each seen in its own order, cannot deadlock on PostgreSQL (seen with a web process and
    a worker flushing at once). The first seen still come first for room on the pending list."""
    a = await instances.start()
    seen = ["zeta.example", "alpha.example", "mid.example"]
    for domain in seen:
        a.fed.contacts.seen(domain)
        a.clock.advance(seconds=1)
    async with statements_run(a.db) as statements:
        await a.fed.contacts.flush(a.db)
    assert peers_written(statements, seen) == sorted(seen)
    assert [(await _peer(a, domain)).request_count for domain in seen] == [1, 1, 1]
