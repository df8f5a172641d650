"""Creates of plain notes waiting in the inbox worker's committer at the same moment are handled
together (`federation.inbox.handlers.create.handle_many`): one insert of their posts, one of their
mentions, tags and feed rows, one query for their authors' followers and one for their tags'
followers. Each post still reaches exactly the homes it would alone, and if handling them together
fails, each is handled alone, so that only the one at fault fails.

Real instances and signed activities over loopback HTTP; each test says what breaks it.
"""

from __future__ import annotations

from typing import Any

from federation.communities import relay
from federation.inbox import committer
from federation.inbox.handlers import create
from federation.outbox import actions
from federation.social.posts import Links
from federation.social.streams import new_posts_homes
from storage.ids import new_id
from storage import tags
from storage.models import (
    Announce, Block, Follow, FollowState, InboxState, Notification, NotificationPolicy, NotificationType, Object,
    PolicyAction, Visibility,
)
from tests.community_helpers import make_community
from tests.handler_helpers import Scene, start_scene
from tests.statements import statements_run

FANS = 5


async def _world(scene: Scene) -> dict[str, Any]:
    """alice follows fan0..fan4; bob follows the tag #sepsis and no one; fan1 blocks bob."""
    alice = await scene.a.actor("alice")
    bob = (await scene.a.add_user("bob"))[1]
    fans = []
    for n in range(FANS):
        scene.peer.add_actor(f"fan{n}", key=n % 2)
        fans.append(await scene.remote(f"fan{n}"))
    async with scene.a.fed.transaction() as session:
        session.add_all([Follow(follower_id=alice.id, followee_id=fan.id, state=FollowState.accepted) for fan in fans])
        session.add(Block(actor_id=fans[1].id, target_id=bob.id))
        await tags.follow(session, bob.id, "sepsis")
    return {"alice": alice, "bob": bob, "fans": fans}


def _sepsis(scene: Scene) -> dict[str, Any]:
    return {"type": "Hashtag", "href": f"{scene.peer.base}/tags/sepsis", "name": "#sepsis"}


