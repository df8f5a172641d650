"""An institution-only community on A never reaches B or C, by any route (issue 15): whatever
happens in it (posts that also mention people on B and C, a reply, a like, a pin, a change of
the community), A queues no delivery at all; B and C, signed or not, get a 404 for its
WebFinger, its actor, every collection of it, its thread's context, its featured collection and
each of its posts and their activities; and after B and C tried to resolve its handle and its
addresses through their own client API, nothing of it is in their database, their search or
their API."""

from __future__ import annotations

from sqlalchemy import String, cast, func, or_, select
from yarl import URL

from federation.communities import groups, moderation
from federation.outbox import actions, drafts, relations
from federation.remote.resolve import RemoteError, resolve_account
from federation.social.compose import Draft
from storage.models import Activity, Actor, Delivery, InboxItem, Object
from tests.api_helpers import token_for
from tests.community_helpers import follow_remote, make_community
from tests.instances import Instance, settle

AP = {"Accept": "application/activity+json"}
SECRET = "zebracrossing"  # a word only the community's posts hold


async def _deliveries(instance: Instance) -> int:
    async with instance.db.sessions() as session:
        return await session.scalar(select(func.count()).select_from(Delivery))


async def _traces(instance: Instance, needles: list[str]) -> list[str]:
    """Whatever `instance` holds that names one of `needles`: actors, posts, inbox items,
    activities."""
    found = []
    async with instance.db.sessions() as session:
        for needle in needles:
            pattern = f"%{needle}%"
            found += [f"actor {uri}" for uri in await session.scalars(select(Actor.uri).where(
                or_(Actor.uri.like(pattern), Actor.username.like(pattern))))]
            found += [f"post {uri}" for uri in await session.scalars(select(Object.uri).where(
                or_(Object.uri.like(pattern), Object.content.like(pattern))))]
            found += [f"inbox item {uri}" for uri in await session.scalars(select(InboxItem.activity_uri).where(
                cast(InboxItem.raw, String).like(pattern)))]
            found += [f"activity {uri}" for uri in await session.scalars(select(Activity.uri).where(
                cast(Activity.raw, String).like(pattern)))]
    return found


async def test_an_institution_only_community_never_reaches_other_instances(instances, http):
    a, b, c = [await instances.start(name) for name in "abc"]
    await a.add_user("alice")
    await a.add_user("ann")
    await b.add_user("bob")
    await c.add_user("cara")
    _, group = await make_community(a, "night-shift", local_only=True, moderators=("alice",))
    # Given bob@B and cara@C follow alice and ann (so their ordinary posts reach B and C)
    for instance, name in ((b, "bob"), (c, "cara")):
        for author in ("alice", "ann"):
            await follow_remote(instance, name, f"{author}@{a.urls.authority}")
    await settle(a, b, c)
    async with a.db.sessions.begin() as session:
        await relations.follow(a.fed, session, await a.actor("ann"), group)
    before = await _deliveries(a)

    # When alice posts to the community, also mentioning bob@B, ann replies mentioning cara@C,
    # likes it, alice pins it and changes the community
    post = await drafts.publish(a.fed, await a.actor("alice"), Draft(
        text=f"@night-shift @bob@{b.urls.authority} {SECRET} rota for the weekend"))
    reply = await drafts.publish(a.fed, await a.actor("ann"), Draft(
        text=f"@cara@{c.urls.authority} {SECRET} I can take Sunday", in_reply_to_id=str(post.id)))
    async with a.fed.transaction() as session:
        item = await session.get(Object, post.id)
        await actions.like(a.fed, session, await a.actor("ann"), item)
        await moderation.pin(a.fed, session, group, item, await a.actor("alice"), pinned=True)
        community, actor = await groups.update(session, "night-shift", by="test", now=a.clock.now(),
                                               title="Night shift (ward 3)")
        await groups.tell_members(a.fed, session, community, actor)
    await settle(a, b, c)

    # Then A queued no delivery at all, and both posts are institution-only
    assert await _deliveries(a) == before
    async with a.db.sessions() as session:
        assert (await session.get(Object, post.id)).local_only and (await session.get(Object, reply.id)).local_only

    # And neither B nor C, signed or not, reaches any of it
    urls = [group.uri, f"{group.uri}/followers", f"{group.uri}/following", f"{group.uri}/outbox",
            f"{group.uri}/moderators", group.featured_url, f"{group.uri}/collections/tags",
            f"{group.uri}/context/{post.id}", post.uri, f"{post.uri}/activity", reply.uri, f"{reply.uri}/activity"]
    for peer in (b, c):
        for url in urls:
            for headers in (AP, {**AP, **peer.fed.sign_get("GET", url)}):
                async with http.get(url, headers=headers) as r:
                    assert r.status == 404, (url, r.status)
        for resource in (f"acct:night-shift@{a.urls.authority}", group.uri):
            url = f"{a.base}/.well-known/webfinger?resource={resource}"
            for headers in ({}, peer.fed.sign_get("GET", url)):
                async with http.get(URL(url, encoded=True), headers=headers) as r:
                    assert r.status == 404, (resource, r.status)

    # And after B's and C's users tried to resolve its handle and its addresses
    for peer, name in ((b, "bob"), (c, "cara")):
        try:
            await resolve_account(peer.fed, f"night-shift@{a.urls.authority}")
        except RemoteError:
            pass
        else:
            raise AssertionError("a peer resolved an institution-only community")
        headers = await token_for(peer, name, create=False)
        for query in (f"@night-shift@{a.urls.authority}", group.uri, post.uri, reply.uri, SECRET):
            async with http.get(f"{peer.base}/api/v2/search", params={"q": query, "resolve": "true"},
                                headers=headers) as r:
                found = await r.json()
                assert (found["accounts"], found["statuses"]) == ([], []), (query, found)
        async with http.get(f"{peer.base}/api/v1/accounts/lookup", params={"acct": f"night-shift@{a.urls.authority}"},
                            headers=headers) as r:
            assert r.status == 404
        # Then nothing of it is stored there
        assert await _traces(peer, ["night-shift", SECRET, f"/context/{post.id}"]) == []

    # (red-check companion: ann's ordinary post does reach B and C)
    await drafts.publish(a.fed, await a.actor("ann"), Draft(text="open to all"))
    assert await _deliveries(a) > before
