"""Search through the client API over raw HTTP: local accounts, statuses and hashtags, and
remote accounts and posts resolved over federation between two real instances."""

from __future__ import annotations

from urllib.parse import quote

from federation.outbox import actions
from storage.models import Actor, Object, Visibility
from tests.api_helpers import token_for
from tests.instances import free_port, settle


async def _post(instance, username: str, text: str, **options) -> Object:
    async with instance.db.sessions.begin() as session:
        return await actions.post(instance.fed, session, await instance.actor(username), content=f"<p>{text}</p>",
                                 **options)


async def _get(http, url: str, headers=None, status: int = 200):
    async with http.get(url, headers=headers) as r:
        assert r.status == status, await r.text()
        return await r.json()


async def _post_api(http, url: str, headers, status: int = 200, **body):
    async with http.post(url, headers=headers, **body) as r:
        assert r.status == status, await r.text()
        return await r.json()


async def test_search_finds_local_accounts_statuses_and_hashtags(instances, http):
    # Given alice, bob the surgeon, and posts of which one is followers-only
    a = await instances.start()
    alice = await token_for(a, "alice")
    await token_for(a, "bob")
    bob_id = (await a.actor("bob")).id
    async with a.db.sessions.begin() as session:
        (await session.get(Actor, bob_id)).display_name = "Bob Surgeon"
    public = await _post(a, "bob", "Sepsis bundle audit #Sepsis", tags=["Sepsis"])
    await _post(a, "bob", "sepsis numbers, followers only", visibility=Visibility.private)
    await _post(a, "alice", "hand hygiene #HandHygiene", tags=["HandHygiene"])
    url = f"{a.base}/api/v2/search"
    # When alice searches for "sepsis"
    found = await _get(http, f"{url}?q=sepsis", alice)
    # Then she finds the public post and the hashtag, not the followers-only post
    assert [s["id"] for s in found["statuses"]] == [str(public.id)]
    [tag] = found["hashtags"]
    assert (tag["name"], tag["url"], tag["following"], tag["featuring"]) == ("sepsis", f"{a.base}/tags/sepsis", False, False)
    assert len(tag["history"]) == 7
    assert found["accounts"] == []
    # And accounts match by display name, and `type` narrows the results
    found = await _get(http, f"{url}?q=surg&type=accounts", alice)
    assert [x["username"] for x in found["accounts"]] == ["bob"] and found["statuses"] == found["hashtags"] == []
    # And a `user@host` query finds a known account without resolving
    found = await _get(http, f"{url}?q={quote('@bob@' + a.urls.authority)}", alice)
    assert [x["acct"] for x in found["accounts"]] == ["bob"]
    # And limit and offset page the results
    first = await _get(http, f"{url}?q=e&type=accounts&limit=1", alice)
    second = await _get(http, f"{url}?q=e&type=accounts&limit=1&offset=1", alice)
    assert [x["username"] for x in first["accounts"] + second["accounts"]] == ["alice", "bob"]
    # And v1 account search answers a list
    listed = await _get(http, f"{a.base}/api/v1/accounts/search?q=bo", alice)
    assert [x["username"] for x in listed] == ["bob"]


async def test_search_refusals(instances, http):
    # Given an instance and a token without the search scope
    a = await instances.start()
    alice = await token_for(a, "alice")
    no_search = await token_for(a, "alice", "write", create=False)
    await _post(a, "alice", "public words")
    url = f"{a.base}/api/v2/search"
    # Then a missing q is 400, a token without read:search is 403, a bad type is 400
    await _get(http, f"{url}", alice, status=400)
    await _get(http, f"{url}?q=alice", no_search, status=403)
    await _get(http, f"{url}?q=alice&type=people", alice, status=400)
    # And anonymous readers may search accounts but not statuses, nor resolve, nor page
    found = await _get(http, f"{url}?q=words")
    assert found["statuses"] == []
    found = await _get(http, f"{url}?q=ali")
    assert [x["username"] for x in found["accounts"]] == ["alice"]
    await _get(http, f"{url}?q=bob@example.org&resolve=true", status=401)
    await _get(http, f"{url}?q=ali&offset=1", status=401)
    await _get(http, f"{a.base}/api/v1/accounts/search?q=ali", status=401)


