"""One poison message must not stop the inbox.

Intake refuses JSON nested deeper than [server] max_json_depth (400, nothing stored), and so does
the client API; the worker handles every item alone, so rows that cannot be decoded, parsed or
handled fail one by one, are dead after inbox_max_attempts, and never hold up the next good
activity; an admin retries or discards them with `rounds queue`. A fake peer signs exactly the
bytes each case needs, with real keys.
"""

from __future__ import annotations

import json
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from federation.inbox import worker

from federation.peers import decisions
from federation.inbox.handlers import HANDLERS
from storage.ids import new_id
from storage.models import AuditEntry, Base, Follow, InboxItem, InboxState, PeerState
from tests.api_helpers import token_for
from tests.cli_helpers import run_cli
from tests.fakepeer import FakePeer, activity

LIMIT = 32  # [server] max_json_depth, its default


def nested(depth: int) -> str:
    """A JSON array `depth` levels deep, built as text (json.dumps would recurse)."""
    return "[" * depth + "]" * depth


def with_extra(document: dict, value_text: str) -> bytes:
    """`document` as JSON, with one more member whose value is the JSON text `value_text`."""
    return (json.dumps(document)[:-1] + ', "extra": ' + value_text + "}").encode()


async def _counts(instance) -> dict[str, int]:
    async with instance.db.sessions() as session:
        return {name: await session.scalar(select(func.count()).select_from(table))
                for name, table in Base.metadata.tables.items()}


async def _items(instance) -> dict[str, InboxItem]:
    async with instance.db.sessions() as session:
        return {item.activity_uri: item for item in await session.scalars(select(InboxItem))}


@pytest.fixture
async def peer():
    peer = await FakePeer().start()
    peer.add_actor("mallory", key=0)
    peer.add_actor("bob", key=1)
    yield peer
    await peer.stop()


# --- intake -------------------------------------------------------------------------------------

@pytest.mark.parametrize("depth", [LIMIT, 1_020, 100_000])
async def test_a_signed_activity_nested_too_deep_gets_400_and_nothing_is_stored(instances, http, peer, depth):
    # Given A with alice, and a peer whose key A already has
    a = await instances.start()
    await a.add_user("alice")
    inbox = f"{a.base}/users/alice/inbox"
    assert (await peer.post(http, "mallory", inbox, activity(peer, "mallory", "Like", f"{a.base}/x", "k"),
                            a.clock.now()))[0] == 202
    before = await _counts(a)
    # When it signs and sends an activity whose "extra" member nests `depth` arrays (one more
    # level than that in all, the activity itself being an object)
    body = with_extra(activity(peer, "mallory", "Follow", f"{a.base}/users/alice", f"deep-{depth}"), nested(depth))
    async with http.post(inbox, data=body, headers=peer.signed_headers("mallory", inbox, body, a.clock.now())) as r:
        # Then it gets 400 naming the limit, never a 500, and nothing is stored
        assert r.status == 400, await r.text()
        assert f"nested more than {LIMIT} levels deep" in (await r.json())["error"]
    assert await _counts(a) == before


async def test_an_activity_nested_as_deep_as_allowed_is_accepted_and_handled(instances, http, peer):
    # Given A with alice
    a = await instances.start()
    alice = await token_for(a, "alice")
    inbox = f"{a.base}/users/alice/inbox"
    # When bob follows alice with an activity nested exactly max_json_depth deep
    follow = activity(peer, "bob", "Follow", f"{a.base}/users/alice", "just-deep-enough")
    body = with_extra(follow, nested(LIMIT - 1))
    async with http.post(inbox, data=body, headers=peer.signed_headers("bob", inbox, body, a.clock.now())) as r:
        assert r.status == 202, await r.text()
    # Then the worker, decoding it with the same bound, handles it: alice has a new follower
    await worker.run_once(a.fed)
    assert (await _items(a))[follow["id"]].state is InboxState.done
    async with http.get(f"{a.base}/api/v1/notifications", headers=alice) as r:
        assert [(n["type"], n["account"]["username"]) for n in await r.json()] == [("follow", "bob")]


@pytest.mark.parametrize("what, change, reason", [
    ("id", {"id": "/activities/nul\u0000"}, "holds a NUL"),
    ("id", {"id": "/activities/surrogate\ud800"}, "lone surrogate"),
])
async def test_an_activity_whose_identifiers_cannot_be_stored_gets_400(instances, http, peer, what, change, reason):
    # Given A with alice, who has bob's key already
    a = await instances.start()
    await a.add_user("alice")
    inbox = f"{a.base}/users/alice/inbox"
    assert (await peer.post(http, "bob", inbox, activity(peer, "bob", "Like", f"{a.base}/x", "k"),
                            a.clock.now()))[0] == 202
    before = await _counts(a)
    # When bob sends an activity whose id or type the database could not store as it is
    like = activity(peer, "bob", "Like", f"{a.base}/users/alice")
    if "id" in change:
        change = {"id": f"{peer.base}/users/bob{change['id']}"}
    body = json.dumps(like | change).encode()  # ASCII, with \u escapes
    async with http.post(inbox, data=body, headers=peer.signed_headers("bob", inbox, body, a.clock.now())) as r:
        # Then it is refused with the reason, and nothing is stored
        assert r.status == 400, await r.text()
        assert f"the activity's {what}" in (body_json := await r.json())["error"] and reason in body_json["error"]
    assert await _counts(a) == before


