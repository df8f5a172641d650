"""Accounts through the client API over raw HTTP: the caller's profile, other accounts and
their statuses, follow requests, blocks and mutes, scope refusals and Link paging."""

from __future__ import annotations

import io
import re

import asyncio

import aiohttp
from mastodon import Mastodon
from PIL import Image
from sqlalchemy import select

from federation.outbox import actions
from storage.models import Account, Activity, Media, Object, Pin, Visibility
from tests.api_helpers import token_for
from tests.community_helpers import follow_remote
from tests.instances import settle


async def _post(a, username: str, text: str, *, reply_to: Object | None = None, **options) -> Object:
    async with a.db.sessions.begin() as session:
        parent = await session.get(Object, reply_to.id) if reply_to is not None else None
        return await actions.post(a.fed, session, await a.actor(username), content=f"<p>{text}</p>",
                                 in_reply_to=parent, **options)


async def _get(http, url: str, headers=None, status: int = 200):
    async with http.get(url, headers=headers) as r:
        assert r.status == status, await r.text()
        return await r.json(), r.headers.get("Link", "")


async def _call(http, method: str, url: str, headers=None, status: int = 200, **body):
    async with http.request(method, url, headers=headers, **body) as r:
        assert r.status == status, await r.text()
        return await r.json()


def _link(header: str, rel: str) -> str:
    match = re.search(rf'<([^>]+)>; rel="{rel}"', header)
    assert match, header
    return match[1]


async def _actor_document(http, a, username: str) -> dict:
    async with http.get(f"{a.base}/users/{username}", headers={"Accept": "application/activity+json"}) as r:
        assert r.status == 200, await r.text()
        return await r.json(content_type=None)


async def _id(a, username: str) -> str:
    return str((await a.actor(username)).id)


async def test_verify_credentials_returns_the_callers_credential_account(api):
    # Given alice with a token
    a, http, alice, _ = api
    # When she verifies her credentials
    me, _ = await _get(http, f"{a.base}/api/v1/accounts/verify_credentials", alice)
    # Then she gets her Account with its source
    assert me["id"] == await _id(a, "alice") and me["username"] == "alice" and me["acct"] == "alice"
    assert me["source"] == {"privacy": "public", "sensitive": False, "language": None, "note": "",
                            "fields": [], "follow_requests_count": 0, "discoverable": True, "indexable": True,
                            "hide_collections": False, "attribution_domains": []}
    assert me["url"] == f"{a.base}/@alice" and me["locked"] is False


async def test_update_credentials_changes_the_profile_and_the_actor_document(api):
    # Given alice, whose actor document a peer has already fetched (and the server cached)
    a, http, alice, _ = api
    doc = await _actor_document(http, a, "alice")
    assert doc["name"] == "alice" and doc["manuallyApprovesFollowers"] is False
    form = {"display_name": "Dr Alice", "note": "Infection control\n\nWard <5>", "locked": "true",
            "fields_attributes[0][name]": "Unit", "fields_attributes[0][value]": "ICU",
            "fields_attributes[1][name]": "Pager", "fields_attributes[1][value]": "42",
            "source[privacy]": "unlisted", "bot": "true"}
    # When she updates her profile with a form
    me = await _call(http, "PATCH", f"{a.base}/api/v1/accounts/update_credentials", alice, data=form)
    # Then the answer shows it, with the note rendered as HTML and kept as typed in source
    assert me["display_name"] == "Dr Alice" and me["locked"] is True
    assert me["note"] == "<p>Infection control</p><p>Ward &lt;5&gt;</p>"
    assert me["source"]["note"] == "Infection control\n\nWard <5>" and me["source"]["privacy"] == "unlisted"
    assert [(f["name"], f["value"]) for f in me["fields"]] == [("Unit", "ICU"), ("Pager", "42")]
    # And the actor document peers fetch says the same
    doc = await _actor_document(http, a, "alice")
    assert doc["name"] == "Dr Alice" and doc["manuallyApprovesFollowers"] is True
    assert doc["summary"] == me["note"]
    assert [(p["name"], p["value"]) for p in doc["attachment"]] == [("Unit", "ICU"), ("Pager", "42")]
    # And an Update of the actor was recorded for her followers
    async with a.db.sessions() as session:
        updates = list(await session.scalars(select(Activity).where(Activity.type == "Update")))
    assert [u.raw["object"]["name"] for u in updates] == ["Dr Alice"]

    # When she sends JSON with fields as a list and unlocks
    me = await _call(http, "PATCH", f"{a.base}/api/v1/accounts/update_credentials", alice,
                     json={"locked": False, "fields_attributes": [{"name": "Site", "value": "North"}]})
    # Then only the given attributes change
    assert me["locked"] is False and me["display_name"] == "Dr Alice"
    assert [(f["name"], f["value"]) for f in me["fields"]] == [("Site", "North")]


