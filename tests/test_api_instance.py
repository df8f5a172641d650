"""The instance endpoints of the client API: /api/v1/instance and /api/v2/instance, peers, rules,
custom emojis, preferences and read markers, over real HTTP against a running instance."""

from __future__ import annotations

from federation.outbox import actions

from federation.peers import decisions

from federation.social import accounts
from storage.models import Account, Peer, PeerState
from tests.factories import remote_actor


async def token_for(instance, username: str, scopes: str = "read write") -> dict[str, str]:
    async with instance.db.sessions.begin() as session:
        token = await accounts.create_token(session, username, scopes)
    return {"Authorization": f"Bearer {token.token}"}


async def add_remote_actors(instance, *domains: str) -> None:
    async with instance.db.sessions.begin() as session:
        for n, domain in enumerate(domains):
            session.add(remote_actor(n, domain))


async def get_json(http, url: str, **kwargs):
    async with http.get(url, **kwargs) as response:
        return response.status, await response.json()


async def test_instance_v1_reports_settings_counts_and_contact(instances, http):
    # Given an instance with an admin and a user, three posts (one deleted), and remote actors on two domains
    a = await instances.start(instance={"name": "CHU Test", "contact_email": "it@chu.example"})
    await a.add_user("alice", admin=True)
    await a.add_user("bob")
    async with a.fed.transaction() as session:
        alice = await a.actor("alice")
        for n in range(3):
            post = await actions.post(a.fed, session, alice, content=f"<p>{n}</p>")
        await actions.delete(a.fed, session, alice, post)
    await add_remote_actors(a, "one.example", "two.example")

    # When a client reads the v1 instance document (with and without a trailing slash)
    status, doc = await get_json(http, f"{a.base}/api/v1/instance")
    status_slash, doc_slash = await get_json(http, f"{a.base}/api/v1/instance/")

    # Then it has Mastodon's v1 shape, with our settings and counts
    assert status == status_slash == 200 and doc == doc_slash
    authority = a.base.removeprefix("http://")
    assert doc["uri"] == authority
    assert doc["title"] == "CHU Test" and doc["email"] == "it@chu.example"
    assert doc["version"].startswith("4.3.0 (compatible; Rounds ")
    assert doc["urls"] == {"streaming_api": f"ws://{authority}"}
    assert doc["stats"] == {"user_count": 2, "status_count": 2, "domain_count": 2}
    assert doc["registrations"] is False and doc["invites_enabled"] is False and doc["approval_required"] is False
    assert doc["contact_account"]["username"] == "alice"
    assert doc["configuration"]["statuses"]["max_characters"] == a.settings.api.status_max_characters
    media = doc["configuration"]["media_attachments"]
    assert media["supported_mime_types"] == a.settings.api.media_types.split()
    assert media["image_size_limit"] == a.settings.api.media_max_bytes
    assert isinstance(doc["languages"], list) and doc["rules"] == []


async def test_instance_v2_has_configuration_and_api_versions(instances, http):
    # Given an instance where alice has posted (so she is active this month) and bob has not
    a = await instances.start(instance={"contact_email": "it@chu.example"})
    await a.add_user("alice")
    await a.add_user("bob")
    async with a.fed.transaction() as session:
        await actions.post(a.fed, session, await a.actor("alice"), content="<p>hello</p>")

    # When a client reads the v2 instance document
    status, doc = await get_json(http, f"{a.base}/api/v2/instance")

    # Then it has Mastodon's v2 shape
    assert status == 200
    authority = a.base.removeprefix("http://")
    assert doc["domain"] == authority
    assert doc["version"].startswith("4.3.0 (compatible; Rounds ")
    assert doc["api_versions"] == {"mastodon": 7}
    assert doc["usage"] == {"users": {"active_month": 1}}
    assert doc["thumbnail"]["url"].startswith(a.base)
    config = doc["configuration"]
    assert config["urls"]["streaming"] == f"ws://{authority}"
    assert set(config["accounts"]) >= {"max_featured_tags", "max_pinned_statuses"}
    assert config["statuses"]["max_characters"] == a.settings.api.status_max_characters
    assert set(config["statuses"]) >= {"max_media_attachments", "characters_reserved_per_url"}
    assert config["media_attachments"]["image_matrix_limit"] == a.settings.api.media_max_pixels
    assert set(config["media_attachments"]) >= {"supported_mime_types", "image_size_limit", "video_size_limit"}
    assert set(config["polls"]) == {"max_options", "max_characters_per_option", "min_expiration", "max_expiration"}
    assert config["translation"] == {"enabled": False}
    assert doc["registrations"]["enabled"] is False and "message" in doc["registrations"]
    assert doc["contact"] == {"email": "it@chu.example", "account": None}
    assert doc["rules"] == []


async def test_peers_list_known_domains_but_never_blocked_ones(instances, http):
    # Given an open instance that knows three domains: two by their actors, one as a contact
    a = await instances.start()
    await add_remote_actors(a, "one.example", "two.example")
    async with a.db.sessions.begin() as session:
        session.add(Peer(domain="three.example", state=PeerState.known))
    status, listed = await get_json(http, f"{a.base}/api/v1/instance/peers")
    assert status == 200 and listed == ["one.example", "three.example", "two.example"]

    # When the admin blocks one of them
    async with a.db.sessions.begin() as session:
        await decisions.decide(session, "two.example", PeerState.blocked, by="test", at=a.clock.now())
    await a.fed.reload_policy()

    # Then the peers list (and the domain count) no longer names it
    _, listed = await get_json(http, f"{a.base}/api/v1/instance/peers")
    assert listed == ["one.example", "three.example"]
    _, doc = await get_json(http, f"{a.base}/api/v1/instance")
    assert doc["stats"]["domain_count"] == 2


