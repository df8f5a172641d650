"""Every bad inbox request gets its specific status, and none of them changes the database.

A fake peer signs exactly the bytes each case needs, with real keys; nothing is mocked.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from federation.inbox import worker
from storage.models import Base, InboxItem, InboxState
from tests.fakepeer import FakePeer, activity, fixture_keys


async def _counts(instance) -> dict[str, int]:
    async with instance.db.sessions() as session:
        return {name: await session.scalar(select(func.count()).select_from(table))
                for name, table in Base.metadata.tables.items()}


@pytest.fixture
async def setup(instances, http):
    """A with alice; a fake peer with mallory and bob, both already known to A (their keys
    were fetched by a first, valid request), and bob's note stored on A."""
    a = await instances.start()
    await a.add_user("alice")
    peer = await FakePeer().start()
    peer.add_actor("mallory", key=0)
    peer.add_actor("bob", key=1)
    inbox = f"{a.base}/users/alice/inbox"
    note = {"id": f"{peer.base}/users/bob/statuses/1", "type": "Note", "attributedTo": f"{peer.base}/users/bob",
            "content": "<p>bob's note</p>", "to": ["https://www.w3.org/ns/activitystreams#Public"]}
    for name, act in (("mallory", activity(peer, "mallory", "Follow", f"{a.base}/users/alice")),
                      ("bob", activity(peer, "bob", "Create", note))):
        assert (await peer.post(http, name, inbox, act, a.clock.now()))[0] == 202
    await a.step()
    yield a, peer, inbox, note
    await peer.stop()


async def _rejected(http, a, inbox, body: bytes, headers: dict, status: int, reason: str) -> None:
    before = await _counts(a)
    async with http.post(inbox, data=body, headers=headers) as response:
        assert response.status == status, await response.text()
        assert reason in (await response.json())["error"]
    assert await _counts(a) == before


def _body(obj) -> bytes:
    return json.dumps(obj).encode()


async def test_wrong_key(setup, http):
    a, peer, inbox, _ = setup
    body = _body(activity(peer, "mallory", "Like", f"{a.base}/users/alice", "wk"))
    headers = peer.signed_headers("mallory", inbox, body, a.clock.now(), key=fixture_keys(5))
    await _rejected(http, a, inbox, body, headers, 401, "signature")


async def test_body_changed_after_signing(setup, http):
    a, peer, inbox, _ = setup
    body = _body(activity(peer, "mallory", "Like", f"{a.base}/users/alice", "bc"))
    headers = peer.signed_headers("mallory", inbox, body, a.clock.now())
    await _rejected(http, a, inbox, body.replace(b"Like", b"Block"), headers, 401, "digest")


async def test_digest_header_mismatch(setup, http):
    a, peer, inbox, _ = setup
    body = _body(activity(peer, "mallory", "Like", f"{a.base}/users/alice", "dm"))
    headers = peer.signed_headers("mallory", inbox, body, a.clock.now())
    headers["Digest"] = "SHA-256=" + "A" * 43 + "="
    await _rejected(http, a, inbox, body, headers, 401, "igest")


@pytest.mark.parametrize("hours", [-2, 2])
async def test_date_outside_the_window(setup, http, hours):
    a, peer, inbox, _ = setup
    body = _body(activity(peer, "mallory", "Like", f"{a.base}/users/alice", f"d{hours}"))
    headers = peer.signed_headers("mallory", inbox, body, a.clock.now() + timedelta(hours=hours))
    await _rejected(http, a, inbox, body, headers, 401, "window")


async def test_key_of_another_actor(setup, http):
    a, peer, inbox, _ = setup
    body = _body(activity(peer, "bob", "Follow", f"{a.base}/users/alice", "ko"))
    headers = peer.signed_headers("mallory", inbox, body, a.clock.now())  # mallory's key, bob's activity
    await _rejected(http, a, inbox, body, headers, 401, "actor is")


async def test_replayed_activity_changes_nothing(setup, http):
    a, peer, inbox, _ = setup
    body = _body(activity(peer, "mallory", "Like", f"{a.base}/users/alice", "rp"))
    headers = peer.signed_headers("mallory", inbox, body, a.clock.now())
    async with http.post(inbox, data=body, headers=headers) as response:
        assert response.status == 202
    before = await _counts(a)
    # the identical request again: acknowledged, nothing stored twice
    async with http.post(inbox, data=body, headers=headers) as response:
        assert response.status == 202
    assert await _counts(a) == before
    # and the same bytes two hours later are stale
    a.clock.advance(hours=2)
    await _rejected(http, a, inbox, body, headers, 401, "window")


async def test_unsigned_post(setup, http):
    a, peer, inbox, _ = setup
    body = _body(activity(peer, "mallory", "Like", f"{a.base}/users/alice", "un"))
    await _rejected(http, a, inbox, body, {"Content-Type": "application/activity+json"}, 401, "not signed")