async def test_update_credentials_refuses_invalid_values(api):
    a, http, alice, _ = api
    url = f"{a.base}/api/v1/accounts/update_credentials"
    await _call(http, "PATCH", url, alice, status=422, json={"display_name": "x" * 31})
    five = [{"name": f"n{i}", "value": "v"} for i in range(5)]
    await _call(http, "PATCH", url, alice, status=422, json={"fields_attributes": five})
    await _call(http, "PATCH", url, alice, status=422, json={"source": {"privacy": "everyone"}})
    me, _ = await _get(http, f"{a.base}/api/v1/accounts/verify_credentials", alice)
    assert me["display_name"] == "alice" and me["fields"] == []


async def test_show_and_lookup_accounts(api):
    # Given alice and bob
    a, http, alice, _ = api
    bob_id = await _id(a, "bob")
    # When an account is fetched by id, or looked up by name with or without the domain
    shown, _ = await _get(http, f"{a.base}/api/v1/accounts/{bob_id}")
    by_name, _ = await _get(http, f"{a.base}/api/v1/accounts/lookup?acct=bob", alice)
    by_acct, _ = await _get(http, f"{a.base}/api/v1/accounts/lookup?acct=@bob@{a.urls.authority}")
    # Then each is bob; unknown ones are 404
    assert shown["username"] == by_name["username"] == by_acct["username"] == "bob"
    assert shown["id"] == by_name["id"] == by_acct["id"] == bob_id
    await _get(http, f"{a.base}/api/v1/accounts/lookup?acct=nobody", status=404)
    await _get(http, f"{a.base}/api/v1/accounts/9{bob_id}", status=404)
    await _get(http, f"{a.base}/api/v1/accounts/lookup", status=422)


async def test_account_statuses_filter_page_and_respect_visibility(api):
    # Given alice's posts: public ones, a reply to bob, a followers-only one, a tagged one with
    # media, a pinned one, and a boost of bob's post
    a, http, alice, bob = api
    bobs = await _post(a, "bob", "bob's audit")
    first = await _post(a, "alice", "one")
    await _post(a, "alice", "thread", reply_to=first)
    reply = await _post(a, "alice", "to bob", reply_to=bobs)
    private = await _post(a, "alice", "followers only", visibility=Visibility.private)
    tagged = await _post(a, "alice", "sepsis", tags=["Sepsis"])
    async with a.db.sessions.begin() as session:
        session.add(Media(actor_id=tagged.actor_id, object_id=tagged.id, type="image", mime_type="image/png",
                          file_name="x.png", size=10, width=2, height=2))
        session.add(Pin(actor_id=first.actor_id, object_id=first.id))
        boost = await actions.boost(a.fed, session, await a.actor("alice"), await session.get(Object, bobs.id))
    url = f"{a.base}/api/v1/accounts/{await _id(a, 'alice')}/statuses"

    async def ids(query: str, headers=alice) -> list[str]:
        return [s["id"] for s in (await _get(http, f"{url}?{query}", headers))[0]]

    # Then alice sees all, newest first, boost included
    everything = await ids("")
    assert everything[0] == str(boost.id) and str(private.id) in everything and len(everything) == 6
    # And bob (not a follower) and anonymous readers do not see the followers-only post
    assert str(private.id) not in await ids("", bob)
    assert len(await ids("limit=5", bob)) == 5  # hidden posts do not leave a page short
    assert str(private.id) not in await ids("", None)
    # And the filters keep what they say
    assert str(reply.id) not in await ids("exclude_replies=true") and len(await ids("exclude_replies=true")) == 5
    assert str(boost.id) not in await ids("exclude_reblogs=true")
    assert await ids("only_media=true") == [str(tagged.id)]
    assert await ids("pinned=true") == [str(first.id)]
    assert await ids("tagged=sepsis") == [str(tagged.id)]
    # When paged two at a time, Then the Link header walks the pages without overlap
    page1, link = await _get(http, f"{url}?limit=2", alice)
    page2, _ = await _get(http, _link(link, "next"), alice)
    assert [s["id"] for s in page1 + page2] == everything[:4]
    back, _ = await _get(http, _link(link, "prev"), alice)
    assert back == []


