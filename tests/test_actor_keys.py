"""No actor can claim another's key: every path that stores a remote actor (first fetch, key
refetch, Update, WebFinger resolve) checks that the actor's id, its key's id and the key's owner
share one origin, and that the key is not bound to another actor. A violation is refused with a
reason (403 at intake, an ignored inbox item in the worker, 401 for a signature, RemoteError for
a lookup), never written, and never a 500 from the unique key id; the key's real owner still
delivers afterwards.

Two fake peers on loopback are two origins: M (mallory, eve) and B (bob).
"""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from federation.remote.resolve import RemoteError, resolve_account, resolve_actor
from storage.models import Actor, InboxState
from tests.api_helpers import token_for
from tests.fakepeer import FakePeer, activity, fixture_keys
from tests.intake import inbox_item, store_unchecked


@pytest.fixture
async def world(instances, http):
    """A with alice; mallory@M and bob@B each made a first valid request, so A stores both."""
    a = await instances.start()
    await a.add_user("alice")
    m, b = await FakePeer().start(), await FakePeer().start()
    m.add_actor("mallory", key=0)
    b.add_actor("bob", key=1)
    for peer, name in ((m, "mallory"), (b, "bob")):
        follow = activity(peer, name, "Follow", f"{a.base}/users/alice", "first")
        assert (await peer.post(http, name, f"{a.base}/inbox", follow, a.clock.now()))[0] == 202
    await a.step()
    yield a, m, b
    await m.stop()
    await b.stop()


async def _stored_key(a, uri: str) -> str | None:
    async with a.db.sessions() as session:
        return await session.scalar(select(Actor.key_id).where(Actor.uri == uri))


async def _bob_still_delivers(a, b, http, suffix: str) -> None:
    like = activity(b, "bob", "Follow", f"{a.base}/users/alice", suffix)
    status, text = await b.post(http, "bob", f"{a.base}/inbox", like, a.clock.now())
    assert status == 202, text
    await a.step()
    assert (await inbox_item(a, like["id"])).state is InboxState.done


def _mallory_with_key(m: FakePeer, key_id: str, owner: str | None = None) -> dict:
    document = dict(m.actors["mallory"])
    document["publicKey"] = {**document["publicKey"], "id": key_id, "owner": owner or document["id"]}
    return document


def _claims(m: FakePeer, b: FakePeer) -> dict[str, tuple[str, str | None, str]]:
    bob_key = f"{b.base}/users/bob#main-key"
    return {
        "bob's key on B": (bob_key, None, "claims a key on another host"),
        "a key on M owned on B": (f"{m.base}/users/mallory#second-key", f"{b.base}/users/bob", "owned on another host"),
    }


@pytest.mark.parametrize("claim", ["bob's key on B", "a key on M owned on B"])
async def test_an_update_claiming_a_foreign_key_is_refused_at_intake(world, http, claim):
    # Given A knows mallory@M and bob@B
    a, m, b = world
    key_id, owner, reason = _claims(m, b)[claim]
    before = await _stored_key(a, m.actors["mallory"]["id"])

    # When mallory sends an Update of herself whose key is on (or owned on) another host
    act = activity(m, "mallory", "Update", _mallory_with_key(m, key_id, owner), "steal")
    status, text = await m.post(http, "mallory", f"{a.base}/inbox", act, a.clock.now())

    # Then it is refused with the reason, her stored key is unchanged, and bob still delivers
    assert status == 403 and reason in text, text
    assert await _stored_key(a, m.actors["mallory"]["id"]) == before
    await _bob_still_delivers(a, b, http, "after-steal")


