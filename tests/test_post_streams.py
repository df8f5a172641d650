"""Who hears of an edited or deleted post (federation.social.streams.record_post): its homes,
its hashtags' followers among them, and for a public post the public and hashtag streams."""

from __future__ import annotations

from federation.social.events import take
from federation.social.streams import record_post
from storage import tags as tag_queries
from storage.models import Object


async def test_an_edit_of_a_tagged_post_reaches_its_hashtags_followers_and_streams(scene):
    # Given alice follows the tag icu, and zed (whom she does not follow) posted with #icu and #ward
    alice = await scene.a.actor("alice")
    async with scene.a.db.sessions.begin() as session:
        await tag_queries.follow(session, alice.id, "icu")
    note = scene.note("zed", "1", tag=[{"type": "Hashtag", "name": "#ward"}, {"type": "Hashtag", "name": "#icu"}])
    await scene.send("zed", "Create", note, "c")
    await scene.run()
    zed = await scene.remote("zed")
    # When its edit is recorded
    stored = await scene.one(Object, Object.uri == note["id"])
    async with scene.a.db.sessions.begin() as session:
        await record_post(session, await session.get(Object, stored.id), zed, "status.update")
        (event,) = take(session)
    # Then alice's stream hears of it, and so do the public streams and both hashtags'
    assert event.streams == (f"user:{alice.id}", "public", "public:remote", "hashtag:icu", "hashtag:ward")
