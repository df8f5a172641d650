"""A Rounds user in a community on a server that behaves like Lemmy (the fake peer plays it): she
joins it by following its Group, her post to it carries `audience` and names it, and its
Announce wrapping the Create of a Page by another member brings that Page (fetched from its
origin) into her home as the community's boost."""

from __future__ import annotations

from federation.outbox import drafts, relations
from federation.protocol.vocab import PUBLIC
from federation.remote.resolve import resolve_actor
from federation.social.compose import Draft
from storage.models import Announce, Follow, FollowState, Object


async def test_a_local_member_of_a_lemmy_like_community(scene):
    peer = scene.peer
    group_uri = peer.add_actor("cardiology", key=2, type="Group",
                               preferredUsername="cardiology", attributedTo=f"{peer.base}/c/cardiology/moderators")
    alice = await scene.a.actor("alice")
    # When alice joins it, Then a Follow is queued for the peer, and its Accept makes her a member
    group = await resolve_actor(scene.a.fed, group_uri)
    async with scene.a.fed.transaction() as session:
        await relations.follow(scene.a.fed, session, alice, group)
    [(inbox, follow)] = await scene.queued("Follow")
    assert follow["object"] == group_uri
    await scene.send("cardiology", "Accept", follow, "acc")
    await scene.run()
    assert (await scene.one(Follow, Follow.follower_id == alice.id)).state is FollowState.accepted

    # When alice posts to it by mentioning it, Then her Create names it in cc, tags and audience
    post = await drafts.publish(scene.a.fed, alice, Draft(text=f"@cardiology@{peer.authority} troponin question"))
    creates = [doc for _, doc in await scene.queued("Create") if doc["object"]["id"] == post.uri]
    [create] = creates
    assert create["object"]["audience"] == group_uri and group_uri in create["object"]["cc"]

    # When the community announces zed's Page wrapped in its Create, as Lemmy does
    page = {"id": f"{peer.base}/post/1", "type": "Page", "attributedTo": f"{peer.base}/users/zed",
            "name": "Chest pain pathway", "content": "<p>Chest pain pathway</p>", "audience": group_uri,
            "to": [group_uri, PUBLIC], "cc": []}
    peer.serve("/post/1", page)
    create_page = {"id": f"{peer.base}/users/zed/activities/create-p1", "type": "Create",
                   "actor": f"{peer.base}/users/zed", "object": dict(page, content="<p>forged wrapper text</p>"),
                   "to": [PUBLIC], "cc": [group_uri], "audience": group_uri}
    announce = await scene.send("cardiology", "Announce", create_page, "ann", to=[PUBLIC], cc=[f"{group_uri}/followers"])
    await scene.run()
    # Then the Page is stored as its origin serves it (not as wrapped), boosted by the community,
    # and in alice's home
    stored = await scene.one(Object, Object.uri == page["id"])
    assert stored.type == "Page" and "Chest pain pathway" in stored.content and "forged" not in stored.content
    boost = await scene.one(Announce, Announce.object_id == stored.id)
    assert boost.actor_id == group.id
    assert boost.id in await scene.home(alice)
    assert (await scene.outcome(announce))[0].value == "done"
