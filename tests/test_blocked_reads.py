"""Blocking a peer hides its content from every read, by the same rule the policy uses.

`*.blocked.example` is blocked: posts already stored from a.blocked.example (and from
blocked.example:8443) leave home (with boosts of them), public, tag, notifications, search
(statuses and accounts), threads, the account's statuses and each post asked for by its id; posts from notblocked.example, whose
name only ends like the blocked one, stay. Unblocking brings everything back.

The peers' posts arrive as inbox rows processed by the real handlers, as if their signed
deliveries had been received: loopback tests cannot serve a.blocked.example.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from federation.inbox import worker

from federation.outbox import actions
from federation.protocol.vocab import AS_CONTEXT, PUBLIC
from storage.models import Follow, FollowState, InboxItem, InboxState
from tests.api_helpers import token_for
from tests.factories import remote_actor
from tests.instances import Instance

BLOCKED = ("a.blocked.example", "blocked.example:8443")
OPEN = "notblocked.example"


async def _arrives(a: Instance, document: dict) -> None:
    async with a.db.sessions.begin() as session:
        session.add(InboxItem(activity_uri=document["id"], activity_type=document["type"], actor_uri=document["actor"],
                              signer_key_id=f"{document['actor']}#main-key", raw=json.dumps(document),
                              received_at=a.clock.now(), next_attempt_at=a.clock.now()))
    await worker.run_once(a.fed)
    async with a.db.sessions() as session:
        item = await session.scalar(select(InboxItem).where(InboxItem.activity_uri == document["id"]))
    assert item.state is InboxState.done, item.last_error


def _create(author, n: int, text: str, *, mention=None, reply_to: str | None = None) -> dict:
    note = {"id": f"{author.uri}/notes/{n}", "type": "Note", "attributedTo": author.uri, "to": [PUBLIC],
            "cc": [f"{author.uri}/followers"], "content": f"<p>{text} #rounds</p>", "published": "2026-01-05T10:00:00Z",
            "tag": [{"type": "Hashtag", "name": "#rounds", "href": "https://x.example/tags/rounds"}]}
    if mention is not None:
        note["tag"].append({"type": "Mention", "href": mention.uri, "name": f"@{mention.username}"})
        note["cc"].append(mention.uri)
    if reply_to:
        note["inReplyTo"] = reply_to
    return {"@context": AS_CONTEXT, "id": f"{note['id']}/activity", "type": "Create", "actor": author.uri,
            "to": note["to"], "cc": note["cc"], "object": note}


@pytest.fixture
async def world(instances, http):
    """Alice follows a remote author on each of the three peers and local bob, who boosted the
    blocked author's post; each remote author posted, mentioned alice, replied to her, and liked
    her post, and alice replied to each of their posts."""
    a = await instances.start(federation={"mode": "blocklist"})
    alice_h = await token_for(a, "alice")
    bob_h = await token_for(a, "bob")
    admin_h = await token_for(a, "root", "admin:write", admin=True)
    alice, bob = await a.actor("alice"), await a.actor("bob")
    async with a.db.sessions.begin() as session:
        mine = await actions.post(a.fed, session, alice, content="<p>a case to discuss</p>")
        authors = [remote_actor(n, domain) for n, domain in enumerate([*BLOCKED, OPEN])]
        for author in authors:
            author.display_name = f"Zebra {author.domain}"
            session.add(author)
        await session.flush()
        session.add_all([Follow(follower_id=alice.id, followee_id=author.id, state=FollowState.accepted)
                         for author in [*authors, bob]])
    for n, author in enumerate(authors):
        await _arrives(a, _create(author, 1, f"zebra post by {author.domain}", mention=alice))
        await _arrives(a, _create(author, 2, f"zebra reply by {author.domain}", reply_to=mine.uri))
        await _arrives(a, {"@context": AS_CONTEXT, "id": f"{author.uri}/likes/1", "type": "Like",
                           "actor": author.uri, "object": mine.uri})
    status_of = {}
    for author in authors:
        async with http.get(f"{a.base}/api/v1/accounts/{author.id}/statuses", headers=alice_h) as r:
            status_of[author.domain] = next(s["id"] for s in await r.json() if "post by" in s["content"])
    async with http.post(f"{a.base}/api/v1/statuses/{status_of[BLOCKED[0]]}/reblog", headers=bob_h) as r:
        assert r.status == 200
    replies = []
    for author in authors:
        async with http.post(f"{a.base}/api/v1/statuses", headers=alice_h,
                             json={"status": "agreed", "in_reply_to_id": status_of[author.domain]}) as r:
            replies.append((await r.json())["id"])
    return a, alice_h, admin_h, (mine, replies), authors


async def _reads(a: Instance, http, headers: dict, thread, authors) -> dict[str, set[str]]:
    """For each read the client API offers, the domains whose content it shows."""
    def domains(texts) -> set[str]:
        texts = list(texts)
        return {author.domain for author in authors if any(author.domain in text for text in texts)}

    async def get(path: str, **params) -> list | dict:
        async with http.get(f"{a.base}{path}", params=params, headers=headers) as r:
            assert r.status == 200, (path, r.status)
            return await r.json()

    def shown(status: dict) -> str:
        return (status.get("reblog") or status)["content"]

    mine, replies = thread
    home = await get("/api/v1/timelines/home")
    seen = {
        "home": domains(shown(s) for s in home if not s["reblog"]),
        "home boosts": domains(shown(s) for s in home if s["reblog"]),
        "public": domains(s["content"] for s in await get("/api/v1/timelines/public", remote="true")),
        "tag": domains(s["content"] for s in await get("/api/v1/timelines/tag/rounds")),
        "notifications": domains(n["account"]["display_name"] for n in await get("/api/v1/notifications")),
        "search statuses": domains(s["content"] for s in (await get("/api/v2/search", q="zebra"))["statuses"]),
        "search accounts": domains(x["display_name"] for x in (await get("/api/v2/search", q="zebra"))["accounts"]),
        "thread replies": domains(s["content"]
                                  for s in (await get(f"/api/v1/statuses/{mine.id}/context"))["descendants"]),
    }
    seen["thread parents"] = domains([s["content"] for reply in replies
                                      for s in (await get(f"/api/v1/statuses/{reply}/context"))["ancestors"]])
    by_id = []  # each post alice answered, asked for by its id
    for reply in replies:
        parent = (await get(f"/api/v1/statuses/{reply}"))["in_reply_to_id"]
        async with http.get(f"{a.base}/api/v1/statuses/{parent}", headers=headers) as r:
            assert r.status in (200, 404), r.status
            by_id += [(await r.json())["content"]] if r.status == 200 else []
    seen["status by id"] = domains(by_id)
    for author in authors:
        statuses = await get(f"/api/v1/accounts/{author.id}/statuses")
        seen[f"statuses of {author.domain}"] = domains(s["content"] for s in statuses)
    return seen


async def test_a_wildcard_block_hides_the_peers_content_from_every_read_until_unblocked(world, http):
    a, alice_h, admin_h, thread, authors = world
    everything = set(BLOCKED) | {OPEN}
    before = await _reads(a, http, alice_h, thread, authors)
    expected = {"home": everything, "home boosts": {BLOCKED[0]}, "public": everything, "tag": everything,
                "notifications": everything, "search statuses": everything, "search accounts": everything,
                "thread replies": everything, "thread parents": everything, "status by id": everything,
                **{f"statuses of {domain}": {domain} for domain in everything}}
    assert before == expected

    # When the admin blocks *.blocked.example
    async with http.post(f"{a.base}/api/v1/admin/domain_blocks", json={"domain": "*.blocked.example"},
                         headers=admin_h) as r:
        assert r.status == 200
        block = await r.json()
    # Then no read shows content from a.blocked.example or blocked.example:8443, and every read
    # still shows notblocked.example's
    hidden = {read: domains & {OPEN} for read, domains in expected.items()}
    assert await _reads(a, http, alice_h, thread, authors) == hidden

    # And when it is unblocked, all of it comes back
    async with http.delete(f"{a.base}/api/v1/admin/domain_blocks/{block['id']}", headers=admin_h) as r:
        assert r.status == 200
    assert await _reads(a, http, alice_h, thread, authors) == expected
