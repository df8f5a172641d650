"""The account settings pages over HTTP: the password change and whom it signs out, the
profile form (update_credentials' rules, its Update to followers, the avatar on the profile
page), revoking an app, and the data export."""

from __future__ import annotations

import csv
import io
import json

import aiohttp
from PIL import Image
from sqlalchemy import select

from storage.models import Activity, Actor, Delivery, Follow, FollowState
from tests.api_helpers import token_for
from tests.factories import add_followers, remote_actor
from tests.web_helpers import PASSWORD, browser_like, page_token, sign_in, submit

NEW_PASSWORD = "a longer new passphrase"


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 32), (20, 120, 200)).save(out, format="PNG")
    return out.getvalue()


async def _status(http, url: str, headers: dict[str, str]) -> int:
    async with http.get(url, headers=headers) as response:
        return response.status


async def test_a_password_change_needs_the_current_one_and_signs_everything_else_out(instances):
    # Given alice signed in at the office and on the ward, and an app holding a token of hers
    a = await instances.start()
    token = await token_for(a, "alice")
    verify = f"{a.base}/api/v1/accounts/verify_credentials"
    async with browser_like() as office, browser_like() as ward:
        await sign_in(office, a.base, "alice")
        await sign_in(ward, a.base, "alice")
        # When someone at her unlocked workstation tries without her current password
        response = await submit(office, a.base, "/settings/password", token_from="/settings/security",
                                current_password="guess", password=NEW_PASSWORD,
                                password_confirmation=NEW_PASSWORD, revoke_tokens="1")
        # Then nothing changes: her password still signs in, the ward and the app still work
        assert response.status == 422
        async with browser_like() as other:
            assert (await sign_in(other, a.base, "alice")).headers["Location"] == "/home"
        assert await _status(office, verify, token) == 200
        # And two new passwords that differ are refused
        response = await submit(office, a.base, "/settings/password", token_from="/settings/security",
                                current_password=PASSWORD, password=NEW_PASSWORD, password_confirmation="other one")
        assert response.status == 422
        # When she changes it with her current password
        response = await submit(office, a.base, "/settings/password", token_from="/settings/security",
                                current_password=PASSWORD, password=NEW_PASSWORD,
                                password_confirmation=NEW_PASSWORD, revoke_tokens="1")
        assert response.status == 303
        # Then the ward's browser and the app are signed out, and the office is not
        async with ward.get(f"{a.base}/home", allow_redirects=False) as response:
            assert response.status == 303
        async with office.get(f"{a.base}/home", allow_redirects=False) as response:
            assert response.status == 200
        assert await _status(office, verify, token) == 401
        # And only the new password signs in
        async with browser_like() as other:
            assert (await sign_in(other, a.base, "alice")).status == 400
            assert (await sign_in(other, a.base, "alice", NEW_PASSWORD)).headers["Location"] == "/home"