async def test_followers_and_following_page_with_link_headers(instances, http):
    # Given bob followed by three local users
    a = await instances.start()
    bob = await token_for(a, "bob")
    names = ["carol", "dan", "erin"]
    for name in names:
        headers = await token_for(a, name)
        await _call(http, "POST", f"{a.base}/api/v1/accounts/{await _id(a, 'bob')}/follow", headers)
    url = f"{a.base}/api/v1/accounts/{await _id(a, 'bob')}/followers"
    # When his followers are read two at a time
    page1, link = await _get(http, f"{url}?limit=2", bob)
    page2, link2 = await _get(http, _link(link, "next"), bob)
    # Then the pages hold the newest follow first and meet without overlap
    assert [x["username"] for x in page1] == ["erin", "dan"] and [x["username"] for x in page2] == ["carol"]
    assert "limit=2" in _link(link, "next") and "max_id=" in _link(link, "next")
    newer, _ = await _get(http, _link(link2, "prev"), bob)
    assert [x["username"] for x in newer] == ["erin", "dan"]
    # And carol's following lists bob
    following, _ = await _get(http, f"{a.base}/api/v1/accounts/{await _id(a, 'carol')}/following")
    assert [x["username"] for x in following] == ["bob"] and following[0]["followers_count"] == 3


async def test_follow_requests_for_a_locked_account(instances, http):
    # Given bob has locked his account and alice and carol ask to follow him
    a = await instances.start()
    alice, bob, carol = [await token_for(a, name) for name in ("alice", "bob", "carol")]
    await _call(http, "PATCH", f"{a.base}/api/v1/accounts/update_credentials", bob, json={"locked": True})
    bob_id = await _id(a, "bob")
    for headers in (alice, carol):
        rel = await _call(http, "POST", f"{a.base}/api/v1/accounts/{bob_id}/follow", headers)
        assert rel["requested"] is True and rel["following"] is False
    # When bob lists his requests
    requests, _ = await _get(http, f"{a.base}/api/v1/follow_requests", bob)
    assert sorted(x["username"] for x in requests) == ["alice", "carol"]
    me, _ = await _get(http, f"{a.base}/api/v1/accounts/verify_credentials", bob)
    assert me["source"]["follow_requests_count"] == 2
    # And authorizes alice and rejects carol
    alice_id, carol_id = await _id(a, "alice"), await _id(a, "carol")
    rel = await _call(http, "POST", f"{a.base}/api/v1/follow_requests/{alice_id}/authorize", bob)
    assert rel["followed_by"] is True and rel["requested_by"] is False
    rel = await _call(http, "POST", f"{a.base}/api/v1/follow_requests/{carol_id}/reject", bob)
    assert rel["followed_by"] is False and rel["requested_by"] is False
    # Then alice follows bob, carol does not, and no request is left
    rels, _ = await _get(http, f"{a.base}/api/v1/accounts/relationships?id[]={bob_id}", alice)
    assert (rels[0]["following"], rels[0]["requested"]) == (True, False)
    rels, _ = await _get(http, f"{a.base}/api/v1/accounts/relationships?id[]={bob_id}", carol)
    assert (rels[0]["following"], rels[0]["requested"]) == (False, False)
    assert (await _get(http, f"{a.base}/api/v1/follow_requests", bob))[0] == []
    await _call(http, "POST", f"{a.base}/api/v1/follow_requests/{carol_id}/authorize", bob, status=404)


