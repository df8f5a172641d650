"""A reply's `in_reply_to_id` and `in_reply_to_account_id`, read through Mastodon.py, the real
client library: every app threads conversations with these two fields, so they must be the
parent's status id and its author's account id (as strings), for a local parent and a remote one.

Mastodon.py is synchronous (requests) and the servers run in this test's event loop, so every
client call runs in a thread.
"""

from __future__ import annotations

import asyncio

from mastodon import Mastodon

from tests.api_helpers import token_for
from tests.instances import Instance, settle

call = asyncio.to_thread


async def _client(instance: Instance, username: str) -> Mastodon:
    headers = await token_for(instance, username)
    token = headers["Authorization"].removeprefix("Bearer ")
    return await call(Mastodon, access_token=token, api_base_url=instance.base)


def _assert_reply_of(reply, parent) -> None:
    assert reply["in_reply_to_id"] == parent["id"], (reply["in_reply_to_id"], parent["id"])
    assert reply["in_reply_to_account_id"] == parent["account"]["id"]


async def test_a_local_reply_names_its_local_parent_and_its_author(instances):
    # Given alice's post on A
    a = await instances.start("a")
    alice, bob = await _client(a, "alice"), await _client(a, "bob")
    parent = await call(alice.status_post, "Handover checklist for night shifts")

    # When bob replies to it
    reply = await call(bob.status_post, "We use the same one", in_reply_to_id=parent["id"])

    # Then the reply names alice's post and alice, as created, as shown, and in the thread
    _assert_reply_of(reply, parent)
    _assert_reply_of(await call(bob.status, reply["id"]), parent)
    descendants = (await call(alice.status_context, parent["id"]))["descendants"]
    assert [s["id"] for s in descendants] == [reply["id"]]
    _assert_reply_of(descendants[0], parent)
    # and a post that replies to nothing names nothing
    assert parent["in_reply_to_id"] is None and parent["in_reply_to_account_id"] is None


async def test_replies_across_instances_name_their_parents(instances):
    # Given alice@A follows bob@B, and bob posts
    a, b = await instances.start("a"), await instances.start("b")
    alice, bob = await _client(a, "alice"), await _client(b, "bob")
    found = await call(alice.search_v2, f"bob@{b.urls.authority}", resolve=True)
    await call(alice.account_follow, found["accounts"][0])
    await settle(a, b)
    bob_post = await call(bob.status_post, "Sepsis bundle compliance, Q3")
    await settle(a, b)
    copy = next(s for s in await call(alice.timeline_home) if s["uri"] == bob_post["uri"])

    # When alice replies on A to her copy of bob's post (a remote parent)
    reply = await call(alice.status_post, "Ours went up after the e-alert", in_reply_to_id=copy["id"])

    # Then on A the reply names the copy and bob's account as A knows them
    _assert_reply_of(reply, copy)
    _assert_reply_of(await call(alice.status, reply["id"]), copy)

    # And on B, where alice's reply arrives from afar, it names bob's own post and bob
    await settle(a, b)
    descendants = (await call(bob.status_context, bob_post["id"]))["descendants"]
    assert [s["uri"] for s in descendants] == [reply["uri"]]
    _assert_reply_of(descendants[0], bob_post)
    _assert_reply_of(await call(bob.status, descendants[0]["id"]), bob_post)
