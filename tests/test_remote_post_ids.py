"""A remote post's id is placed at its `published` time (storage.ids); two posts placed on the same
id (the same millisecond and counter) are both stored, the second on the next free id."""

from __future__ import annotations

from federation.social import posts as social_posts
from federation.social.posts import store_remote_post
from federation.protocol.vocab.parse import ap_to_object
from storage.models import Object, Tag


async def test_a_post_placed_on_a_taken_id_takes_the_next_free_one(scene, monkeypatch):
    # Given zed's first post is stored on the id 1000
    zed = await scene.remote("zed")
    fed, now = scene.a.fed, scene.a.clock.now()
    monkeypatch.setattr(social_posts, "new_id", lambda at=None: 1000)
    async with fed.db.sessions.begin() as session:
        first, _ = await store_remote_post(session, ap_to_object(scene.note("zed", "1")), zed, now, fed.settings)
    # When his second post is placed on the same id
    second_note = scene.note("zed", "2", tag=[{"type": "Hashtag", "name": "#icu"}])
    async with fed.db.sessions.begin() as session:
        second, links = await store_remote_post(session, ap_to_object(second_note), zed, now, fed.settings)
    # Then it is stored, new, on the next id, with its tag; the first is untouched
    assert (first.id, second.id, links is not None) == (1000, 1001, True)
    assert {row.uri: row.id for row in await scene.all(Object)} == {first.uri: 1000, second_note["id"]: 1001}
    assert [(row.object_id, row.name) for row in await scene.all(Tag)] == [(1001, "icu")]
    # And the same post again is the one stored, not new
    async with fed.db.sessions.begin() as session:
        again, links = await store_remote_post(session, ap_to_object(second_note), zed, now, fed.settings)
    assert (again.id, links) == (1001, None)