async def test_block_and_mute_show_in_relationships(instances, http):
    # Given alice and bob follow each other, and carol exists
    a = await instances.start()
    alice, bob, _ = [await token_for(a, name) for name in ("alice", "bob", "carol")]
    alice_id, bob_id, carol_id = [await _id(a, n) for n in ("alice", "bob", "carol")]
    await _call(http, "POST", f"{a.base}/api/v1/accounts/{bob_id}/follow", alice)
    await _call(http, "POST", f"{a.base}/api/v1/accounts/{alice_id}/follow", bob)
    # When alice blocks bob
    rel = await _call(http, "POST", f"{a.base}/api/v1/accounts/{bob_id}/block", alice)
    # Then the block shows both ways and the follows ended both ways
    assert (rel["blocking"], rel["following"], rel["followed_by"]) == (True, False, False)
    rels, _ = await _get(http, f"{a.base}/api/v1/accounts/relationships?id[]={alice_id}&id[]=999", bob)
    assert [(r["id"], r["blocked_by"], r["following"]) for r in rels] == [(alice_id, True, False)]
    # And bob cannot follow her again
    await _call(http, "POST", f"{a.base}/api/v1/accounts/{alice_id}/follow", bob, status=403)
    # When alice mutes carol without muting notifications, Then it shows
    rel = await _call(http, "POST", f"{a.base}/api/v1/accounts/{carol_id}/mute", alice, json={"notifications": False})
    assert (rel["muting"], rel["muting_notifications"]) == (True, False)
    # And dave for an hour
    dave_id = (await a.add_user("dave"))[1].id
    await _call(http, "POST", f"{a.base}/api/v1/accounts/{dave_id}/mute", alice, json={"duration": 3600})
    # Then her lists of blocked and muted accounts say so, to a client library too; the muted
    # newest first, each with when the mute ends
    client = Mastodon(access_token=alice["Authorization"].split()[1], api_base_url=a.base)
    assert [str(account["id"]) for account in await asyncio.to_thread(client.blocks)] == [str(bob_id)]
    muted = await asyncio.to_thread(client.mutes)
    assert [(str(account["id"]), account["mute_expires_at"] is None) for account in muted] == [
        (str(dave_id), False), (str(carol_id), True)]
    # And while it lasts, his posts are out of her public timeline, and her home, though she follows him
    dave = await token_for(a, "dave", create=False)
    await _call(http, "POST", f"{a.base}/api/v1/accounts/{dave_id}/follow", alice)
    await _call(http, "POST", f"{a.base}/api/v1/statuses", dave, json={"status": "dave's handover"})

    async def seen() -> tuple[bool, ...]:
        pages = [(await _get(http, f"{a.base}/api/v1/timelines/{which}", alice))[0] for which in ("public", "home")]
        return tuple(any("handover" in s["content"] for s in page) for page in pages)

    assert await seen() == (False, False)
    # And once the hour is over, dave's mute is no longer listed, and his posts show again
    a.clock.advance(minutes=61)
    assert [account["id"] for account in (await _get(http, f"{a.base}/api/v1/mutes", alice))[0]] == [str(carol_id)]
    assert await seen() == (True, True)
    # When she unmutes and unblocks, Then both are gone
    rel = await _call(http, "POST", f"{a.base}/api/v1/accounts/{carol_id}/unmute", alice)
    assert rel["muting"] is False
    rel = await _call(http, "POST", f"{a.base}/api/v1/accounts/{bob_id}/unblock", alice)
    assert rel["blocking"] is False
    rels, _ = await _get(http, f"{a.base}/api/v1/accounts/relationships?id[]={bob_id}&id[]={carol_id}", alice)
    assert [(r["blocking"], r["muting"]) for r in rels] == [(False, False), (False, False)]


async def test_scopes_are_enforced(api):
    # Given tokens with too little scope, no token and a bad token
    a, http, _, _ = api
    read_only = await token_for(a, "alice", "read", create=False)
    follows_only = await token_for(a, "alice", "write:follows", create=False)
    legacy = await token_for(a, "alice", "follow", create=False)
    bob_id = await _id(a, "bob")
    follow = f"{a.base}/api/v1/accounts/{bob_id}/follow"
    # Then each refusal has its status
    await _call(http, "POST", follow, read_only, status=403)
    await _call(http, "POST", follow, None, status=401)
    await _call(http, "POST", follow, {"Authorization": "Bearer not-a-token"}, status=401)
    await _call(http, "PATCH", f"{a.base}/api/v1/accounts/update_credentials", read_only, status=403, json={})
    await _get(http, f"{a.base}/api/v1/accounts/verify_credentials", follows_only, status=403)
    await _get(http, f"{a.base}/api/v1/accounts/verify_credentials", status=401)
    await _get(http, f"{a.base}/api/v1/accounts/relationships?id[]={bob_id}", follows_only, status=403)
    await _get(http, f"{a.base}/api/v1/follow_requests", None, status=401)
    await _call(http, "POST", f"{a.base}/api/v1/accounts/{bob_id}/block", read_only, status=403)
    await _call(http, "POST", f"{a.base}/api/v1/accounts/{bob_id}/mute", follows_only, status=403)
    # And the right scopes pass: write:follows follows, and the legacy follow scope does too
    rel = await _call(http, "POST", follow, follows_only)
    assert rel["following"] is True
    rel = await _call(http, "POST", f"{a.base}/api/v1/accounts/{bob_id}/unfollow", legacy)
    assert rel["following"] is False


