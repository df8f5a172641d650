"""Conversations through the client API, driven by Mastodon.py between two real instances
(server/api/conversations.py; kept by federation.social.feeds as direct posts arrive): a thread of
direct posts is one conversation for each of its local participants, unread for whoever did
not write its newest post; read, deleted (back with the thread's next post); a public mention
makes none; a direct post from another server makes one; a conversation is its owner's alone."""

from __future__ import annotations

import asyncio

from mastodon import Mastodon

from federation.peers import decisions
from storage.models import PeerState
from tests.api_helpers import token_for
from tests.community_helpers import follow_remote
from tests.instances import settle


def _client(instance, headers) -> Mastodon:
    return Mastodon(access_token=headers["Authorization"].split()[1], api_base_url=instance.base)


def _shape(conversations) -> list[tuple[bool, list[str], str]]:
    """(unread, the other participants, the newest post's text) of each, newest first."""
    return [(c["unread"], sorted(a["acct"] for a in c["accounts"]), c["last_status"]["content"])
            for c in conversations]


async def test_a_thread_of_direct_posts_is_a_conversation_for_each_of_its_people(instances, http):
    a = await instances.start("a")
    b = await instances.start("b")
    alice_h = await token_for(a, "alice")
    alice, bob = _client(a, alice_h), _client(a, await token_for(a, "bob"))
    carol = _client(b, await token_for(b, "carol"))
    call = asyncio.to_thread

    # When alice writes to bob directly, and mentions him in a public post too
    first = await call(alice.status_post, "@bob the dose for bed 4?", visibility="direct")
    await call(alice.status_post, "@bob thanks for today", visibility="public")
    # Then each has one conversation: unread for bob, read for alice, who wrote it
    assert _shape(await call(bob.conversations)) == [(True, ["alice"], first["content"])]
    assert _shape(await call(alice.conversations)) == [(False, ["bob"], first["content"])]

    # When bob answers in the thread, Then it is still one conversation each, now unread for alice
    answer = await call(bob.status_post, "@alice 5 mg", visibility="direct", in_reply_to_id=first["id"])
    [mine] = await call(alice.conversations)
    assert _shape([mine]) == [(True, ["bob"], answer["content"])]
    # When she reads it, Then it is read
    assert (await call(alice.conversations_read, mine["id"]))["unread"] is False
    assert _shape(await call(alice.conversations))[0][0] is False
    # And bob cannot read or delete hers
    async with http.delete(f"{a.base}/api/v1/conversations/{mine['id']}",
                           headers={"Authorization": f"Bearer {bob.access_token}"}) as r:
        assert r.status == 404

    # When carol on B writes to alice directly, Then alice has a second conversation, unread
    await follow_remote(b, "carol", f"alice@{a.urls.authority}")
    await settle(a, b)
    from_b = await call(carol.status_post, f"@alice@{a.urls.authority} can we borrow a pump?", visibility="direct")
    await settle(a, b)
    # (ordered by their newest posts' ids; a peer's post's id is placed at its `published`, which
    # B's test clock sets apart from A's: the order is not asserted)
    conversations = sorted(_shape(await call(alice.conversations)), key=lambda c: c[1])
    assert [(unread, accounts) for unread, accounts, _ in conversations] == [
        (False, ["bob"]), (True, [f"carol@{b.urls.authority}"])]
    assert "borrow a pump" in conversations[1][2] and from_b["uri"]

    # When alice deletes her conversation with bob, Then it is gone, and comes back with the
    # thread's next direct post
    async with http.delete(f"{a.base}/api/v1/conversations/{mine['id']}", headers=alice_h) as r:
        assert r.status == 200
    assert [accounts for _, accounts, _ in _shape(await call(alice.conversations))] == [[f"carol@{b.urls.authority}"]]
    await call(bob.status_post, "@alice and 10 at night", visibility="direct", in_reply_to_id=answer["id"])
    assert sorted(accounts for _, accounts, _ in _shape(await call(alice.conversations))) == [
        ["bob"], [f"carol@{b.urls.authority}"]]

    # When alice answers mallory's public post directly (to bob, and so to mallory, whom a reply
    # names), and mallory answers the same post directly to alice alone, Then mallory's is a
    # conversation of its own: it never takes the place of alice's (nor hides it, once she mutes
    # mallory)
    mallory = _client(a, await token_for(a, "mallory"))
    public = await call(mallory.status_post, "Night shift swaps, anyone?")
    await call(alice.status_post, "@bob shall we?", visibility="direct", in_reply_to_id=public["id"])
    await call(mallory.status_post, "@alice look here", visibility="direct", in_reply_to_id=public["id"])
    assert sorted(accounts for _, accounts, _ in _shape(await call(alice.conversations))) == [
        ["bob"], ["bob", "mallory"], [f"carol@{b.urls.authority}"], ["mallory"]]
    await call(alice.account_mute, (await a.actor("mallory")).id)
    assert sorted(accounts for _, accounts, _ in _shape(await call(alice.conversations))) == [
        ["bob"], ["bob", "mallory"], [f"carol@{b.urls.authority}"]]

    # When A's admin blocks B, Then carol's direct posts leave alice's conversations
    async with a.db.sessions.begin() as session:
        await decisions.decide(session, b.urls.authority, PeerState.blocked, by="test", at=a.clock.now())
    await a.fed.reload_policy()
    assert sorted(accounts for _, accounts, _ in _shape(await call(alice.conversations))) == [["bob"], ["bob", "mallory"]]
