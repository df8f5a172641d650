"""What apps call on start and on common screens, over raw HTTP: announcements (made by admins,
dismissed and reacted to by users), custom emojis (ours from the admin API, peers' from their
Emoji tags), staff roles, a post's app, source, familiar followers, CORS on /static and /media.
Mastodon.py drives the same routes in tests/test_mastodon_py_boosts.py; the CLI in
tests/test_notice_cli.py."""

from __future__ import annotations

import io
from urllib.parse import quote

import aiohttp
from PIL import Image

from federation.admin import users
from federation.outbox import relations
from tests.api_helpers import token_for


def png(colour=(30, 160, 90)) -> bytes:
    data = io.BytesIO()
    Image.new("RGBA", (32, 32), colour + (255,)).save(data, "PNG")
    return data.getvalue()


async def _json(http, method, url, headers=None, status=200, **kwargs):
    async with http.request(method, url, headers=headers or {}, **kwargs) as r:
        assert r.status == status, (method, url, r.status, await r.text())
        return await r.json()


def _emoji_form(shortcode: str, data: bytes, category: str | None = None) -> aiohttp.FormData:
    form = aiohttp.FormData()
    form.add_field("shortcode", shortcode)
    if category:
        form.add_field("category", category)
    form.add_field("file", data, filename="emoji.png", content_type="image/png")
    return form


async def test_announcements_from_admins_dismissed_and_reacted_to(api):
    # Given an admin, and alice and bob
    a, http, alice, bob = api
    root = await token_for(a, "root", "read write admin:read admin:write", admin=True)
    admin_url, url = f"{a.base}/api/rounds/v1/admin/announcements", f"{a.base}/api/v1/announcements"
    # When the admin announces something (a user may not)
    await _json(http, "POST", admin_url, alice, 403, json={"text": "Grand rounds moved"})
    await _json(http, "POST", admin_url, root, 422, json={"text": "   "})
    await _json(http, "POST", admin_url, root, 422, json={"text": "x", "ends_at": "next tuesday"})
    made = await _json(http, "POST", admin_url, root, json={"text": "Grand rounds move to room 4 <b>today</b>"})
    # an announcement that has ended is never shown
    await _json(http, "POST", admin_url, root, json={"text": "old news", "ends_at": "2020-01-01T00:00:00Z"})
    # Then every user sees it, as Mastodon shows one
    [seen] = await _json(http, "GET", url, alice)
    assert seen["id"] == made["id"] and seen["read"] is False and seen["reactions"] == []
    assert seen["content"] == "<p>Grand rounds move to room 4 &lt;b&gt;today&lt;/b&gt;</p>"
    assert {"starts_at", "ends_at", "all_day", "published_at", "updated_at", "mentions", "emojis"} <= seen.keys()
    await _json(http, "GET", url, status=401)  # a user's, not anyone's
    # When alice and bob react with a thumbs-up, and alice with a heart
    thumbs, heart = quote("👍"), quote("❤️")
    for headers, name in ((alice, thumbs), (bob, thumbs), (alice, heart), (alice, thumbs)):
        assert await _json(http, "PUT", f"{url}/{made['id']}/reactions/{name}", headers) == {}
    [seen] = await _json(http, "GET", url, bob)
    assert [(r["name"], r["count"], r["me"]) for r in seen["reactions"]] == [("👍", 2, True), ("❤️", 1, False)]
    # a reaction that is no emoji, or an unknown custom one, is refused; so is an unknown announcement
    for name in ("hello", "a%20b", "nosuchemoji"):
        await _json(http, "PUT", f"{url}/{made['id']}/reactions/{name}", alice, 422)
    await _json(http, "PUT", f"{url}/12345/reactions/{thumbs}", alice, 404)
    await _json(http, "POST", f"{url}/12345/dismiss", alice, 404)
    await _json(http, "POST", f"{url}/abc/dismiss", alice, 404)
    # When bob takes his back, and alice dismisses it
    await _json(http, "DELETE", f"{url}/{made['id']}/reactions/{thumbs}", bob)
    await _json(http, "POST", f"{url}/{made['id']}/dismiss", alice)
    # Then alice no longer sees it unless she asks, and bob still does
    assert await _json(http, "GET", url, alice) == []
    [again] = await _json(http, "GET", f"{url}?with_dismissed=true", alice)
    assert again["read"] is True and [(r["name"], r["count"]) for r in again["reactions"]] == [("👍", 1), ("❤️", 1)]
    assert [s["id"] for s in await _json(http, "GET", url, bob)] == [made["id"]]
    # When the admin removes it, it is gone for everyone
    assert len(await _json(http, "GET", admin_url, root)) == 2
    await _json(http, "DELETE", f"{admin_url}/{made['id']}", alice, 403)
    await _json(http, "DELETE", f"{admin_url}/{made['id']}", root)
    await _json(http, "DELETE", f"{admin_url}/{made['id']}", root, 404)
    assert await _json(http, "GET", url, bob) == []


