"""Quote posts between two real Rounds instances over real HTTP (FEP-044f): bob on B quotes
alice's post on A; B asks A (QuoteRequest), A authorises it (Accept with a QuoteAuthorization),
B shows the quote accepted and sends it out again with its authorisation; alice sees it among
her post's quotes; she revokes it, and B shows it revoked."""

from __future__ import annotations

import asyncio

from mastodon import Mastodon
from sqlalchemy import select

from federation.outbox import relations
from federation.remote.resolve import resolve_account
from storage.models import Activity, Object
from tests.api_helpers import token_for
from tests.instances import settle


async def _follow(instance, follower: str, acct: str) -> None:
    remote = await resolve_account(instance.fed, acct)
    async with instance.db.sessions.begin() as session:
        await relations.follow(instance.fed, session, await instance.actor(follower), remote)


async def _id_of(instance, uri: str) -> str:
    async with instance.db.sessions() as session:
        return str(await session.scalar(select(Object.id).where(Object.uri == uri)))


async def test_a_quote_is_asked_authorised_and_revoked_across_instances(instances):
    # Given alice on A and bob on B, who follow each other
    a, b = await instances.start("a"), await instances.start("b")
    alice_headers, bob_headers = await token_for(a, "alice"), await token_for(b, "bob")
    alice = Mastodon(access_token=alice_headers["Authorization"].split()[1], api_base_url=a.base,
                     version_check_mode="none")
    bob = Mastodon(access_token=bob_headers["Authorization"].split()[1], api_base_url=b.base, version_check_mode="none")
    await _follow(b, "bob", f"alice@{a.urls.authority}")
    await _follow(a, "alice", f"bob@{b.urls.authority}")
    await settle(a, b)
    # And alice's public post, which anyone may quote, as B has it
    original = await asyncio.to_thread(alice.status_post, "Sepsis bundle: our audit", quote_approval_policy="public")
    await settle(a, b)
    on_b = await asyncio.to_thread(bob.status, await _id_of(b, original["uri"]))
    assert on_b["quote_approval"] == {"automatic": ["public"], "manual": [], "current_user": "automatic"}
    # When bob quotes it on B
    quoting = await asyncio.to_thread(bob.status_post, "Worth a read", quoted_status_id=on_b["id"])
    assert quoting["quote"] == {"state": "pending", "quoted_status": None}  # A has not answered yet
    await settle(a, b)
    # Then A authorised it, and B shows it accepted, with alice's post
    shown = await asyncio.to_thread(bob.status, quoting["id"])
    assert shown["quote"]["state"] == "accepted"
    assert shown["quote"]["quoted_status"]["uri"] == original["uri"]
    # And the QuoteRequest B sent, and A's Accept, have Mastodon's shapes
    async with b.db.sessions() as session:
        request = await session.scalar(select(Activity.raw).where(Activity.type == "QuoteRequest"))
    async with a.db.sessions() as session:
        [accept] = [raw for raw in await session.scalars(select(Activity.raw).where(Activity.type == "Accept"))
                    if "result" in raw]
    assert (request["object"], request["instrument"]) == (original["uri"], quoting["uri"])
    assert accept["object"]["id"] == request["id"] and accept["result"].startswith(f"{a.base}/users/alice/")
    # And alice sees bob's quote among her post's quotes, on A
    listed = await asyncio.to_thread(alice.status_quotes, original["id"])
    assert [s["uri"] for s in listed] == [quoting["uri"]]
    assert listed[0]["quote"]["state"] == "accepted"
    notifications = await asyncio.to_thread(alice.notifications)
    assert [(n["type"], n["status"]["uri"]) for n in notifications if n["type"] == "quote"] == [("quote", quoting["uri"])]
    # When alice revokes it
    await asyncio.to_thread(alice.status_quote_revoke, original["id"], listed[0]["id"])
    await settle(a, b)
    # Then B shows bob's quote revoked, without her post
    assert (await asyncio.to_thread(bob.status, quoting["id"]))["quote"] == {"state": "revoked", "quoted_status": None}
    assert await asyncio.to_thread(alice.status_quotes, original["id"]) == []


async def test_a_quote_the_policy_refuses_is_refused_on_the_quoters_instance(instances):
    # Given alice's post on A that only her followers may quote, and carol on B, who does not
    # follow her (bob on B does, so B has the post)
    a, b = await instances.start("a"), await instances.start("b")
    alice_headers, carol = await token_for(a, "alice"), await token_for(b, "carol")
    await b.add_user("bob")
    await _follow(b, "bob", f"alice@{a.urls.authority}")
    await settle(a, b)
    alice = Mastodon(access_token=alice_headers["Authorization"].split()[1], api_base_url=a.base,
                     version_check_mode="none")
    original = await asyncio.to_thread(alice.status_post, "Followers may quote", quote_approval_policy="followers")
    await settle(a, b)
    on_b = await _id_of(b, original["uri"])
    # When carol quotes it, Then B refuses at once: the post's policy says so
    client = Mastodon(access_token=carol["Authorization"].split()[1], api_base_url=b.base, version_check_mode="none")
    seen = await asyncio.to_thread(client.status, on_b)
    assert seen["quote_approval"]["automatic"] == ["followers"] and seen["quote_approval"]["current_user"] == "denied"
    # And when alice opens it to everyone, B learns it from her Update
    await asyncio.to_thread(alice.status_update_quote_approval_policy, original["id"], "public")
    await settle(a, b)
    seen = await asyncio.to_thread(client.status, on_b)
    assert seen["quote_approval"]["current_user"] == "automatic" and seen["edited_at"] is None


async def test_a_third_instance_verifies_the_authorisation_at_its_source(instances):
    # Given alice on A, bob on B (following her), and carol on C, who follows bob only
    a, b, c = [await instances.start(name) for name in "abc"]
    alice = await token_for(a, "alice")
    bob = await token_for(b, "bob")
    carol = await token_for(c, "carol")
    await _follow(b, "bob", f"alice@{a.urls.authority}")
    await _follow(c, "carol", f"bob@{b.urls.authority}")
    await settle(a, b, c)
    clients = {name: Mastodon(access_token=headers["Authorization"].split()[1], api_base_url=instance.base,
                              version_check_mode="none")
               for name, headers, instance in (("alice", alice, a), ("bob", bob, b), ("carol", carol, c))}
    original = await asyncio.to_thread(clients["alice"].status_post, "Hand hygiene audit")
    await settle(a, b, c)
    # When bob quotes it, and A authorises it
    quoting = await asyncio.to_thread(clients["bob"].status_post, "Read this",
                                      quoted_status_id=await _id_of(b, original["uri"]))
    await settle(a, b, c)
    # Then C, which fetched the authorisation from A and checked it, shows the quote accepted,
    # with alice's post (fetched from A too)
    on_c = await asyncio.to_thread(clients["carol"].status, await _id_of(c, quoting["uri"]))
    assert on_c["quote"]["state"] == "accepted"
    assert on_c["quote"]["quoted_status"]["uri"] == original["uri"]
    # When alice revokes it, Then B's post goes out again without it, and C shows it revoked
    on_a = await _id_of(a, quoting["uri"])
    await asyncio.to_thread(clients["alice"].status_quote_revoke, original["id"], on_a)
    await settle(a, b, c)
    on_c = await asyncio.to_thread(clients["carol"].status, await _id_of(c, quoting["uri"]))
    assert on_c["quote"] == {"state": "revoked", "quoted_status": None}