async def _send_posts(scene: Scene, world: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """One Create each: fan0 and fan1 tag #sepsis, fan2 mentions alice, fan3 writes to bob alone
    (direct), fan4 mentions fan0."""
    alice, bob = world["alice"], world["bob"]
    notes = {
        "fan0": scene.note("fan0", "1", tag=[_sepsis(scene)]),
        "fan1": scene.note("fan1", "1", tag=[_sepsis(scene)]),
        "fan2": scene.note("fan2", "1", cc=(alice.uri,), tag=[{"type": "Mention", "href": alice.uri, "name": "@alice"}]),
        "fan3": scene.note("fan3", "1", to=(bob.uri,), tag=[{"type": "Mention", "href": bob.uri, "name": "@bob"}]),
    }
    notes["fan4"] = scene.note("fan4", "1", tag=[{"type": "Mention", "href": world["fans"][0].uri, "name": "@fan0"}])
    sent = {}
    for name, note in notes.items():
        sent[name] = await scene.send(name, "Create", note)
    return sent


async def _post_ids(scene: Scene, sent: dict[str, dict[str, Any]]) -> dict[str, int]:
    found = {post.uri: post.id for post in await scene.all(Object)}
    return {name: found[document["object"]["id"]] for name, document in sent.items() if document["object"]["id"] in found}


async def test_plain_creates_waiting_together_are_stored_in_one_insert_and_each_reaches_its_own_homes(instances, http):
    """Breaks if the committer handles such Creates one at a time (five inserts of posts), or if
    handling them together loses what each post's homes are: a direct post reaching its author's
    followers, a tag follower the author blocked getting the post, a mention not notified."""
    async with start_scene(instances, http) as scene:
        world = await _world(scene)
        sent = await _send_posts(scene, world)
        # When the worker handles the five Creates
        async with statements_run(scene.a.db) as statements:
            assert await scene.run() == FANS
        # Then every one is done, and their posts went in with one statement
        for document in sent.values():
            assert (await scene.outcome(document))[0] is InboxState.done
        inserts = [sql for sql, _ in statements if sql.lstrip().upper().startswith("INSERT INTO OBJECTS")]
        assert len(inserts) == 1, inserts
        ids = await _post_ids(scene, sent)
        assert len(ids) == FANS
        # And alice, who follows every fan, has all of them but the direct post to bob
        assert await scene.home(world["alice"]) == {ids[name] for name in ("fan0", "fan1", "fan2", "fan4")}
        # And bob has the post to him and the #sepsis post of fan0, not fan1's (fan1 blocks him)
        assert await scene.home(world["bob"]) == {ids["fan0"], ids["fan3"]}
        # And alice was notified of fan2's mention, bob of fan3's
        assert await scene.notifications(world["alice"]) == [NotificationType.mention]
        assert await scene.notifications(world["bob"]) == [NotificationType.mention]


async def test_when_handling_creates_together_fails_each_is_handled_alone_and_only_the_faulty_one_fails(
        instances, http, monkeypatch):
    """Breaks if a failure while handling Creates together fails them all, or leaves what it wrote
    (the savepoint around them), instead of handling each alone."""
    async with start_scene(instances, http) as scene:
        world = await _world(scene)
        notify = create.notifications.notify_mentions
        doomed = f"{scene.peer.base}/users/fan2/statuses/1"

        async def faulty(session, item, author, mentioned, now) -> None:
            """The real notification of mentions, which fails for fan2's post: a bug."""
            if item.uri == doomed:
                raise RuntimeError("a bug in one post's mentions")
            await notify(session, item, author, mentioned, now)

        monkeypatch.setattr(create.notifications, "notify_mentions", faulty)
        monkeypatch.setattr(committer, "BATCH_SECONDS", 60.0)  # one transaction, bounded by its items
        sent = await _send_posts(scene, world)
        # When the worker handles the five Creates, and the one of fan2 fails
        async with statements_run(scene.a.db) as statements:
            assert await scene.run() == FANS
        assert sum(sql.lstrip().upper().startswith("INSERT INTO OBJECTS") for sql, _ in statements) > 1
        # Then fan2's Create failed with its error, and its post was not kept
        state, error = await scene.outcome(sent["fan2"])
        assert state is InboxState.failed and "a bug in one post's mentions" in error
        ids = await _post_ids(scene, sent)
        assert "fan2" not in ids
        # And the four others are done, each in its homes, once
        for name in ("fan0", "fan1", "fan3", "fan4"):
            assert (await scene.outcome(sent[name]))[0] is InboxState.done
        assert await scene.home(world["alice"]) == {ids[name] for name in ("fan0", "fan1", "fan4")}
        assert await scene.home(world["bob"]) == {ids["fan0"], ids["fan3"]}
        assert await scene.notifications(world["bob"]) == [NotificationType.mention]
        assert await scene.notifications(world["alice"]) == []


async def test_a_direct_post_beside_a_public_one_of_the_same_author_reaches_only_whom_it_mentions(instances, http):
    """Breaks if the homes of posts handled together take the author's followers for a direct
    post because another post of hers, public, is among them (the worker's chains never put two
    posts of one author together, but `new_posts_homes` is anyone's to call)."""
    async with start_scene(instances, http) as scene:
        world = await _world(scene)
        fan = world["fans"][0]
        public = Object(id=new_id(), uri=f"{fan.uri}/statuses/p", type="Note", actor_id=fan.id, local=False,
                        visibility=Visibility.public)
        direct = Object(id=new_id(), uri=f"{fan.uri}/statuses/d", type="Note", actor_id=fan.id, local=False,
                        visibility=Visibility.direct)
        async with scene.a.fed.transaction() as session:
            homes = await new_posts_homes(session, [(public, fan, Links([], [])), (direct, fan, Links([world["bob"]], []))])
        assert homes == [{world["alice"].id}, {world["bob"].id}]


async def test_a_peers_reply_in_a_community_thread_that_names_no_community_is_still_announced(instances, http):
    """Breaks if Creates handled together look for communities only among their recipients: a
    reply from a server that does not name the community (Mastodon does not) would leave its
    thread. The thread is found by what the reply answers."""
    async with start_scene(instances, http) as scene:
        _, group = await make_community(scene.a, "wound-care")
        alice, zed = await scene.a.actor("alice"), await scene.remote("zed")
        async with scene.a.fed.transaction() as session:
            session.add_all([Follow(follower_id=member.id, followee_id=group.id, state=FollowState.accepted)
                             for member in (alice, zed)])
        # Given a thread of the community, started by alice
        async with scene.a.fed.transaction() as session:
            first = await actions.post(scene.a.fed, session, alice, content="<p>our audit</p>",
                                       visibility=Visibility.public, mentions=[group])
            assert [g.id for g in await relay.relay_ours(scene.a.fed, session, first, alice, [group.uri])] == [group.id]
        # When zed, a member, answers it, addressed to the public alone
        sent = await scene.send("zed", "Create", scene.note("zed", "1", inReplyTo=first.uri))
        await scene.run()
        # Then the community announces the reply
        assert (await scene.outcome(sent))[0] is InboxState.done
        reply = await scene.one(Object, Object.uri == sent["object"]["id"])
        assert await scene.count(Announce, Announce.actor_id == group.id, Announce.object_id == reply.id) == 1


async def test_a_create_after_another_kind_of_item_of_its_chain_is_not_taken_ahead_of_it(instances, http):
    """Breaks if the committer, taking the Creates waiting to handle them together, takes one that
    its chain submitted after an item of another kind still waiting: zed's mention of alice would
    be handled before zed's Follow of her, and held back by her policy as from a non-follower."""
    async with start_scene(instances, http) as scene:
        alice = await scene.a.actor("alice")
        async with scene.a.fed.transaction() as session:
            session.add(NotificationPolicy(actor_id=alice.id, for_not_followers=PolicyAction.filter))
        # Given another actor's Create first (it starts the set), then zed's Follow of alice and
        # zed's post mentioning her, all waiting in the committer at once
        await scene.send("mallory", "Create", scene.note("mallory", "1"))
        await scene.send("zed", "Follow", alice.uri)
        await scene.send("zed", "Create", scene.note("zed", "1", cc=(alice.uri,),
                                                     tag=[{"type": "Mention", "href": alice.uri, "name": "@alice"}]))
        # When the worker handles them
        assert await scene.run() == 3
        # Then the Follow came first: the mention reached alice, not her requests
        zed = await scene.remote("zed")
        notification = await scene.one(Notification, Notification.recipient_id == alice.id,
                                       Notification.type == NotificationType.mention)
        assert notification.from_actor_id == zed.id and not notification.filtered
