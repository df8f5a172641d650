"""A community on a peer (a Lemmy-like Group on the fake peer) announces posts and the
deletions of its threads' posts: a post it announced and then announces the Delete of leaves
here; a post it never announced, or an announced Delete from an actor that is not a Group,
changes nothing. An announced edit is taken from the post's origin, never from the announcement."""

from __future__ import annotations

from federation.protocol.vocab import PUBLIC
from storage.models import Announce, InboxState, Like, Object
from tests.fakepeer import activity


async def test_a_group_removes_only_what_it_announced(scene):
    peer = scene.peer
    group_uri = peer.add_actor("cardiology", key=2, type="Group")
    zed_note = scene.note("zed", "7", content="<p>ECG quiz</p>", audience=group_uri)
    local = await scene.local_post()
    # Given the group announced zed's post (fetched from its origin)
    await scene.send("cardiology", "Announce", zed_note["id"], "a1", to=[PUBLIC])
    await scene.run()
    assert await scene.count(Announce) == 1

    # When the group announces zed's edit, Then the post is fetched again from its origin: what the
    # announced copy says is not taken
    peer.serve("/users/zed/statuses/7", dict(zed_note, content="<p>ECG quiz, answers added</p>",
                                              updated="2026-12-01T10:00:00Z"))
    edit = activity(peer, "cardiology", "Announce", {
        "id": f"{peer.base}/users/zed#updates/1", "type": "Update", "actor": f"{peer.base}/users/zed",
        "object": dict(zed_note, content="<p>forged</p>")}, "u1")
    await scene.post("cardiology", edit)
    await scene.run()
    assert (await scene.outcome(edit))[0] is InboxState.done
    assert "answers added" in (await scene.one(Object, Object.uri == zed_note["id"])).content

    # When the group announces mallory's Like of it, Then it counts, once, as mallory's
    for n in ("l1", "l2"):
        await scene.send("cardiology", "Announce", {
            "id": f"{peer.base}/users/mallory#likes/1", "type": "Like", "actor": f"{peer.base}/users/mallory",
            "object": zed_note["id"]}, n)
    await scene.run()
    [like] = await scene.all(Like)
    assert like.actor_id == (await scene.remote("mallory")).id

    # When the group announces a moderator's Delete of zed's post
    removal = activity(peer, "cardiology", "Announce", {
        "id": f"{peer.base}/users/mod#deletes/1", "type": "Delete", "actor": f"{peer.base}/users/mod",
        "object": zed_note["id"]}, "a2")
    await scene.post("cardiology", removal)
    await scene.run()
    # Then the post leaves: tombstoned, out of the group's threads
    assert (await scene.outcome(removal))[0] is InboxState.done
    assert (await scene.one(Object, Object.uri == zed_note["id"])).deleted_at is not None
    assert await scene.count(Announce) == 0

    # When it announces the Delete of alice's post, which it never announced, Then nothing changes
    forged = activity(peer, "cardiology", "Announce", {
        "id": f"{peer.base}/users/mod#deletes/2", "type": "Delete", "actor": f"{peer.base}/users/mod",
        "object": local.uri}, "a3")
    await scene.post("cardiology", forged)
    await scene.run()
    state, reason = await scene.outcome(forged)
    assert state is InboxState.ignored and "not in the threads" in reason
    assert (await scene.one(Object, Object.id == local.id)).deleted_at is None

    # And a person's announced Delete changes nothing either
    other = scene.note("zed", "8")
    await scene.send("zed", "Announce", other["id"], "b1", to=[PUBLIC])
    await scene.run()
    by_person = activity(peer, "zed", "Announce", {
        "id": f"{peer.base}/users/zed#deletes/3", "type": "Delete", "actor": f"{peer.base}/users/zed",
        "object": other["id"]}, "b2")
    await scene.post("zed", by_person)
    await scene.run()
    state, reason = await scene.outcome(by_person)
    assert state is InboxState.ignored and "not a community" in reason
    assert (await scene.one(Object, Object.uri == other["id"])).deleted_at is None

    # And the group cannot edit a post it never announced
    peer.serve("/users/zed/statuses/8", dict(other, content="<p>changed at the origin</p>"))
    stray_edit = activity(peer, "cardiology", "Announce", {
        "id": f"{peer.base}/users/zed#updates/2", "type": "Update", "actor": f"{peer.base}/users/zed",
        "object": other["id"]}, "u2")
    await scene.post("cardiology", stray_edit)
    await scene.run()
    state, reason = await scene.outcome(stray_edit)
    assert state is InboxState.ignored and "not in the threads" in reason
    assert "changed" not in (await scene.one(Object, Object.uri == other["id"])).content