@pytest.mark.parametrize("claim", ["bob's key on B", "a key on M owned on B"])
async def test_the_worker_refuses_a_foreign_key_update_that_got_past_intake(world, http, claim):
    # Given the same Update already in the queue (stored by a version without the intake check)
    a, m, b = world
    key_id, owner, reason = _claims(m, b)[claim]
    before = await _stored_key(a, m.actors["mallory"]["id"])
    act = activity(m, "mallory", "Update", _mallory_with_key(m, key_id, owner), "queued-steal")
    await store_unchecked(a, act)

    # When the worker runs it
    await a.step()

    # Then it is ignored with the reason, nothing changed, and bob's deliveries still verify
    item = await inbox_item(a, act["id"])
    assert item.state is InboxState.ignored and reason in item.last_error
    assert await _stored_key(a, m.actors["mallory"]["id"]) == before
    await _bob_still_delivers(a, b, http, "after-queued-steal")


async def test_an_update_taking_a_key_bound_to_another_actor_of_the_same_host_is_refused(world, http):
    # Given A knows eve@M as well
    a, m, _ = world
    eve = m.add_actor("eve", key=2)
    await resolve_actor(a.fed, eve)
    eve_key = f"{eve}#main-key"
    before = await _stored_key(a, m.actors["mallory"]["id"])

    # When mallory updates herself with eve's key id, at the inbox and past it
    act = activity(m, "mallory", "Update", _mallory_with_key(m, eve_key), "take-eve")
    status, text = await m.post(http, "mallory", f"{a.base}/inbox", act, a.clock.now())
    queued = activity(m, "mallory", "Update", _mallory_with_key(m, eve_key), "take-eve-queued")
    await store_unchecked(a, queued)
    await a.step()

    # Then both are refused with the reason, and the keys stay where they were
    assert status == 403 and f"which is {eve}'s" in text, text
    item = await inbox_item(a, queued["id"])
    assert item.state is InboxState.ignored and f"which is {eve}'s" in item.last_error
    assert await _stored_key(a, m.actors["mallory"]["id"]) == before
    assert await _stored_key(a, eve) == eve_key


async def test_a_key_refetch_finding_the_key_bound_to_another_actor_is_a_401_not_a_500(world, http):
    # Given mallory@M signs with a key published as its own document (GoToSocial's stub shape)
    a, m, _ = world
    key_url = m.serve("/keys/shared", {"id": f"{m.base}/keys/shared", "owner": m.actors["mallory"]["id"],
                                       "publicKeyPem": fixture_keys(0).public_pem})
    mallory = _mallory_with_key(m, key_url)
    m.serve("/users/mallory", mallory)
    like = activity(m, "mallory", "Follow", f"{a.base}/users/alice", "stub")
    assert (await m.post(http, "mallory", f"{a.base}/inbox", like, a.clock.now(), key_id=key_url))[0] == 202
    assert await _stored_key(a, mallory["id"]) == key_url

    # When M's stub now names eve as the key's owner, eve publishes the same key id with her own
    # key, and eve signs with it (a failed check, so A refetches the key)
    eve = m.add_actor("eve", key=2)
    m.serve("/users/eve", {**m.actors["eve"], "publicKey": {"id": key_url, "owner": eve,
                                                            "publicKeyPem": fixture_keys(2).public_pem}})
    m.serve("/keys/shared", {"id": key_url, "owner": eve, "publicKeyPem": fixture_keys(2).public_pem})
    follow = activity(m, "eve", "Follow", f"{a.base}/users/alice", "stub-eve")
    status, text = await m.post(http, "eve", f"{a.base}/inbox", follow, a.clock.now(), key_id=key_url)

    # Then the request is refused as unsigned-for (401), not failed on the unique key (500)
    assert status == 401, text
    assert await _stored_key(a, mallory["id"]) == key_url
    assert await _stored_key(a, eve) is None