async def test_peers_in_allowlist_mode_are_only_the_allowed_ones(instances, http):
    # Given an allowlist instance that has seen two domains and allowed one of them
    a = await instances.start(federation={"mode": "allowlist"})
    await add_remote_actors(a, "allowed.example", "unlisted.example")
    async with a.db.sessions.begin() as session:
        await decisions.decide(session, "allowed.example", PeerState.allowed, by="test", at=a.clock.now())
    await a.fed.reload_policy()

    await a.add_user("root", admin=True)

    # When an admin asks for the peers, then only the allowed domain is listed
    status, listed = await get_json(http, f"{a.base}/api/v1/instance/peers", headers=await token_for(a, "root"))
    assert (status, listed) == (200, ["allowed.example"])
    # (who else may read the list in this mode: tests/test_read_access.py)


async def test_allowlist_mode_instance_document_counts_no_domains_but_names_its_contact(instances, http):
    # Given an allowlist instance with an admin, that has allowed a peer
    a = await instances.start(federation={"mode": "allowlist"})
    await a.add_user("root", admin=True)
    await add_remote_actors(a, "allowed.example")
    async with a.db.sessions.begin() as session:
        await decisions.decide(session, "allowed.example", PeerState.allowed, by="test", at=a.clock.now())
    await a.fed.reload_policy()
    # When an app reads the instance documents before anyone logs in
    status, v1 = await get_json(http, f"{a.base}/api/v1/instance")
    status2, v2 = await get_json(http, f"{a.base}/api/v2/instance")
    # Then they answer, without counting the consortium (only admins may read the peers list)
    assert status == status2 == 200 and v1["stats"]["domain_count"] == 0
    assert "allowed.example" not in str(v1) + str(v2)
    # and name the contact, as Mastodon's limited federation mode does: an account, no posts
    assert v1["contact_account"]["username"] == v2["contact"]["account"]["username"] == "root"
    assert "status" not in v1["contact_account"] and "pinned" not in v1["contact_account"]
    # while an admin still counts them in the peers list
    _, listed = await get_json(http, f"{a.base}/api/v1/instance/peers", headers=await token_for(a, "root"))
    assert listed == ["allowed.example"]


async def test_rules_and_custom_emojis_are_empty_lists(instances, http):
    a = await instances.start()
    for path in ("/api/v1/instance/rules", "/api/v1/custom_emojis"):
        status, body = await get_json(http, f"{a.base}{path}")
        assert (status, body) == (200, [])


async def test_preferences_default_then_stored_and_scoped(instances, http):
    # Given alice with no stored preferences
    a = await instances.start()
    account, _ = await a.add_user("alice")
    headers = await token_for(a, "alice", "read:accounts")
    url = f"{a.base}/api/v1/preferences"

    # Then she sees Mastodon's defaults
    status, prefs = await get_json(http, url, headers=headers)
    assert status == 200
    assert prefs == {
        "posting:default:visibility": "public", "posting:default:sensitive": False,
        "posting:default:language": None, "reading:expand:media": "default", "reading:expand:spoilers": False,
    }

    # When she has stored some, then they come back
    async with a.db.sessions.begin() as session:
        (await session.get(Account, account.id)).preferences = {
            "posting:default:visibility": "private", "posting:default:language": "fr",
        }
    _, prefs = await get_json(http, url, headers=headers)
    assert prefs["posting:default:visibility"] == "private" and prefs["posting:default:language"] == "fr"

    # And without a token, or with a token lacking read:accounts, she is refused
    assert (await get_json(http, url))[0] == 401
    assert (await get_json(http, url, headers=await token_for(a, "alice", "write")))[0] == 403


async def test_markers_round_trip_and_version_goes_up(instances, http):
    # Given alice with read and write tokens
    a = await instances.start()
    await a.add_user("alice")
    headers = await token_for(a, "alice")
    url = f"{a.base}/api/v1/markers"

    # When she saves a home marker as a form, then it starts at version 1
    async with http.post(url, data={"home[last_read_id]": "100"}, headers=headers) as response:
        assert response.status == 200
        saved = await response.json()
    assert saved["home"]["last_read_id"] == "100" and saved["home"]["version"] == 1
    assert saved["home"]["updated_at"].endswith("Z")

    # When she moves it and sets notifications as JSON, then home's version goes up
    body = {"home": {"last_read_id": "105"}, "notifications": {"last_read_id": "7"}}
    async with http.post(url, json=body, headers=headers) as response:
        saved = await response.json()
    assert saved["home"] == {**saved["home"], "last_read_id": "105", "version": 2}
    assert saved["notifications"]["version"] == 1

    # Then reading them back gives the same, per requested timeline
    _, both = await get_json(http, f"{url}?timeline[]=home&timeline[]=notifications", headers=headers)
    assert both == saved
    _, home = await get_json(http, f"{url}?timeline[]=home", headers=headers)
    assert set(home) == {"home"} and home["home"]["version"] == 2


async def test_markers_refuse_bad_ids_and_missing_scopes(instances, http):
    a = await instances.start()
    await a.add_user("alice")
    url = f"{a.base}/api/v1/markers"
    async with http.post(url, data={"home[last_read_id]": "not-an-id"}, headers=await token_for(a, "alice")) as r:
        assert r.status == 422 and "error" in await r.json()
    async with http.post(url, data={"home[last_read_id]": "5"}, headers=await token_for(a, "alice", "read")) as r:
        assert r.status == 403
    assert (await get_json(http, url, headers=await token_for(a, "alice", "write")))[0] == 403