async def test_custom_emojis_from_the_admin_api_show_in_statuses_and_accounts(api):
    # Given an admin
    a, http, alice, bob = api
    root = await token_for(a, "root", "read write admin:read admin:write", admin=True)
    admin_url = f"{a.base}/api/rounds/v1/admin/custom_emojis"
    # When she adds an emoji (a user may not; a bad shortcode, a taken one or no image is refused)
    await _json(http, "POST", admin_url, alice, 403, data=_emoji_form("handwash", png()))
    await _json(http, "POST", admin_url, root, 422, data=_emoji_form("hand wash", png()))
    await _json(http, "POST", admin_url, root, 422, data=_emoji_form("notimage", b"GIF89a not really"))
    added = await _json(http, "POST", admin_url, root, data=_emoji_form(":handwash:", png(), "hygiene"))
    await _json(http, "POST", admin_url, root, 422, data=_emoji_form("handwash", png()))
    assert (added["shortcode"], added["category"], added["visible_in_picker"]) == ("handwash", "hygiene", True)
    # Then every app lists it, with no token, and its image is served to any origin
    [listed] = await _json(http, "GET", f"{a.base}/api/v1/custom_emojis")
    assert listed == added
    async with http.get(listed["url"]) as r:
        assert r.status == 200 and r.content_type == "image/png"
        assert r.headers["Access-Control-Allow-Origin"] == "*"
    async with http.get(listed["static_url"]) as r:
        assert r.status == 200
    # When alice writes its shortcode in a post and in her name
    status = await _json(http, "POST", f"{a.base}/api/v1/statuses", alice,
                         json={"status": "Before rounds :handwash: :nosuch: handwash"})
    await _json(http, "PATCH", f"{a.base}/api/v1/accounts/update_credentials", alice,
                json={"display_name": "Alice :handwash:"})
    # Then the status and the account name the emoji, and nothing else
    assert status["emojis"] == [listed]
    shown = await _json(http, "GET", f"{a.base}/api/v1/statuses/{status['id']}", bob)
    assert shown["emojis"] == [listed] and shown["account"]["emojis"] == [listed]
    # When the admin removes it, it is listed no more, posts show the text, and its image is gone
    await _json(http, "DELETE", f"{admin_url}/handwash", alice, 403)
    await _json(http, "DELETE", f"{admin_url}/handwash", root)
    await _json(http, "DELETE", f"{admin_url}/handwash", root, 404)
    assert await _json(http, "GET", f"{a.base}/api/v1/custom_emojis") == []
    assert (await _json(http, "GET", f"{a.base}/api/v1/statuses/{status['id']}", bob))["emojis"] == []
    async with http.get(listed["url"]) as r:
        assert r.status == 404


async def test_a_peers_emoji_tags_are_kept_and_shown_only_on_its_own_posts(scene):
    # Given zed, whose name carries his server's emoji
    a, http = scene.a, scene.http
    blob = {"type": "Emoji", "name": ":blob:", "icon": {"type": "Image", "url": f"{scene.peer.base}/emoji/blob.png"}}
    scene.peer.actors["zed"].update(name="Zed :blob:", tag=[blob, {"type": "Emoji", "name": ":bad one:",
                                                                   "icon": {"url": "https://x.example/b.png"}}])
    # When zed posts with his emoji tags
    note = scene.note("zed", "1", content="<p>ok :blob: :other:</p>",
                      tag=[blob, {"type": "Emoji", "name": ":other:", "icon": {"url": "javascript:alert(1)"}}])
    await scene.send("zed", "Create", note)
    await scene.run()
    # Then his status and his account show his server's emoji, and nothing not well-formed
    alice = await token_for(a, "alice", create=False)
    [status] = await _json(http, "GET", f"{a.base}/api/v1/timelines/public", alice)
    expected = {"shortcode": "blob", "url": blob["icon"]["url"], "static_url": blob["icon"]["url"],
                "visible_in_picker": False, "category": None}
    assert status["emojis"] == [expected]
    assert status["account"]["emojis"] == [expected]
    # And it is not ours: apps' pickers do not offer it, and alice's :blob: is only text
    assert await _json(http, "GET", f"{a.base}/api/v1/custom_emojis") == []
    mine = await _json(http, "POST", f"{a.base}/api/v1/statuses", alice, json={"status": "me too :blob:"})
    assert mine["emojis"] == []