async def test_resolving_an_actor_whose_key_is_bound_to_another_actor_is_refused(world, http, caplog):
    # Given eve@M, whose document claims mallory's key id (same host, already bound to mallory)
    a, m, _ = world
    mallory_key = m.actors["mallory"]["publicKey"]["id"]
    eve = m.add_actor("eve", key=2)
    m.actors["eve"]["publicKey"]["id"] = mallory_key

    # When A resolves her by id, by WebFinger, and through the search API
    with pytest.raises(RemoteError, match="which is .*mallory's"):
        await resolve_actor(a.fed, eve)
    with pytest.raises(RemoteError, match="which is .*mallory's"):
        await resolve_account(a.fed, f"eve@{m.authority}")
    headers = await token_for(a, "reader")
    async with http.get(f"{a.base}/api/v2/search", params={"q": f"eve@{m.authority}", "resolve": "true"},
                        headers=headers) as response:
        found = await response.json()

    # Then nothing is stored, the search answers without her (not with a 500), and each refusal is logged
    assert response.status == 200 and found["accounts"] == []
    refusals = [r for r in caplog.records if r.name == "federation.remote.actors" and "refused the actor document" in r.getMessage()]
    assert len(refusals) == 3 and all("mallory" in r.getMessage() for r in refusals)
    assert await _stored_key(a, eve) is None
    assert await _stored_key(a, m.actors["mallory"]["id"]) == mallory_key


@pytest.mark.parametrize("claim", ["bob's key on B", "a key on M owned on B"])
async def test_webfinger_resolve_of_an_actor_claiming_a_foreign_key_is_refused(world, http, claim):
    # Given eve@M, whose document claims a key on B (or owned on B)
    a, m, b = world
    key_id, owner, reason = _claims(m, b)[claim]
    eve = m.add_actor("eve", key=2)
    m.actors["eve"]["publicKey"].update(id=key_id, owner=owner or eve)

    # When A resolves eve@M through WebFinger
    with pytest.raises(RemoteError, match=reason):
        await resolve_account(a.fed, f"eve@{m.authority}")

    # Then she is not stored, and bob's key and deliveries are untouched
    assert await _stored_key(a, eve) is None
    await _bob_still_delivers(a, b, http, "after-webfinger")


async def test_a_stored_binding_to_a_key_on_another_host_is_not_trusted(world, http):
    # Given a forged binding stored before the checks existed: mallory's row holds bob's key id
    a, m, b = world
    bob_key = f"{b.base}/users/bob#main-key"
    async with a.db.sessions.begin() as session:
        await session.execute(update(Actor).where(Actor.uri == b.actors["bob"]["id"]).values(key_id=f"{bob_key}-old"))
        await session.execute(update(Actor).where(Actor.uri == m.actors["mallory"]["id"]).values(key_id=bob_key))
    a.fed.keys.forget(bob_key)  # as after a restart: the rows are all A knows

    # When mallory signs with her own private key under bob's key id (B's host, so B's policy)
    like = activity(m, "mallory", "Follow", f"{a.base}/users/alice", "forged-binding")
    status, text = await m.post(http, "mallory", f"{a.base}/inbox", like, a.clock.now(), key_id=bob_key)

    # Then the stored row is not taken as the key's owner: the key is fetched from B, and the
    # signature does not verify with it
    assert status == 401, text


async def test_a_key_document_naming_an_owner_who_does_not_publish_that_key_is_refused(world, http):
    # Given eve@M, unknown to A, and a key document on M naming her as its owner, while her actor
    # document publishes only her main key (with the same key material)
    a, m, _ = world
    eve = m.add_actor("eve", key=2)
    orphan = m.serve("/keys/orphan", {"id": f"{m.base}/keys/orphan", "owner": eve,
                                      "publicKeyPem": fixture_keys(2).public_pem})

    # When eve signs under that key id
    follow = activity(m, "eve", "Follow", f"{a.base}/users/alice", "orphan")
    status, text = await m.post(http, "eve", f"{a.base}/inbox", follow, a.clock.now(), key_id=orphan)

    # Then it is refused: a key is eve's only if her own document says so
    assert status == 401 and "does not publish the key" in text, text
