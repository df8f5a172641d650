"""Peer allowlists: A federates with B and not C, and every route obeys.

C is a recording fake peer, so the tests can assert that A never contacted it while refusing it.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select
from yarl import URL

from federation.outbox import actions, relations

from federation.peers import decisions
from federation.protocol.keys import load_private_key
from federation.peers.policy import Policy
from federation.remote.resolve import RemoteError, resolve_account
from federation.protocol.signatures import sign_request
from storage.models import (
    Actor,
    ActorType,
    AuditEntry,
    Delivery,
    DeliveryState,
    Follow,
    FollowState,
    Peer,
    PeerState,
)
from tests.fakepeer import FakePeer, activity
from tests.instances import Instance, settle

AP = {"Accept": "application/activity+json"}


async def _decide(instance: Instance, domain: str, state: PeerState, **options) -> None:
    async with instance.db.sessions.begin() as session:
        await decisions.decide(session, domain, state, by="test", at=instance.clock.now(), **options)
    await instance.fed.reload_policy()


async def _peer(instance: Instance, domain: str) -> Peer | None:
    async with instance.db.sessions() as session:
        return await session.scalar(select(Peer).where(Peer.domain == domain))


@pytest.fixture
async def network(instances):
    """A (allowlist, allows B), B (allowlist, allows A), and C, a recording fake peer."""
    a = await instances.start("a", federation={"mode": "allowlist"})
    b = await instances.start("b", federation={"mode": "allowlist"})
    await a.add_user("alice")
    await b.add_user("bob")
    await _decide(a, b.urls.authority, PeerState.allowed)
    await _decide(b, a.urls.authority, PeerState.allowed)
    c = await FakePeer().start()
    c.add_actor("carol")
    yield a, b, c
    await c.stop()


def _signed_get(c: FakePeer, url: str, now) -> dict:
    return {**AP, **sign_request("GET", url, {}, None, key_id=f"{c.base}/users/carol#main-key",
                                 private_key=load_private_key(c.keys["carol"].private_pem), now=now)}


async def test_a_refused_peer_costs_nothing_and_learns_nothing(network, http):
    a, b, c = network
    # When C's signed Follow reaches alice
    follow = activity(c, "carol", "Follow", f"{a.base}/users/alice")
    status, body = await c.post(http, "carol", f"{a.base}/users/alice/inbox", follow, a.clock.now())
    # Then it is refused before any key fetch: A sent C nothing at all
    assert status == 403 and "not a peer" in body
    assert [entry for entry in c.received if entry[0] == "GET"] == []
    # And C is recorded as pending, counted, for the admins (once the counts are written)
    await a.fed.contacts.flush(a.db)
    pending = await _peer(a, c.authority)
    assert pending.state is PeerState.pending and pending.request_count == 1
    await c.post(http, "carol", f"{a.base}/inbox", follow, a.clock.now())
    await a.fed.contacts.flush(a.db)
    assert (await _peer(a, c.authority)).request_count == 2
    async with a.db.sessions() as session:
        assert await session.scalar(select(Follow)) is None

    # And A refuses to resolve C's accounts, without touching the network
    with pytest.raises(RemoteError, match="not an allowed peer"):
        await resolve_account(a.fed, f"carol@{c.authority}")
    assert c.received == [entry for entry in c.received if entry[0] == "POST"]
    # and queues nothing for C, even for a follower it somehow knows of
    async with a.db.sessions.begin() as session:
        carol = Actor(uri=f"{c.base}/users/carol", local=False, type=ActorType.Person, username="carol",
                      domain=c.authority, inbox=f"{c.base}/users/carol/inbox", key_id=f"{c.base}/users/carol#main-key",
                      public_key_pem=c.keys["carol"].public_pem)
        session.add(carol)
        await session.flush()
        session.add(Follow(follower_id=carol.id, followee_id=(await a.actor("alice")).id, state=FollowState.accepted))

    # And C's signed GET of A's actor is 403; unsigned gets the key-only form
    actor_url = f"{a.base}/users/alice"
    async with http.get(actor_url, headers=_signed_get(c, actor_url, a.clock.now())) as r:
        assert r.status == 403
    async with http.get(actor_url, headers=AP) as r:
        key_only = await r.json(content_type=None)
    assert set(key_only) == {"@context", "id", "type", "preferredUsername", "inbox", "publicKey"}
    # and unsigned GETs of collections and objects are 401
    post = await _post(a, "alice", "hello")
    async with a.db.sessions() as session:
        assert await session.scalar(select(Delivery).where(Delivery.peer == c.authority)) is None
    for url in (f"{actor_url}/outbox", f"{actor_url}/followers", f"{actor_url}/outbox?page=true", post.uri):
        async with http.get(url, headers=AP) as r:
            assert r.status == 401, url
    # the instance actor stays readable unsigned
    async with http.get(f"{a.base}/actor", headers=AP) as r:
        assert r.status == 200 and "outbox" in await r.json(content_type=None)


async def test_webfinger_answers_unsigned_lookups_but_not_a_refused_signer(network, http):
    a, b, c = network
    url = str(URL(f"{a.base}/.well-known/webfinger?resource=acct:alice@{a.urls.authority}"))
    # When anyone looks alice up unsigned (as Mastodon peers do), Then she is found
    async with http.get(url) as r:
        assert r.status == 200 and (await r.json(content_type=None))["subject"].startswith("acct:alice@")
    # and an allowed peer's signed lookup finds her too
    async with http.get(url, headers=b.fed.sign_get("GET", url)) as r:
        assert r.status == 200
    # But when C, refused, signs its lookup, Then it gets 403 and nothing else
    async with http.get(url, headers=_signed_get(c, url, a.clock.now())) as r:
        body = await r.text()
        assert r.status == 403 and "alice" not in body


async def _post(instance: Instance, username: str, text: str):
    async with instance.db.sessions.begin() as session:
        return await actions.post(instance.fed, session, await instance.actor(username), content=f"<p>{text}</p>")


async def test_allowed_peers_federate_and_read_fully(network, http):
    a, b, c = network
    # B (allowed) can follow and read the full actor with a signed GET
    alice = await resolve_account(b.fed, f"alice@{a.urls.authority}")
    async with b.db.sessions.begin() as session:
        await relations.follow(b.fed, session, await b.actor("bob"), alice)
    await settle(a, b)
    async with a.db.sessions() as session:
        assert (await session.scalar(select(Follow))).state is FollowState.accepted
    headers = {**AP, **b.fed.sign_get("GET", f"{a.base}/users/alice")}
    async with http.get(f"{a.base}/users/alice", headers=headers) as r:
        assert r.status == 200 and "outbox" in await r.json(content_type=None)

    # After `allow C`, C's follow goes through
    await _decide(a, c.authority, PeerState.allowed)
    follow = activity(c, "carol", "Follow", f"{a.base}/users/alice", "2")
    status, _ = await c.post(http, "carol", f"{a.base}/users/alice/inbox", follow, a.clock.now())
    assert status == 202
    assert (await resolve_account(a.fed, f"carol@{c.authority}")).uri == f"{c.base}/users/carol"


async def test_blocking_severs_follows_and_cancels_queued_deliveries(network, http):
    a, b, c = network
    alice = await resolve_account(b.fed, f"alice@{a.urls.authority}")
    async with b.db.sessions.begin() as session:
        await relations.follow(b.fed, session, await b.actor("bob"), alice)
    bob = await resolve_account(a.fed, f"bob@{b.urls.authority}")
    async with a.db.sessions.begin() as session:
        await relations.follow(a.fed, session, await a.actor("alice"), bob)
    await settle(a, b)
    await b.stop()
    await _post(a, "alice", "queued while B is down")
    # When A blocks B
    async with a.db.sessions.begin() as session:
        await decisions.decide(session, b.urls.authority, PeerState.blocked, by="cli:admin", at=a.clock.now(),
                           note="left the consortium")
    await a.fed.reload_policy()
    # Then follows in both directions are severed and B's queued deliveries cancelled, visibly
    async with a.db.sessions() as session:
        assert set(await session.scalars(select(Follow.state))) == {FollowState.undone}
        deliveries = list(await session.scalars(select(Delivery).where(Delivery.peer == b.urls.authority,
                                                                        Delivery.state != DeliveryState.delivered)))
        entry = await session.scalar(select(AuditEntry).where(AuditEntry.subject == b.urls.authority,
                                                              AuditEntry.action == "peer.blocked"))
    assert deliveries and {d.state for d in deliveries} == {DeliveryState.cancelled}
    assert "cancelled: peer blocked" in deliveries[0].last_error
    assert entry.before["state"] == "allowed" and entry.after["state"] == "blocked"
    assert "severed 2 follows" in entry.reason and entry.actor == "cli:admin"
    # And nothing new is queued for B
    await _post(a, "alice", "after the block")
    async with a.db.sessions() as session:
        assert await session.scalar(select(Delivery).where(Delivery.state == DeliveryState.queued)) is None
    # And unblocking restores traffic but not the severed follows
    await _decide(a, b.urls.authority, PeerState.allowed)
    assert a.fed.policy.allows(b.urls.authority)
    async with a.db.sessions() as session:
        assert set(await session.scalars(select(Follow.state))) == {FollowState.undone}


async def test_block_with_purge_deletes_cached_actors(network):
    a, b, _ = network
    await resolve_account(a.fed, f"bob@{b.urls.authority}")
    await _decide(a, b.urls.authority, PeerState.blocked, purge=True)
    async with a.db.sessions() as session:
        assert await session.scalar(select(Actor).where(Actor.domain == b.urls.authority)) is None


@pytest.mark.parametrize("mode", ["blocklist", "open"])
async def test_blocklist_and_open_modes(instances, http, mode):
    a = await instances.start(federation={"mode": mode})
    await a.add_user("alice")
    c = await FakePeer().start()
    d = await FakePeer().start()
    try:
        for peer in (c, d):
            peer.add_actor("carol")
        if mode == "blocklist":
            await _decide(a, d.authority, PeerState.blocked)
        for peer, expected in ((c, 202), (d, 403 if mode == "blocklist" else 202)):
            follow = activity(peer, "carol", "Follow", f"{a.base}/users/alice")
            status, _ = await peer.post(http, "carol", f"{a.base}/users/alice/inbox", follow, a.clock.now())
            assert status == expected, (peer.authority, status)
        # unsigned reads of public things are fine outside allowlist mode
        async with http.get(f"{a.base}/users/alice/outbox", headers=AP) as r:
            assert r.status == 200
    finally:
        await c.stop()
        await d.stop()


def test_domain_normalisation_and_wildcards():
    assert decisions.normalise_domain(" Example.ORG. ") == "example.org"
    assert decisions.normalise_domain("127.0.0.2:8082") == "127.0.0.2:8082"
    assert decisions.normalise_domain("*.chu.example") == "*.chu.example"
    assert decisions.normalise_domain("hôpital.example") == "xn--hpital-ixa.example"
    for bad in ("https://x.org", "x..org", "-x.org", "a b", "x.org:99999", ""):
        with pytest.raises(decisions.PeerError):
            decisions.normalise_domain(bad)
    policy = Policy("allowlist", "self.example", allowed=frozenset({"*.chu.example", "b.example"}))
    assert policy.allows("icu.chu.example") and policy.allows("chu.example:8443") and policy.allows("self.example")
    assert not policy.allows("sub.b.example") and not policy.allows("c.example")