async def test_a_client_api_body_nested_too_deep_gets_400(api):
    # Given alice with a token
    a, http, alice, _ = api
    url = f"{a.base}/api/v1/statuses"
    headers = {**alice, "Content-Type": "application/json"}
    # When she posts a status whose JSON body nests 100,000 (or 1,020) arrays deep
    for depth in (100_000, 1_020):
        body = '{"status": "x", "extra": ' + nested(depth) + "}"
        async with http.post(url, data=body, headers=headers) as r:
            # Then it gets 400, never a 500
            assert r.status == 400, await r.text()
            assert f"nested more than {LIMIT} levels deep" in (await r.json())["error"]
    # And a body exactly as deep as allowed still posts
    body = '{"status": "fine", "extra": ' + nested(LIMIT - 1) + "}"
    async with http.post(url, data=body, headers=headers) as r:
        assert r.status == 200, await r.text()
    async with http.get(f"{a.base}/api/v1/timelines/home", headers=alice) as r:
        assert [s["content"] for s in await r.json()] == ["<p>fine</p>"]


# --- the worker -----------------------------------------------------------------------------------

async def _plant(instance, peer: FakePeer, name: str, raw: str, kind: str = "Create") -> int:
    """An inbox row written straight into the table, due a minute before now."""
    item_id = new_id()
    at = instance.clock.now() - timedelta(minutes=1)
    async with instance.db.sessions.begin() as session:
        session.add(InboxItem(
            id=item_id, activity_uri=f"{peer.base}/users/mallory/activities/{name}", activity_type=kind,
            actor_uri=f"{peer.base}/users/mallory", signer_key_id=f"{peer.base}/users/mallory#main-key",
            recipient_id=None, raw=raw, state=InboxState.queued, attempts=0, received_at=at, next_attempt_at=at,
        ))
    return item_id




async def _states(instance, *ids: int) -> list[tuple[InboxState, int]]:
    async with instance.db.sessions() as session:
        rows = {item.id: item for item in await session.scalars(select(InboxItem).where(InboxItem.id.in_(ids)))}
    return [(rows[i].state, rows[i].attempts) for i in ids]


