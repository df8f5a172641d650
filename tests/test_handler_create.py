"""federation/inbox/handlers/create.py: Create of a post (stored, threaded, mentions notified, homes
filled), or of a poll vote (counted).

Guards: an embedded object of a type we do not store is ignored (never fetched); a Create
without an object is ignored; a post sent by reference is fetched and must be attributed to the
activity's actor; a post already stored is ignored (no second notification); a reply whose
parent cannot be fetched is kept; a vote the poll refuses is ignored with the poll's reason.
"""

from __future__ import annotations

from federation.outbox import actions, relations

from federation.social import polls
from federation.protocol.vocab import PUBLIC
from storage.models import FeedEntry, InboxState, Notification, NotificationType, Object, PollOption, Visibility
from tests.handler_helpers import Scene


def _mention(actor_uri: str) -> list[dict]:
    return [{"type": "Mention", "href": actor_uri, "name": "@alice"}]


async def test_a_post_is_stored_and_the_mentioned_local_actor_notified(scene):
    # Given alice
    alice = await scene.a.actor("alice")
    # When zed posts a public note mentioning her
    note = scene.note("zed", "1", tag=_mention(alice.uri))
    create = await scene.send("zed", "Create", note)
    await scene.run()
    # Then the post is stored as public, alice is notified, and it is in her home
    post = await scene.one(Object)
    assert (post.uri, post.visibility, post.local) == (note["id"], Visibility.public, False)
    assert await scene.notifications(alice) == [NotificationType.mention]
    assert post.id in await scene.home(alice)
    assert await scene.outcome(create) == (InboxState.done, None)


async def test_a_post_reaches_the_homes_of_local_followers(scene):
    # Given alice follows zed (accepted)
    zed = await scene.remote("zed")
    async with scene.a.fed.transaction() as session:
        row = await relations.follow(scene.a.fed, session, await scene.a.actor("alice"), zed)
    await scene.send("zed", "Accept", row.uri, "a")
    await scene.run()
    # When zed posts for his followers only
    note = scene.note("zed", "1", to=(f"{scene.peer.base}/users/zed/followers",))
    await scene.send("zed", "Create", note)
    await scene.run()
    # Then the post is followers-only and in alice's home, with no notification
    post = await scene.one(Object)
    assert post.visibility is Visibility.private
    assert post.id in await scene.home(await scene.a.actor("alice"))
    assert await scene.count(Notification) == 0


async def test_a_post_by_reference_is_fetched_from_its_origin(scene):
    # Given zed's post, served by his server
    note = scene.note("zed", "1")
    # When zed sends its Create with only the post's id
    create = await scene.send("zed", "Create", note["id"])
    await scene.run()
    # Then we fetched and stored it
    assert (await scene.one(Object)).content == "<p>hello</p>"
    assert await scene.outcome(create) == (InboxState.done, None)


async def test_a_post_by_reference_must_be_the_senders(scene):
    # Given mallory's post on the same server
    note = scene.note("mallory", "1")
    # When zed sends a Create of it by id (the inbox cannot see whose it is)
    create = await scene.send("zed", "Create", note["id"])
    await scene.run()
    # Then it is not stored under anyone's name
    assert await scene.count(Object) == 0
    assert await scene.outcome(create) == (
        InboxState.ignored, f"{note['id']} is attributed to {scene.peer.base}/users/mallory, "
                            f"not {scene.peer.base}/users/zed")


async def test_an_embedded_object_of_another_type_is_ignored_not_fetched(scene):
    # When zed sends a Create of an Offer (a type we do not store), also served at its id
    event = {"id": scene.peer.serve("/offers/1", {"type": "Offer"}), "type": "Offer", "name": "Rounds"}
    create = await scene.send("zed", "Create", event)
    gets_before = sum(1 for method, *_ in scene.peer.received if method == "GET")
    await scene.run()
    # Then it is ignored at once, with nothing fetched or stored
    assert await scene.outcome(create) == (InboxState.ignored, "Create of an unsupported object type Offer")
    assert sum(1 for method, *_ in scene.peer.received if method == "GET") == gets_before
    assert await scene.count(Object) == 0


async def test_a_create_without_an_object_is_ignored(scene):
    create = await scene.send("zed", "Create", None)
    await scene.run()
    assert await scene.outcome(create) == (InboxState.ignored, "Create without an object")


async def test_a_post_already_stored_is_not_stored_or_notified_again(scene):
    # Given zed's post mentioning alice, received once
    alice = await scene.a.actor("alice")
    note = scene.note("zed", "1", tag=_mention(alice.uri))
    await scene.send("zed", "Create", note, "1")
    await scene.run()
    # When his server sends another Create of the same post
    again = await scene.send("zed", "Create", note, "2")
    await scene.run()
    # Then there is still one post, one notification, one home entry
    assert await scene.count(Object) == 1
    assert await scene.notifications(alice) == [NotificationType.mention]
    assert await scene.count(FeedEntry) == 1
    assert await scene.outcome(again) == (InboxState.ignored, f"{note['id']} is already stored")


async def test_a_reply_to_a_parent_that_cannot_be_fetched_is_kept(scene):
    # Given a parent post that its server no longer serves
    gone = f"{scene.peer.base}/users/mallory/statuses/404"
    # When zed replies to it
    create = await scene.send("zed", "Create", scene.note("zed", "1", inReplyTo=gone))
    await scene.run()
    # Then the reply is stored, linked to its parent by id
    assert (await scene.one(Object)).in_reply_to_uri == gone
    assert await scene.outcome(create) == (InboxState.done, None)


async def _alices_poll(scene: Scene) -> Object:
    async with scene.a.fed.transaction() as session:
        return await actions.post(scene.a.fed, session, await scene.a.actor("alice"), content="<p>tea?</p>",
                                 poll=polls.new_poll(["yes", "no"], 3600, multiple=False, hide_totals=False))


def _vote(scene: Scene, poll: Object, title: str, n: str) -> dict:
    return {"id": f"{scene.peer.base}/users/zed/votes/{n}", "type": "Note", "name": title,
            "attributedTo": f"{scene.peer.base}/users/zed", "inReplyTo": poll.uri, "to": [PUBLIC]}


async def test_a_vote_is_counted(scene):
    poll = await _alices_poll(scene)
    create = await scene.send("zed", "Create", _vote(scene, poll, "yes", "1"))
    await scene.run()
    assert (await scene.one(PollOption, PollOption.title == "yes")).votes_count == 1
    assert await scene.outcome(create) == (InboxState.done, None)


async def test_a_vote_the_poll_refuses_is_ignored_with_its_reason(scene):
    # Given alice's poll
    poll = await _alices_poll(scene)
    # When zed votes for an option it does not have
    create = await scene.send("zed", "Create", _vote(scene, poll, "maybe", "1"))
    await scene.run()
    # Then no vote counts, and the item says why (not a failure: retrying cannot help)
    assert [o.votes_count for o in await scene.all(PollOption)] == [0, 0]
    assert await scene.outcome(create) == (InboxState.ignored, "poll vote not counted: the poll has no option 'maybe'")