async def test_avatar_and_header_upload(instances, http):
    a = await instances.start()
    alice = await token_for(a, "alice")
    png = io.BytesIO()
    Image.new("RGB", (120, 120), (10, 120, 80)).save(png, "PNG")
    form = aiohttp.FormData()
    form.add_field("avatar", png.getvalue(), filename="me.png", content_type="image/png")
    form.add_field("display_name", "Dr Alice")
    async with http.patch(f"{a.base}/api/v1/accounts/update_credentials", data=form, headers=alice) as r:
        assert r.status == 200, await r.text()
        account = await r.json()
    assert account["avatar"].startswith(f"{a.base}/media/") and account["display_name"] == "Dr Alice"
    async with http.get(account["avatar"]) as r:
        assert r.status == 200 and r.content_type == "image/png"
    async with http.get(f"{a.base}/users/alice", headers={"Accept": "application/activity+json"}) as r:
        assert (await r.json(content_type=None))["icon"]["url"] == account["avatar"]
    bad = aiohttp.FormData()
    bad.add_field("header", b"not an image", filename="x.png", content_type="image/png")
    async with http.patch(f"{a.base}/api/v1/accounts/update_credentials", data=bad, headers=alice) as r:
        assert r.status == 422


async def test_token_use_marks_the_user_active_once_an_hour(api):
    a, http, alice, _ = api
    nodeinfo = f"{a.base}/nodeinfo/2.1"

    async def last_active():
        async with a.db.sessions() as session:
            return (await session.scalar(select(Account).where(Account.username == "alice"))).last_active_at

    # Given alice's token, made without a login, so she has never been active
    assert await last_active() is None
    assert (await _get(http, nodeinfo))[0]["usage"]["users"]["activeMonth"] == 0
    # When she reads through the API, Then she is active now, and NodeInfo counts her this month
    await _get(http, f"{a.base}/api/v1/accounts/verify_credentials", alice)
    first = await last_active()
    assert first == a.clock.now()
    assert (await _get(http, nodeinfo))[0]["usage"]["users"]["activeMonth"] == 1
    # A read within the hour writes nothing; one after it moves the time on
    a.clock.advance(minutes=30)
    await _get(http, f"{a.base}/api/v1/timelines/home", alice)
    assert await last_active() == first
    a.clock.advance(minutes=31)
    await _get(http, f"{a.base}/api/v1/timelines/home", alice)
    assert await last_active() == a.clock.now()


async def test_removing_a_follower_elsewhere_ends_the_follow_on_both_servers(instances, http):
    # Given bob on B follows alice on A
    a = await instances.start("a")
    b = await instances.start("b")
    alice = Mastodon(access_token=(await token_for(a, "alice"))["Authorization"].split()[1], api_base_url=a.base)
    bob = await token_for(b, "bob")
    await follow_remote(b, "bob", f"alice@{a.urls.authority}")
    await settle(a, b)
    [follower] = await asyncio.to_thread(alice.account_followers, (await a.actor("alice")).id)
    # When alice removes him from her followers (through Mastodon.py)
    relationship = await asyncio.to_thread(alice.account_remove_from_followers, follower["id"])
    await settle(a, b)
    # Then he no longer follows her, here or on B, where her Reject arrived
    assert relationship["followed_by"] is False
    assert await asyncio.to_thread(alice.account_followers, (await a.actor("alice")).id) == []
    on_b = (await _get(http, f"{b.base}/api/v1/accounts/lookup?acct=alice@{a.urls.authority}", bob))[0]
    rels, _ = await _get(http, f"{b.base}/api/v1/accounts/relationships?id[]={on_b['id']}", bob)
    assert rels[0]["following"] is False


async def test_a_private_note_about_an_account_is_its_writers_alone(api):
    # Given alice and bob, and carol
    a, http, alice, bob = api
    carol_id = (await a.add_user("carol"))[1].id
    client = Mastodon(access_token=alice["Authorization"].split()[1], api_base_url=a.base)
    # When alice writes a note about carol (through Mastodon.py)
    relationship = await asyncio.to_thread(client.account_note_set, carol_id, "Ward 4 charge nurse, nights")
    # Then her relationship with carol carries it, and bob's does not
    assert relationship["note"] == "Ward 4 charge nurse, nights"
    rels, _ = await _get(http, f"{a.base}/api/v1/accounts/relationships?id[]={carol_id}", alice)
    assert rels[0]["note"] == "Ward 4 charge nurse, nights"
    rels, _ = await _get(http, f"{a.base}/api/v1/accounts/relationships?id[]={carol_id}", bob)
    assert rels[0]["note"] == ""
    # When she empties it, Then it is gone; and one too long is refused
    assert (await asyncio.to_thread(client.account_note_set, carol_id, ""))["note"] == ""
    await _call(http, "POST", f"{a.base}/api/v1/accounts/{carol_id}/note", alice, status=422,
                json={"comment": "x" * 2001})
