"""A peer's long-form post (a Lemmy-like server's Page, played by the fake peer) stored whole: its
title shows in Mastodon.py as Mastodon shows a Page (title, summary, link), its whole body,
sanitised, in Rounds' article API; a later Update makes version 2 with the change note it
carries, and keeps version 1."""

from __future__ import annotations

import asyncio

from mastodon import Mastodon
from sqlalchemy import select

from federation.protocol.vocab import PUBLIC
from storage.models import Article, Object
from tests.api_helpers import token_for

BODY = ('<h2>Triage</h2><p>Troponin at 0 and 3 hours.</p><script>steal()</script>'
        '<iframe src="https://evil.example/"></iframe><p><a href="javascript:alert(1)">run</a></p>')


async def test_a_page_from_a_lemmy_like_peer_is_stored_whole(scene):
    peer, a = scene.peer, scene.a
    headers = await token_for(a, "alice", create=False)
    alice = Mastodon(access_token=headers["Authorization"].split()[1], api_base_url=a.base, version_check_mode="none")
    page = {"id": f"{peer.base}/post/7", "type": "Page", "attributedTo": f"{peer.base}/users/zed",
            "name": "Chest pain pathway", "summary": "Who goes to the cath lab", "content": BODY,
            "source": {"content": "## Triage\n\nTroponin at 0 and 3 hours.", "mediaType": "text/markdown"},
            "url": f"{peer.base}/post/7", "to": [PUBLIC], "cc": [], "published": "2026-12-01T10:00:00Z"}

    # When zed's Page arrives
    await scene.send("zed", "Create", page, "p7")
    await scene.run()

    # Then Mastodon.py shows it with its title, its summary and a link, not its body
    async with a.db.sessions() as session:
        post = await session.scalar(select(Object).where(Object.uri == page["id"]))
    status = await asyncio.to_thread(alice.status, post.id)
    assert "Chest pain pathway" in status["content"] and "Who goes to the cath lab" in status["content"]
    assert page["url"] in status["content"] and "Troponin" not in status["content"]
    assert status["spoiler_text"] == ""

    # And Rounds keeps it whole, sanitised: the body, without script, frame or javascript: link
    async with scene.http.get(f"{a.base}/api/rounds/v1/articles", headers=headers) as response:
        [article] = await response.json()
    assert article["title"] == "Chest pain pathway" and article["version"] == 1 and article["local"] is False
    assert "Troponin at 0 and 3 hours" in article["content"] and "<h2>Triage</h2>" in article["content"]
    assert "<script" not in article["content"] and "steal()" not in article["content"]
    assert "<iframe" not in article["content"] and "javascript:" not in article["content"]
    assert article["source"].startswith("## Triage") and article["status"]["id"] == str(post.id)

    # When zed edits it, saying why (Rounds' changeNote on the Page)
    edited = dict(page, content="<h2>Triage</h2><p>Troponin at 0 and 1 hour.</p>", updated="2026-12-02T10:00:00Z",
                  changeNote="High-sensitivity assay: 0/1 h")
    await scene.send("zed", "Update", edited, "p7-u1")
    await scene.run()
    # Then Rounds shows version 2, with its note, and keeps version 1
    async with a.db.sessions() as session:
        stored = await session.scalar(select(Article).where(Article.object_id == post.id))
    assert stored.version == 2 and stored.change_note == "High-sensitivity assay: 0/1 h"
    async with scene.http.get(f"{a.base}/api/rounds/v1/articles/{stored.id}/versions", headers=headers) as response:
        versions = await response.json()
    assert [v["version"] for v in versions] == [1, 2]
    assert "0 and 3 hours" in versions[0]["content"] and "0 and 1 hour" in versions[1]["content"]
    async with scene.http.get(f"{a.base}/api/rounds/v1/articles/{stored.id}/versions/1", headers=headers) as response:
        assert (await response.json())["change_note"] == ""