async def test_revoking_an_app_ends_its_tokens_for_the_client_api(instances):
    # Given an app that alice and bob both signed in to
    a = await instances.start()
    await a.add_user("alice")
    await a.add_user("bob")
    verify = f"{a.base}/api/v1/accounts/verify_credentials"
    async with browser_like() as http:
        async with http.post(f"{a.base}/api/v1/apps", data={
                "client_name": "Ward tablet", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob", "scopes": "read"}) as r:
            app = await r.json()
        tokens = {}
        for name in ("alice", "bob"):
            async with http.post(f"{a.base}/oauth/token", data={
                    "grant_type": "password", "client_id": app["client_id"], "client_secret": app["client_secret"],
                    "username": name, "password": PASSWORD, "scope": "read"}) as r:
                tokens[name] = {"Authorization": f"Bearer {(await r.json())['access_token']}"}
    async with browser_like() as browser:
        await sign_in(browser, a.base, "alice")
        # When alice opens her authorised apps, Then the app is there
        async with browser.get(f"{a.base}/settings/apps") as response:
            page = await response.text()
        assert "Ward tablet" in page
        app_id = page.split('id="app-', 1)[1].split('"', 1)[0]
        assert await _status(browser, verify, tokens["alice"]) == 200
        # When she revokes it
        response = await submit(browser, a.base, f"/settings/apps/{app_id}/revoke", token_from="/settings/apps")
        assert response.status == 303
        # Then the app's token of hers is refused by the client API, and bob's is not
        assert await _status(browser, verify, tokens["alice"]) == 401
        assert await _status(browser, verify, tokens["bob"]) == 200
        async with browser.get(f"{a.base}/settings/apps") as response:
            assert 'id="no-apps"' in await response.text()


async def test_the_profile_form_saves_through_update_credentials_and_tells_followers(instances):
    # Given alice, followed from another server
    a = await instances.start()
    await a.add_user("alice")
    async with a.db.sessions.begin() as session:
        alice = (await session.scalars(select(Actor).where(Actor.username == "alice", Actor.local.is_(True)))).one()
        await add_followers(session, alice, 1)
    async with browser_like() as browser:
        await sign_in(browser, a.base, "alice")
        token = await page_token(browser, f"{a.base}/settings/profile")
        form = aiohttp.FormData({"csrf_token": token, "display_name": "Dr Alice", "note": "Infection control",
                                 "fields_attributes[0][name]": "Unit", "fields_attributes[0][value]": "ICU",
                                 "fields_attributes[1][name]": "", "fields_attributes[1][value]": ""})
        form.add_field("avatar", _png(), filename="me.png", content_type="image/png")
        form.add_field("header", b"", filename="", content_type="application/octet-stream")  # left blank
        # When she saves her profile with an avatar
        async with browser.post(f"{a.base}/settings/profile", data=form, allow_redirects=False) as response:
            assert response.status == 303 and response.headers["Location"] == "/settings/profile?saved", await response.text()
        # Then her profile page shows it, and the avatar is served
        async with browser.get(f"{a.base}/@alice") as response:
            page = await response.text()
        assert "Dr Alice" in page and "<dt>Unit</dt><dd>ICU</dd>" in page
        avatar = page.split('id="profile-avatar"', 1)[0].rsplit('src="', 1)[1].split('"', 1)[0]
        async with browser.get(avatar) as response:
            assert response.status == 200 and response.content_type == "image/png"
        assert 'id="profile-header"' not in page
        # And an Update of her actor is queued for her follower's server
        async with a.db.sessions() as session:
            update = (await session.scalars(select(Activity).where(Activity.type == "Update"))).one()
            inboxes = list(await session.scalars(select(Delivery.inbox).where(Delivery.activity_id == update.id)))
        assert update.raw["object"]["name"] == "Dr Alice" and inboxes == ["https://remote.example/inbox"]
        # When she tries a display name over update_credentials' limit, Then nothing changes
        response = await submit(browser, a.base, "/settings/profile", token_from="/settings/profile",
                                display_name="x" * 31, note="changed")
        assert response.status == 422
        async with browser.get(f"{a.base}/settings/profile") as response:
            assert ">Infection control</textarea>" in await response.text()


async def test_the_export_holds_her_posts_follows_and_bookmarks_and_nobody_elses(instances):
    # Given alice's posts (one for followers only), bookmarks, follows both ways; and bob's post
    a = await instances.start()
    alice = await token_for(a, "alice", "read write follow")
    bob = await token_for(a, "bob", "read write follow")
    async with browser_like() as http:
        ids = {}
        for who, text, visibility in ((alice, "public note", "public"), (alice, "ward note", "private"),
                                      (bob, "bob's note", "public")):
            async with http.post(f"{a.base}/api/v1/statuses", headers=who,
                                 json={"status": text, "visibility": visibility}) as r:
                ids[text] = (await r.json())
        async with http.post(f"{a.base}/api/v1/statuses/{ids['bob' + chr(39) + 's note']['id']}/bookmark",
                             headers=alice) as r:
            assert r.status == 200
    async with a.db.sessions.begin() as session:
        me = (await session.scalars(select(Actor).where(Actor.username == "alice", Actor.local.is_(True)))).one()
        await add_followers(session, me, 2)
        followed = remote_actor(7, "other.example")
        session.add(followed)
        await session.flush()
        session.add(Follow(follower_id=me.id, followee_id=followed.id, state=FollowState.accepted))
    async with browser_like() as browser:
        await sign_in(browser, a.base, "alice")
        # When she downloads each file
        async with browser.get(f"{a.base}/settings/export/outbox.json") as response:
            assert "attachment" in response.headers["Content-Disposition"]
            outbox = json.loads(await response.read())
        files = {}
        for name in ("following_accounts.csv", "followers.csv", "bookmarks.csv"):
            async with browser.get(f"{a.base}/settings/export/{name}") as response:
                assert response.content_type == "text/csv"
                files[name] = list(csv.reader(io.StringIO(await response.text())))
    # Then the outbox holds both her posts, whatever their audience, and not bob's
    assert outbox["type"] == "OrderedCollection" and outbox["totalItems"] == 2
    contents = [item["object"]["content"] for item in outbox["orderedItems"]]
    assert any("ward note" in c for c in contents) and any("public note" in c for c in contents)
    assert not any("bob" in c for c in contents)
    # And the CSVs are in Mastodon's shapes
    assert files["following_accounts.csv"] == [["Account address", "Show boosts", "Notify on new posts", "Languages"],
                                               ["r7@other.example", "true", "false", ""]]
    assert files["followers.csv"] == [["Account address"], ["r0@remote.example"], ["r1@remote.example"]]
    assert files["bookmarks.csv"] == [[ids["bob's note"]["uri"]]]