async def test_bad_rows_fail_alone_die_after_the_attempts_and_an_admin_retries_or_discards_them(
        instances, http, peer, tmp_path, monkeypatch):
    # Given A (3 attempts per inbox item) with alice, who knows mallory, and a handler that raises
    a = await instances.start(federation={"inbox_max_attempts": 3})
    alice = await token_for(a, "alice")
    inbox = f"{a.base}/users/alice/inbox"
    assert (await peer.post(http, "mallory", inbox, activity(peer, "mallory", "Like", f"{a.base}/x", "k"),
                            a.clock.now()))[0] == 202
    await worker.run_once(a.fed)

    async def broken(ctx):
        raise RuntimeError("a bug in the Flag handler")

    monkeypatch.setitem(HANDLERS, "Flag", SimpleNamespace(handle=broken))
    mallory = f"{peer.base}/users/mallory"
    head = f'"@context": "https://www.w3.org/ns/activitystreams", "actor": "{mallory}"'
    # And three bad rows planted straight into the queue, ahead of everything else: one nested
    # 5,000 deep, one whose type is null (unsupported: acknowledged, never retried), one whose
    # handler raises
    deep = await _plant(a, peer, "deep", f'{{{head}, "id": "{mallory}/activities/deep", "type": "Create", '
                                         f'"object": {nested(5_000)}}}')
    untyped = await _plant(a, peer, "untyped", f'{{{head}, "id": "{mallory}/activities/untyped", "type": null, '
                                               f'"object": "{a.base}/users/alice"}}')
    raising = await _plant(a, peer, "flag", f'{{{head}, "id": "{mallory}/activities/flag", "type": "Flag", '
                                            f'"object": "{a.base}/users/alice"}}', kind="Flag")
    bad = (deep, raising)
    # And then a good signed activity: bob follows alice
    follow = activity(peer, "bob", "Follow", f"{a.base}/users/alice", "good")
    assert (await peer.post(http, "bob", inbox, follow, a.clock.now()))[0] == 202

    # When the worker runs one step
    assert await worker.run_once(a.fed) == 4

    # Then the good activity is handled: alice sees her new follower
    async with http.get(f"{a.base}/api/v1/notifications", headers=alice) as r:
        assert [(n["type"], n["account"]["username"]) for n in await r.json()] == [("follow", "bob")]
    # And each bad row failed alone, on its first attempt, with its own error
    assert await _states(a, *bad) == [(InboxState.failed, 1)] * 2
    errors = {item.id: item.last_error for item in (await _items(a)).values()}
    assert "nested more than 32 levels deep" in errors[deep]
    # And the untyped one is ignored at once, never to be retried
    assert await _states(a, untyped) == [(InboxState.ignored, 1)]
    assert "RuntimeError: a bug in the Flag handler" in errors[raising]

    # When the clock passes each backoff and the worker steps, up to the third attempt
    for attempt in (2, 3):
        assert await worker.run_once(a.fed) == 0  # not due yet: backing off
        a.clock.advance(hours=1)
        assert await worker.run_once(a.fed) == 2
        expected = InboxState.failed if attempt < 3 else InboxState.dead
        assert await _states(a, *bad) == [(expected, attempt)] * 2
    # Then they are dead, and stay so
    a.clock.advance(days=1)
    assert await worker.run_once(a.fed) == 0
    # And dead items do not make the instance unhealthy (once alice's Accept to bob is out)
    await a.delivery.run_once()
    async with http.get(f"{a.base}/healthz") as r:
        assert r.status == 200, await r.text()

    # When an admin lists the dead inbox items
    listed = run_cli(a, tmp_path, "queue", "list", "--inbox", "--state", "dead")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0].split()[:5] == ["QUEUE", "ID", "STATE", "TRIES", "TYPE"]
    assert sorted(int(line.split()[1]) for line in lines[1:]) == sorted(bad)
    assert all(line.split()[2:4] == ["dead", "3"] for line in lines[1:])
    assert any("RuntimeError: a bug in the Flag handler" in line for line in lines)
    # And asks for something wrong: an unknown id is refused (1) and changes nothing; no target is usage (2)
    refused = run_cli(a, tmp_path, "queue", "retry", "inbox", str(raising), "12345")
    assert refused.returncode == 1 and "no inbox item 12345" in refused.stderr and "Traceback" not in refused.stderr
    assert run_cli(a, tmp_path, "queue", "retry", "inbox").returncode == 2
    assert await _states(a, *bad) == [(InboxState.dead, 3)] * 2
    # And, the Flag handler fixed, retries that item and discards the other
    handled = []

    async def fixed(ctx):
        handled.append(ctx.activity.id)

    monkeypatch.setitem(HANDLERS, "Flag", SimpleNamespace(handle=fixed))
    retried = run_cli(a, tmp_path, "queue", "retry", "inbox", str(raising))
    assert retried.returncode == 0, retried.stderr
    discarded = run_cli(a, tmp_path, "queue", "discard", "inbox", str(deep))
    assert discarded.returncode == 0, discarded.stderr

    # Then the retried item is queued with its attempts from zero, and the next step handles it
    assert await _states(a, raising) == [(InboxState.queued, 0)]
    assert await worker.run_once(a.fed) == 1
    assert handled == [f"{mallory}/activities/flag"]
    assert await _states(a, *bad) == [(InboxState.discarded, 3), (InboxState.done, 1)]
    # And each change is in the audit log, with who made it and the state before and after
    async with a.db.sessions() as session:
        entries = list(await session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
    assert [(e.action, e.before["id"], e.before["state"], e.after["state"]) for e in entries] == [
        ("inbox.retry", raising, "dead", "queued"),
        ("inbox.discard", deep, "dead", "discarded"),
    ]
    assert all(e.actor.startswith("cli:") for e in entries)


async def test_an_activity_queued_before_its_peer_was_blocked_is_ignored_after(instances, http, peer):
    # Given A with alice, and bob's Follow stored but not yet handled
    a = await instances.start()
    await a.add_user("alice")
    follow = activity(peer, "bob", "Follow", f"{a.base}/users/alice", "before-block")
    assert (await peer.post(http, "bob", f"{a.base}/users/alice/inbox", follow, a.clock.now()))[0] == 202
    # When an admin blocks bob's server, and only then does the worker run
    async with a.db.sessions.begin() as session:
        await decisions.decide(session, peer.authority, PeerState.blocked, by="test", at=a.clock.now())
    await a.fed.reload_policy()
    await worker.run_once(a.fed)
    # Then the Follow is ignored: no follow exists, and the item says why
    item = (await _items(a))[follow["id"]]
    assert item.state is InboxState.ignored and "blocked after this arrived" in item.last_error
    async with a.db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Follow)) == 0
