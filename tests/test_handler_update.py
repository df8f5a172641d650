"""federation/inbox/handlers/update.py: Update of a post (edit history kept, boosters told) or of the
actor's own profile; an Update of a Question also brings its poll's counts.

Guards: only the author edits a post (the inbox checks the embedded post's attributedTo, which
the sender writes; the handler checks the stored post's author); an unknown or deleted post is
ignored; an Update of neither a post nor an actor is ignored; an update that changes nothing is
ignored (no history, no notification), unless it brought a poll's new counts; an actor updates
only itself (checked by the inbox, and again by the handler).
"""

from __future__ import annotations

from sqlalchemy import select, update

from federation.outbox import actions
from storage.models import Actor, InboxState, NotificationType, Object, ObjectEdit, PollOption
from tests.handler_helpers import Scene, handle_directly


async def _zed_posts(scene: Scene, n: str = "1", **extra) -> dict:
    note = scene.note("zed", n, **extra)
    await scene.send("zed", "Create", note, f"c{n}")
    await scene.run()
    return note


async def _alice_boosts(scene: Scene, uri: str) -> None:
    async with scene.a.fed.transaction() as session:
        item = await session.scalar(select(Object).where(Object.uri == uri))
        await actions.boost(scene.a.fed, session, await scene.a.actor("alice"), item)


async def test_an_edit_keeps_the_history_and_tells_the_boosters(scene):
    # Given zed's post, which alice boosted
    note = await _zed_posts(scene)
    await _alice_boosts(scene, note["id"])
    # When zed edits it
    edit = await scene.send("zed", "Update", {**note, "content": "<p>hello, edited</p>"}, "u")
    await scene.run()
    # Then the post has the new text, the old one is in its history, and alice is told
    post = await scene.one(Object, Object.uri == note["id"])
    assert post.content == "<p>hello, edited</p>"
    assert (await scene.one(ObjectEdit)).content == "<p>hello</p>"
    assert await scene.notifications(await scene.a.actor("alice")) == [NotificationType.update]
    assert await scene.outcome(edit) == (InboxState.done, None)


async def test_only_the_author_edits_a_post(scene):
    # Given mallory's post
    theirs = scene.note("mallory", "1")
    await scene.send("mallory", "Create", theirs, "c")
    await scene.run()
    # When zed sends an Update of it that claims he wrote it (the inbox sees only that claim)
    forged = {**theirs, "attributedTo": f"{scene.peer.base}/users/zed", "content": "<p>forged</p>"}
    edit = await scene.send("zed", "Update", forged, "u")
    await scene.run()
    # Then the post is unchanged
    assert (await scene.one(Object)).content == "<p>hello</p>"
    assert await scene.count(ObjectEdit) == 0
    assert await scene.outcome(edit) == (
        InboxState.ignored, f"{scene.peer.base}/users/zed cannot edit {theirs['id']}")


async def test_an_update_of_an_unknown_or_deleted_post_is_ignored(scene):
    # Given zed's post that was deleted, and one we never had
    note = await _zed_posts(scene)
    await scene.send("zed", "Delete", note["id"], "d")
    await scene.run()
    never = scene.note("zed", "2")
    # When he sends Updates of both
    edits = [await scene.send("zed", "Update", {**doc, "content": "<p>new</p>"}, f"u{n}")
             for n, doc in enumerate((note, never))]
    await scene.run()
    # Then both are ignored, and the tombstone stays empty
    assert (await scene.one(Object)).content == ""
    for edit, doc in zip(edits, (note, never)):
        assert await scene.outcome(edit) == (InboxState.ignored, f"unknown or deleted object {doc['id']}")


async def test_an_update_of_neither_a_post_nor_an_actor_is_ignored(scene):
    note = await _zed_posts(scene)
    edit = await scene.send("zed", "Update", note["id"], "u")
    await scene.run()
    assert await scene.outcome(edit) == (InboxState.ignored, "Update of an object that is neither a post nor the actor")


