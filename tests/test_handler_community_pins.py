"""A community on a server that behaves like Lemmy (the fake peer) pins and unpins a thread:
its Announce of a moderator's Add to its featured collection pins the thread here and tells its
members here; an Add aimed at another collection, or sent by someone other than the community,
changes nothing; its announced Remove unpins."""

from __future__ import annotations

from federation.outbox import relations
from federation.protocol.vocab import PUBLIC
from federation.remote.resolve import resolve_actor
from storage.models import InboxState, NotificationType, Object, Pin
from tests.fakepeer import activity


async def test_a_lemmy_like_community_pins_and_unpins(scene):
    peer = scene.peer
    group_uri = peer.add_actor("cardiology", key=2, type="Group", preferredUsername="cardiology",
                               featured=f"{peer.base}/c/cardiology/featured")
    featured = f"{peer.base}/c/cardiology/featured"
    alice = await scene.a.actor("alice")
    # Given alice is a member, and the community announced zed's thread
    group = await resolve_actor(scene.a.fed, group_uri)
    async with scene.a.fed.transaction() as session:
        await relations.follow(scene.a.fed, session, alice, group)
    [(_, follow)] = await scene.queued("Follow")
    await scene.send("cardiology", "Accept", follow, "acc")
    page = scene.note("zed", "9", content="<p>Chest pain pathway</p>", audience=group_uri)
    await scene.send("cardiology", "Announce", page["id"], "ann", to=[PUBLIC])
    await scene.run()
    stored = await scene.one(Object, Object.uri == page["id"])

    def add(kind: str, suffix: str, target: str = featured, by: str = "cardiology") -> dict:
        return activity(peer, by, kind, page["id"], suffix, target=target, audience=group_uri)

    # When it announces a moderator's Add of the thread to somewhere else, or mallory adds it
    # to the featured collection herself, Then nothing is pinned
    stray = activity(peer, "cardiology", "Announce", add("Add", "x1", target=f"{peer.base}/elsewhere", by="mod"), "a0")
    await scene.post("cardiology", stray)
    forged = add("Add", "f1", by="mallory")
    await scene.post("mallory", forged)
    await scene.run()
    assert (await scene.outcome(stray))[0] is InboxState.ignored
    state, reason = await scene.outcome(forged)
    assert state is InboxState.ignored and "itself" in reason
    assert await scene.count(Pin) == 0

    # When it announces a moderator's Add to its featured collection, Then the thread is pinned
    # here and alice, a member here, is told
    pin = activity(peer, "cardiology", "Announce", add("Add", "p1", by="mod"), "a1")
    await scene.post("cardiology", pin)
    await scene.run()
    assert (await scene.outcome(pin))[0] is InboxState.done
    [row] = await scene.all(Pin)
    assert (row.actor_id, row.object_id) == (group.id, stored.id)
    assert NotificationType.status in await scene.notifications(alice)

    # When it announces the Remove, Then it is unpinned
    unpin = activity(peer, "cardiology", "Announce", add("Remove", "r1", by="mod"), "a2")
    await scene.post("cardiology", unpin)
    await scene.run()
    assert await scene.count(Pin) == 0