async def test_roles_app_source_and_familiar_followers(api):
    a, http, alice, bob = api
    root = await token_for(a, "root", admin=True)
    mo = await token_for(a, "mo")
    async with a.db.sessions.begin() as session:
        await users.set_role(session, "mo", users.MODERATOR, by="test", at=a.clock.now())
    # Staff show their role on their profile; everyone has a role on verify_credentials
    me = await _json(http, "GET", f"{a.base}/api/v1/accounts/verify_credentials", root)
    assert me["role"] == {"id": "3", "name": "Admin", "permissions": "1", "color": "", "highlighted": True}
    assert me["roles"] == [{"id": "3", "name": "Admin", "color": ""}]
    assert (await _json(http, "GET", f"{a.base}/api/v1/accounts/verify_credentials", mo))["role"]["name"] == "Moderator"
    mine = await _json(http, "GET", f"{a.base}/api/v1/accounts/verify_credentials", alice)
    assert mine["role"]["id"] == "-99" and mine["role"]["permissions"] == "0" and mine["roles"] == []
    assert (mine["source"]["discoverable"], mine["source"]["indexable"]) == (mine["discoverable"], mine["indexable"])
    shown = await _json(http, "GET", f"{a.base}/api/v1/accounts/{me['id']}", alice)
    assert shown["roles"] == [{"id": "3", "name": "Admin", "color": ""}]

    # A post made through an app names the app; one made with a token no app holds names none
    app = await _json(http, "POST", f"{a.base}/api/v1/apps", json={
        "client_name": "Ward tablet", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob", "scopes": "read write",
        "website": "https://tablet.example"})
    token = await _json(http, "POST", f"{a.base}/oauth/token", data={
        "grant_type": "password", "client_id": app["client_id"], "client_secret": app["client_secret"],
        "username": "alice", "password": "correct horse battery", "scope": "read write"})
    via_app = await _json(http, "POST", f"{a.base}/api/v1/statuses", {"Authorization": f"Bearer {token['access_token']}"},
                          json={"status": "from the ward"})
    assert via_app["application"] == {"name": "Ward tablet", "website": "https://tablet.example"}
    assert (await _json(http, "GET", f"{a.base}/api/v1/statuses/{via_app['id']}", bob))["application"] == via_app["application"]
    plain = await _json(http, "POST", f"{a.base}/api/v1/statuses", alice, json={"status": "from a script"})
    assert plain["application"] is None

    # Familiar followers: who, of those alice follows, follows dave
    dave = await token_for(a, "dave")
    await token_for(a, "carol")
    async with a.fed.transaction() as session:
        for follower, followee in (("alice", "bob"), ("alice", "carol"), ("bob", "dave"), ("carol", "dave"),
                                   ("mo", "dave")):
            await relations.follow(a.fed, session, await a.actor(follower), await a.actor(followee))
    dave_id = str((await a.actor("dave")).id)
    bob_id = str((await a.actor("bob")).id)
    found = await _json(http, "GET", f"{a.base}/api/v1/accounts/familiar_followers?id[]={dave_id}&id[]={bob_id}"
                        "&id[]=999&id[]=x", alice)
    assert [(f["id"], sorted(acc["username"] for acc in f["accounts"])) for f in found] == [
        (dave_id, ["bob", "carol"]), (bob_id, [])]
    assert await _json(http, "GET", f"{a.base}/api/v1/accounts/familiar_followers?id[]={dave_id}", dave) == [
        {"id": dave_id, "accounts": []}]
    await _json(http, "GET", f"{a.base}/api/v1/accounts/familiar_followers?id[]={dave_id}", status=401)


async def test_static_and_media_are_served_to_any_origin(api):
    a, http, alice, _ = api
    for path in ("/static/rounds.css", "/static/avatar.png"):
        async with http.get(f"{a.base}{path}") as r:
            assert r.status == 200 and r.headers["Access-Control-Allow-Origin"] == "*", path
    form = aiohttp.FormData()
    form.add_field("file", png(), filename="a.png", content_type="image/png")
    media = await _json(http, "POST", f"{a.base}/api/v2/media", alice, data=form)
    for url in (media["url"], media["preview_url"]):
        async with http.get(url) as r:
            assert r.status == 200 and r.headers["Access-Control-Allow-Origin"] == "*"
    # pages and the client API keep their own rules
    async with http.get(f"{a.base}/about") as r:
        assert "Access-Control-Allow-Origin" not in r.headers
