"""A community is a Group actor (FEP-1b12): its document, its moderators, WebFinger, mentions of
hyphenated names, and an institution-only community that nothing outside the instance reaches."""

from __future__ import annotations

from sqlalchemy import func, select

from federation.communities import groups
from federation.outbox import actions
from federation.social.compose import mentions_in
from storage.models import AuditEntry, Delivery, JoinPolicy, PostingPolicy
from tests.community_helpers import follow_remote, make_community
from tests.instances import settle

AP = {"Accept": "application/activity+json"}


def test_hyphenated_handles_are_mentions():
    assert mentions_in("see @wound-care@host.example and @wound-care, not @-x; @bad- is bad") == [
        ("wound-care", "host.example"), ("wound-care", None), ("bad", None)]
    assert mentions_in("@a-b-c@127.0.0.1:8080.") == [("a-b-c", "127.0.0.1:8080")]


async def test_group_actor_document_moderators_and_webfinger(instances, http):
    a = await instances.start()
    await a.add_user("alice")
    # Given a members-only-posting community moderated by alice
    _, group = await make_community(a, "wound-care", title="Wound care", summary="Dressings & debridement",
                                    posting=PostingPolicy.moderators, join_policy=JoinPolicy.approval,
                                    rules=("Be kind", "No patient data"), moderators=("alice",),
                                    icon="https://example.org/wound.png")
    # Then its actor is a Group with its moderators collection and posting rule
    async with http.get(group.uri, headers=AP) as r:
        assert r.status == 200
        document = await r.json(content_type=None)
    assert document["type"] == "Group" and document["preferredUsername"] == "wound-care"
    assert document["name"] == "Wound care" and "Dressings &amp; debridement" in document["summary"]
    assert document["attributedTo"] == f"{group.uri}/moderators"
    assert document["postingRestrictedToMods"] is True and document["manuallyApprovesFollowers"] is True
    assert [f["value"] for f in document["attachment"]] == ["Be kind", "No patient data"]
    assert document["icon"] == {"type": "Image", "url": "https://example.org/wound.png"}
    for key in ("inbox", "outbox", "followers"):
        assert document[key].startswith(group.uri)
    async with http.get(document["attributedTo"], headers=AP) as r:
        assert r.status == 200
        assert (await r.json(content_type=None))["orderedItems"] == [(await a.actor("alice")).uri]
    # And a person has no moderators collection
    async with http.get(f"{a.base}/users/alice/moderators", headers=AP) as r:
        assert r.status == 404
    # And WebFinger finds it by its hyphenated name, and by its profile address, its page; a
    # person is not found at a community's address
    assert document["url"] == f"{a.base}/communities/wound-care"
    for resource in (f"acct:wound-care@{a.urls.authority}", document["url"]):
        async with http.get(f"{a.base}/.well-known/webfinger", params={"resource": resource}) as r:
            assert r.status == 200, resource
            found = await r.json(content_type=None)
            assert found["links"][0]["href"] == group.uri and document["url"] in found["aliases"]
    async with http.get(f"{a.base}/.well-known/webfinger", params={"resource": f"{a.base}/communities/alice"}) as r:
        assert r.status == 404
    # And its creation is in the audit log
    async with a.db.sessions() as session:
        assert await session.scalar(select(func.count()).where(AuditEntry.action == "community.create")) == 1


async def test_names_are_checked_and_unique(instances):
    a = await instances.start()
    await a.add_user("alice")
    try:
        await make_community(a, "ok", icon="javascript:alert(1)")
    except groups.CommunityError as exc:
        assert "icon" in str(exc)
    else:
        raise AssertionError("a javascript: icon was accepted")
    for bad in ("-x", "x-", "Wound care", "a" * 31, "users"):
        try:
            await make_community(a, bad)
        except groups.CommunityError:
            continue
        raise AssertionError(f"{bad!r} was accepted")
    try:
        await make_community(a, "alice")
    except groups.CommunityError as exc:
        assert "taken" in str(exc)
    else:
        raise AssertionError("a user's name was taken by a community")


async def test_institution_only_community_never_leaves(instances, http):
    a = await instances.start("a")
    b = await instances.start("b")
    await a.add_user("alice")
    await b.add_user("bob")
    _, group = await make_community(a, "night-shift", local_only=True, moderators=("alice",))
    # Then no peer (signed or not) fetches its actor or a collection, and WebFinger does not know it
    for url in (group.uri, f"{group.uri}/followers", f"{group.uri}/outbox", f"{group.uri}/moderators"):
        for headers in (AP, {**AP, **b.fed.sign_get("GET", url)}):
            async with http.get(url, headers=headers) as r:
                assert r.status == 404, url
    async with http.get(f"{a.base}/.well-known/webfinger",
                        params={"resource": f"acct:night-shift@{a.urls.authority}"}) as r:
        assert r.status == 404
    async with http.get(f"{a.base}/@night-shift") as r:
        assert r.status == 404

    # When alice, followed by bob@B, posts to it
    await follow_remote(b, "bob", f"alice@{a.urls.authority}")
    await settle(a, b)
    async with a.db.sessions() as session:
        before = await session.scalar(select(func.count()).select_from(Delivery))
    async with a.db.sessions.begin() as session:
        post = await actions.post(a.fed, session, await a.actor("alice"), content="<p>rota</p>",
                                  mentions=[await a.actor("night-shift")])
    # Then nothing is queued for B, and B cannot fetch the post
    async with a.db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Delivery)) == before
    async with http.get(post.uri, headers={**AP, **b.fed.sign_get("GET", post.uri)}) as r:
        assert r.status == 404
    # (red-check companion: an ordinary post does reach bob)
    async with a.db.sessions.begin() as session:
        await actions.post(a.fed, session, await a.actor("alice"), content="<p>open</p>")
    async with a.db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Delivery)) == before + 1