async def test_a_strangers_delete_of_itself_is_acknowledged_and_nothing_else_is(setup, http):
    # Given ghost, an actor of the peer A never knew, whose key is gone with it (404)
    a, peer, inbox, note = setup
    ghost = f"{peer.base}/users/ghost"
    gone = {"id": f"{ghost}#delete", "type": "Delete", "actor": ghost, "object": ghost,
            "to": ["https://www.w3.org/ns/activitystreams#Public"]}
    # When its server tells A it deleted itself, Then A acknowledges it (its server would retry
    # a refusal for days), and stores nothing
    body = _body(gone)
    headers = peer.signed_headers("ghost", inbox, body, a.clock.now(), key=fixture_keys(4), key_id=f"{ghost}#main-key")
    before = await _counts(a)
    async with http.post(inbox, data=body, headers=headers) as response:
        assert response.status == 202, await response.text()
    assert await _counts(a) == before
    # But its Delete of anything else, and a known actor's Delete of itself signed by a key
    # that cannot be fetched, are refused as before
    for activity_ in ({**gone, "id": f"{ghost}#delete-note", "object": note["id"]},
                      {**gone, "id": f"{peer.base}/users/bob#delete", "actor": f"{peer.base}/users/bob",
                       "object": f"{peer.base}/users/bob"}):
        body = _body(activity_)
        headers = peer.signed_headers("ghost", inbox, body, a.clock.now(), key=fixture_keys(4),
                                      key_id=f"{ghost}#main-key")
        await _rejected(http, a, inbox, body, headers, 401, "cannot get the signing key")


async def test_oversized_body(setup, http):
    a, peer, inbox, _ = setup
    body = b'{"padding": "' + b"x" * 1_100_000 + b'"}'
    headers = peer.signed_headers("mallory", inbox, body, a.clock.now())
    await _rejected(http, a, inbox, body, headers, 413, "larger than")


async def test_not_json(setup, http):
    a, peer, inbox, _ = setup
    body = b"<html>not json</html>"
    headers = peer.signed_headers("mallory", inbox, body, a.clock.now())
    await _rejected(http, a, inbox, body, headers, 400, "not JSON")


@pytest.mark.parametrize("kind, embedded, reason", [
    ("Create", lambda peer: {"id": f"{peer.base}/users/mallory/statuses/9", "type": "Note", "content": "<p>x</p>"},
     "has no attributedTo"),
    ("Update", lambda peer: {**peer.actors["mallory"], "publicKey": None}, "has no publicKey"),
    ("Undo", lambda peer: {"type": "Follow", "actor": f"{peer.base}/users/mallory", "object": "x"}, "'id'"),
])
async def test_malformed_embedded_object(setup, http, kind, embedded, reason):
    # The inbox parses only an activity's head, but it must refuse all the worker could not parse.
    a, peer, inbox, _ = setup
    body = _body(activity(peer, "mallory", kind, embedded(peer), "me"))
    headers = peer.signed_headers("mallory", inbox, body, a.clock.now())
    await _rejected(http, a, inbox, body, headers, 400, reason)


@pytest.mark.parametrize("bad_id", ["https://[peer/activities/1", "https://peer.example:99999/activities/1",
                                    "https://@/activities/1"])
async def test_malformed_activity_id(setup, http, bad_id):
    a, peer, inbox, _ = setup
    body = _body({**activity(peer, "mallory", "Like", f"{a.base}/users/alice", "id"), "id": bad_id})
    headers = peer.signed_headers("mallory", inbox, body, a.clock.now())
    await _rejected(http, a, inbox, body, headers, 400, "needs an absolute http(s) 'id'")


async def test_wrong_content_type(setup, http):
    a, peer, inbox, _ = setup
    body = _body(activity(peer, "mallory", "Like", f"{a.base}/users/alice", "ct"))
    headers = peer.signed_headers("mallory", inbox, body, a.clock.now())
    headers["Content-Type"] = "text/plain"
    await _rejected(http, a, inbox, body, headers, 415, "content type")


async def test_object_claimed_by_a_foreign_actor(setup, http):
    a, peer, inbox, note = setup
    forged = {**note, "id": f"{peer.base}/users/bob/statuses/2", "content": "<p>forged</p>"}
    body = _body(activity(peer, "mallory", "Create", forged, "fc"))
    headers = peer.signed_headers("mallory", inbox, body, a.clock.now())
    await _rejected(http, a, inbox, body, headers, 403, "attributed to")


async def test_delete_of_someone_elses_post(setup, http):
    a, peer, inbox, note = setup
    body = _body(activity(peer, "mallory", "Delete", note["id"], "del"))
    headers = peer.signed_headers("mallory", inbox, body, a.clock.now())
    await _rejected(http, a, inbox, body, headers, 403, "it is")


async def test_unknown_type_is_acknowledged_and_recorded(setup, http):
    a, peer, inbox, _ = setup
    act = activity(peer, "mallory", "Arrive", f"{a.base}/users/alice", "ar")
    assert (await peer.post(http, "mallory", inbox, act, a.clock.now()))[0] == 202
    await worker.run_once(a.fed)
    async with a.db.sessions() as session:
        item = await session.scalar(select(InboxItem).where(InboxItem.activity_uri == act["id"]))
    assert item.state is InboxState.ignored and "no handler for Arrive" in item.last_error