async def test_an_update_that_changes_nothing_is_ignored(scene):
    # Given zed's post (with a picture), which alice boosted
    note = await _zed_posts(scene, attachment=_picture(scene))
    await _alice_boosts(scene, note["id"])
    # When zed sends an Update with the same content
    edit = await scene.send("zed", "Update", note, "u")
    await scene.run()
    # Then no history, no notification
    assert await scene.count(ObjectEdit) == 0
    assert await scene.notifications(await scene.a.actor("alice")) == []
    assert await scene.outcome(edit) == (InboxState.ignored, "the update changes nothing")


async def test_an_update_of_a_post_without_attachments_that_changes_nothing_is_ignored(scene):
    # Given zed's post (text only), which alice boosted
    note = await _zed_posts(scene)
    await _alice_boosts(scene, note["id"])
    # When zed sends an Update with the same content
    edit = await scene.send("zed", "Update", note, "u")
    await scene.run()
    # Then no history, no notification
    assert await scene.count(ObjectEdit) == 0
    assert await scene.notifications(await scene.a.actor("alice")) == []
    assert await scene.outcome(edit) == (InboxState.ignored, "the update changes nothing")


def _picture(scene: Scene) -> list[dict]:
    return [{"type": "Document", "mediaType": "image/png", "url": f"{scene.peer.base}/media/1.png"}]


def _question(scene: Scene, yes: int, no: int) -> dict:
    return scene.note("zed", "q", content="<p>tea?</p>", type="Question", attachment=_picture(scene), oneOf=[
        {"type": "Note", "name": "yes", "replies": {"type": "Collection", "totalItems": yes}},
        {"type": "Note", "name": "no", "replies": {"type": "Collection", "totalItems": no}},
    ])


async def test_an_update_of_a_poll_with_only_new_counts_is_taken(scene):
    # Given zed's poll (with a picture), with no votes yet
    await scene.send("zed", "Create", _question(scene, 0, 0), "c")
    await scene.run()
    # When his server sends the poll again with new counts and the same text
    edit = await scene.send("zed", "Update", _question(scene, 3, 1), "u")
    await scene.run()
    # Then the counts are stored, with no edit in the history
    counts = {option.title: option.votes_count for option in await scene.all(PollOption)}
    assert counts == {"yes": 3, "no": 1}
    assert await scene.count(ObjectEdit) == 0
    assert await scene.outcome(edit) == (InboxState.done, None)


async def test_an_actor_updates_its_own_profile(scene):
    await scene.remote("zed")
    changed = {**scene.peer.actors["zed"], "name": "Dr Zed"}
    edit = await scene.send("zed", "Update", changed, "u")
    await scene.run()
    assert (await scene.one(Actor, Actor.uri == changed["id"])).display_name == "Dr Zed"
    assert await scene.outcome(edit) == (InboxState.done, None)


async def test_the_inbox_refuses_an_update_of_another_actor(scene):
    # Given mallory's profile as we have it
    mallory = await scene.remote("mallory")
    # When zed sends an Update of mallory's actor
    forged = {**scene.peer.actors["mallory"], "name": "Forged"}
    status, _ = await scene.peer.post(scene.http, "zed", f"{scene.a.base}/inbox",
                                      {"id": f"{scene.peer.base}/users/zed/u", "type": "Update",
                                       "actor": f"{scene.peer.base}/users/zed", "object": forged}, scene.a.clock.now())
    # Then it is refused, and mallory's profile is unchanged
    assert status == 403
    assert (await scene.one(Actor, Actor.id == mallory.id)).display_name == mallory.display_name


async def test_the_update_handler_itself_refuses_an_update_of_another_actor(scene):
    # Given mallory's profile as we have it, and zed
    mallory = await scene.remote("mallory")
    await scene.remote("zed")
    async with scene.a.db.sessions.begin() as session:  # what the handler must not overwrite
        await session.execute(update(Actor).where(Actor.id == mallory.id).values(display_name="Mallory"))
    forged = {**scene.peer.actors["mallory"], "name": "Forged"}
    # When zed's Update of mallory's actor reaches the handler
    reason = await handle_directly(scene.a, {"id": f"{scene.peer.base}/users/zed/u", "type": "Update",
                                             "actor": f"{scene.peer.base}/users/zed", "object": forged})
    # Then it is ignored and mallory's profile is unchanged
    assert reason is not None
    assert (await scene.one(Actor, Actor.id == mallory.id)).display_name == "Mallory"