async def test_follow_a_remote_user_found_through_search_resolve(instances, http):
    # Given alice on A and bob on B, unknown to A
    a, b = await instances.start("a"), await instances.start("b")
    alice = await token_for(a, "alice")
    bob_on_b = await token_for(b, "bob")
    acct = f"bob@{b.urls.authority}"
    assert (await _get(http, f"{a.base}/api/v2/search?q={quote(acct)}", alice))["accounts"] == []
    # When alice searches with resolve=true
    found = await _get(http, f"{a.base}/api/v2/search?q={quote(acct)}&resolve=true&type=accounts", alice)
    # Then bob is found over WebFinger
    assert [x["acct"] for x in found["accounts"]] == [acct]
    bob_id = found["accounts"][0]["id"]
    # When she follows him, Then it is requested until B answers
    rel = await _post_api(http, f"{a.base}/api/v1/accounts/{bob_id}/follow", alice, json={"reblogs": True})
    assert (rel["following"], rel["requested"]) == (False, True)
    await settle(a, b)
    # Then the relationship shows following, and B lists alice among bob's followers
    rels = await _get(http, f"{a.base}/api/v1/accounts/relationships?id[]={bob_id}", alice)
    assert (rels[0]["following"], rels[0]["requested"]) == (True, False)
    bob_local = str((await b.actor("bob")).id)
    followers = await _get(http, f"{b.base}/api/v1/accounts/{bob_local}/followers", bob_on_b)
    assert [x["acct"] for x in followers] == [f"alice@{a.urls.authority}"]


async def test_a_locked_remote_account_authorizes_a_follow_request(instances, http):
    # Given bob on B has locked his account, and alice on A asks to follow him
    a, b = await instances.start("a"), await instances.start("b")
    alice = await token_for(a, "alice")
    bob = await token_for(b, "bob")
    async with http.patch(f"{b.base}/api/v1/accounts/update_credentials", json={"locked": True}, headers=bob) as r:
        assert r.status == 200
    acct = quote(f"bob@{b.urls.authority}")
    bob_id = (await _get(http, f"{a.base}/api/v2/search?q={acct}&resolve=true", alice))["accounts"][0]["id"]
    await _post_api(http, f"{a.base}/api/v1/accounts/{bob_id}/follow", alice)
    await settle(a, b)
    rels = await _get(http, f"{a.base}/api/v1/accounts/relationships?id[]={bob_id}", alice)
    assert (rels[0]["following"], rels[0]["requested"]) == (False, True)
    # When bob authorizes the request on B
    requests = await _get(http, f"{b.base}/api/v1/follow_requests", bob)
    assert [x["acct"] for x in requests] == [f"alice@{a.urls.authority}"]
    await _post_api(http, f"{b.base}/api/v1/follow_requests/{requests[0]['id']}/authorize", bob)
    await settle(a, b)
    # Then alice follows him on A
    rels = await _get(http, f"{a.base}/api/v1/accounts/relationships?id[]={bob_id}", alice)
    assert (rels[0]["following"], rels[0]["requested"]) == (True, False)


async def test_resolve_urls_of_remote_posts_and_actors(instances, http):
    # Given bob on B has a public post
    a, b = await instances.start("a"), await instances.start("b")
    alice = await token_for(a, "alice")
    await b.add_user("bob")
    post = await _post(b, "bob", "Grand rounds: central line infections")
    url = f"{a.base}/api/v2/search"
    # When alice searches the post's URL with resolve=true, Then A fetches and shows it
    found = await _get(http, f"{url}?q={quote(post.uri)}&resolve=true", alice)
    assert [s["uri"] for s in found["statuses"]] == [post.uri] and found["accounts"] == []
    assert "central line" in found["statuses"][0]["content"]
    # When she searches bob's actor URL, Then she gets his account
    actor_uri = (await b.actor("bob")).uri
    found = await _get(http, f"{url}?q={quote(actor_uri)}&resolve=true", alice)
    assert [x["acct"] for x in found["accounts"]] == [f"bob@{b.urls.authority}"] and found["statuses"] == []
    # And unresolvable queries give empty results, not errors
    closed = f"127.0.0.1:{free_port()}"
    for q in (f"nobody@{closed}", f"http://{closed}/users/nobody", f"nobody@{b.urls.authority}"):
        found = await _get(http, f"{url}?q={quote(q)}&resolve=true", alice)
        assert found["accounts"] == [] and found["statuses"] == [], q
