"""Filters v2 through the client API over raw HTTP: CRUD with keywords and listed posts, what
`filtered` says on statuses, `hide` leaving posts out of the listings of its contexts, and
expiry."""

from __future__ import annotations

import json

from tests.api_helpers import token_for
from tests.test_api_streaming import listening, next_sse, post
from tests.web_helpers import browser_like, sign_in


async def _call(http, method, url, headers, status=200, **body):
    async with http.request(method, url, headers=headers, **body) as r:
        assert r.status == status, await r.text()
        return await r.json()


async def _post(http, a, headers, text, **extra):
    return await _call(http, "POST", f"{a.base}/api/v1/statuses", headers, json={"status": text, **extra})


async def test_filter_crud_with_keywords_and_statuses(api):
    a, http, alice, bob = api
    v2 = f"{a.base}/api/v2/filters"
    # Given a filter created from a form, keywords given the Rails way
    form = [("title", "Vendors"), ("context[]", "home"), ("context[]", "public"), ("filter_action", "hide"),
            ("keywords_attributes[][keyword]", "discount"), ("keywords_attributes[][whole_word]", "false"),
            ("keywords_attributes[][keyword]", "free trial")]
    made = await _call(http, "POST", v2, alice, data=form)
    assert made["title"] == "Vendors" and made["context"] == ["home", "public"] and made["filter_action"] == "hide"
    assert made["expires_at"] is None and made["statuses"] == []
    assert [(k["keyword"], k["whole_word"]) for k in made["keywords"]] == [("discount", False), ("free trial", True)]
    # When it is changed: one keyword removed, one renamed, one added, the action and contexts changed
    first, second = made["keywords"]
    changed = await _call(http, "PUT", f"{v2}/{made['id']}", alice, json={
        "filter_action": "warn", "context": ["notifications"],
        "keywords_attributes": [{"id": first["id"], "_destroy": True},
                                {"id": second["id"], "keyword": "free sample"}, {"keyword": "promo", "whole_word": False}]})
    # Then the filter is what was asked
    assert changed["filter_action"] == "warn" and changed["context"] == ["notifications"]
    assert [(k["keyword"], k["whole_word"]) for k in changed["keywords"]] == [("free sample", True), ("promo", False)]
    assert [f["id"] for f in await _call(http, "GET", v2, alice)] == [made["id"]]
    assert (await _call(http, "GET", f"{v2}/{made['id']}", alice))["keywords"] == changed["keywords"]
    # keywords and statuses through their own endpoints
    added = await _call(http, "POST", f"{v2}/{made['id']}/keywords", alice, json={"keyword": "coupon"})
    assert added["whole_word"] is True
    edited = await _call(http, "PUT", f"{v2}/keywords/{added['id']}", alice, json={"whole_word": False})
    assert edited == {**added, "whole_word": False}
    assert await _call(http, "GET", f"{v2}/keywords/{added['id']}", alice) == edited
    assert [k["keyword"] for k in await _call(http, "GET", f"{v2}/{made['id']}/keywords", alice)] == [
        "free sample", "promo", "coupon"]
    await _call(http, "DELETE", f"{v2}/keywords/{added['id']}", alice)
    await _call(http, "GET", f"{v2}/keywords/{added['id']}", alice, status=404)
    post = await _post(http, a, bob, "an ordinary post")
    listed = await _call(http, "POST", f"{v2}/{made['id']}/statuses", alice, json={"status_id": post["id"]})
    assert listed["status_id"] == post["id"]
    assert await _call(http, "GET", f"{v2}/statuses/{listed['id']}", alice) == listed
    assert await _call(http, "GET", f"{v2}/{made['id']}/statuses", alice) == [listed]
    # v1 reads each keyword as a filter
    v1 = await _call(http, "GET", f"{a.base}/api/v1/filters", alice)
    assert [(f["phrase"], f["context"], f["irreversible"]) for f in v1] == [
        ("free sample", ["notifications"], False), ("promo", ["notifications"], False)]
    assert (await _call(http, "GET", f"{a.base}/api/v1/filters/{v1[0]['id']}", alice))["phrase"] == "free sample"
    # someone else's filter, keyword or listed post is not found, for reading or writing
    for method, url in [("GET", f"{v2}/{made['id']}"), ("PUT", f"{v2}/{made['id']}"), ("DELETE", f"{v2}/{made['id']}"),
                        ("GET", f"{v2}/keywords/{second['id']}"),
                        ("DELETE", f"{v2}/statuses/{listed['id']}"), ("POST", f"{v2}/{made['id']}/keywords")]:
        await _call(http, method, url, bob, status=404, json={"keyword": "x"})
    assert await _call(http, "GET", v2, bob) == []
    # deleting the filter takes its keywords and statuses with it
    assert await _call(http, "DELETE", f"{v2}/statuses/{listed['id']}", alice) == listed
    await _call(http, "DELETE", f"{v2}/{made['id']}", alice)
    await _call(http, "GET", f"{v2}/{made['id']}", alice, status=404)
    assert await _call(http, "GET", f"{a.base}/api/v1/filters", alice) == []


async def test_bad_filters_are_refused_whole(api):
    a, http, alice, _ = api
    v2 = f"{a.base}/api/v2/filters"
    base = {"title": "t", "context": ["home"]}
    for body, words in [({**base, "context": ["elsewhere"]}, "Context"), ({**base, "context": []}, "Context"),
                        ({**base, "title": " "}, "Title"), ({**base, "filter_action": "explode"}, "filter_action"),
                        ({**base, "expires_in": "soon"}, "expires_in"),
                        ({**base, "keywords_attributes": [{"keyword": "ok"}, {"keyword": ""}]}, "Keyword")]:
        error = await _call(http, "POST", v2, alice, status=422, json=body)
        assert words in error["error"]
    # a keyword id on a new filter is not found; nothing was written by any of these
    await _call(http, "POST", v2, alice, status=404, json={**base, "keywords_attributes": [{"id": "5", "keyword": "x"}]})
    assert await _call(http, "GET", v2, alice) == []
    # an update with one bad keyword changes nothing
    made = await _call(http, "POST", v2, alice, json={**base, "keywords_attributes": [{"keyword": "keep"}]})
    await _call(http, "PUT", f"{v2}/{made['id']}", alice, status=422, json={
        "title": "renamed", "keywords_attributes": [{"id": made["keywords"][0]["id"], "_destroy": True}, {"keyword": ""}]})
    assert await _call(http, "GET", f"{v2}/{made['id']}", alice) == made
    # a keyword of another filter cannot be changed or removed through this one
    other = await _call(http, "POST", v2, alice, json={**base, "keywords_attributes": [{"keyword": "other"}]})
    for entry in ({"id": other["keywords"][0]["id"], "_destroy": True}, {"id": other["keywords"][0]["id"], "keyword": "x"}):
        await _call(http, "PUT", f"{v2}/{made['id']}", alice, status=404, json={"keywords_attributes": [entry]})
    assert await _call(http, "GET", f"{v2}/{other['id']}", alice) == other


async def test_filtered_on_statuses_and_hide_by_context(api):
    a, http, alice, bob = api
    bob_id = (await _call(http, "GET", f"{a.base}/api/v1/accounts/verify_credentials", bob))["id"]
    await _call(http, "POST", f"{a.base}/api/v1/accounts/{bob_id}/follow", alice)
    warn = await _call(http, "POST", f"{a.base}/api/v2/filters", alice, json={
        "title": "Spoilers", "context": ["home", "public"], "filter_action": "warn",
        "keywords_attributes": [{"keyword": "MRS", "whole_word": True}, {"keyword": "ward 7", "whole_word": False}]})
    hide = await _call(http, "POST", f"{a.base}/api/v2/filters", alice, json={
        "title": "Vendors", "context": ["home"], "filter_action": "hide",
        "keywords_attributes": [{"keyword": "discount"}]})
    # Given bob's posts: a whole word, a word inside a longer one, a phrase, a hidden one
    whole = await _post(http, a, bob, "<b>MRS</b> screening today")
    inside = await _post(http, a, bob, "MRSA screening today")
    ending = await _post(http, a, bob, "the XMRS code")
    phrase = await _post(http, a, bob, "Moved to Ward 7b", spoiler_text="logistics")
    vendor = await _post(http, a, bob, "A DISCOUNT on gloves")
    own = await _post(http, a, alice, "my own MRS note")
    # When alice reads her home timeline
    home = await _call(http, "GET", f"{a.base}/api/v1/timelines/home", alice)
    by_id = {s["id"]: s for s in home}
    # Then the hidden post is left out, the warned ones carry a FilterResult, the rest nothing
    assert vendor["id"] not in by_id
    assert by_id[whole["id"]]["filtered"] == [{
        "filter": {"id": warn["id"], "title": "Spoilers", "context": ["home", "public"], "expires_at": None,
                   "filter_action": "warn"},
        "keyword_matches": ["MRS"], "status_matches": None}]
    assert by_id[inside["id"]]["filtered"] == [] and by_id[ending["id"]]["filtered"] == []
    assert [r["keyword_matches"] for r in by_id[phrase["id"]]["filtered"]] == [["ward 7"]]
    assert by_id[own["id"]]["filtered"] == []  # one's own posts match none of one's filters
    # the hide filter is of home only: the public timeline shows the post, with `filtered` saying why
    public = {s["id"]: s for s in await _call(http, "GET", f"{a.base}/api/v1/timelines/public", alice)}
    assert [r["filter"]["filter_action"] for r in public[vendor["id"]]["filtered"]] == ["hide"]
    # and the post itself is still there, filtered
    single = await _call(http, "GET", f"{a.base}/api/v1/statuses/{vendor['id']}", alice)
    assert single["filtered"][0]["filter"]["id"] == hide["id"]
    # a listed post matches by id, in the thread and on the profile when those are its contexts
    listing = await _call(http, "POST", f"{a.base}/api/v2/filters", alice, json={
        "title": "That one", "context": ["thread", "account"], "filter_action": "hide"})
    await _call(http, "POST", f"{a.base}/api/v2/filters/{listing['id']}/statuses", alice, json={"status_id": inside["id"]})
    reply = await _post(http, a, bob, "reply", in_reply_to_id=inside["id"])
    statuses = await _call(http, "GET", f"{a.base}/api/v1/accounts/{bob_id}/statuses", alice)
    assert inside["id"] not in {s["id"] for s in statuses} and whole["id"] in {s["id"] for s in statuses}
    context = await _call(http, "GET", f"{a.base}/api/v1/statuses/{reply['id']}/context", alice)
    assert context["ancestors"] == []
    home = {s["id"]: s for s in await _call(http, "GET", f"{a.base}/api/v1/timelines/home", alice)}
    assert home[inside["id"]]["filtered"][0]["status_matches"] == [inside["id"]]
    # bob, who has no filters, sees everything unfiltered
    assert all(s["filtered"] == [] for s in await _call(http, "GET", f"{a.base}/api/v1/timelines/public", bob))


async def test_expired_filters_match_nothing(api):
    a, http, alice, bob = api
    await _call(http, "POST", f"{a.base}/api/v2/filters", alice, json={
        "title": "Briefly", "context": ["public"], "filter_action": "hide", "expires_in": 3600,
        "keywords_attributes": [{"keyword": "rota"}]})
    post = await _post(http, a, bob, "the new rota")
    public = f"{a.base}/api/v1/timelines/public"
    assert post["id"] not in {s["id"] for s in await _call(http, "GET", public, alice)}
    # When the hour has passed, the filter is kept but applies no more
    a.clock.advance(seconds=3601)
    shown = {s["id"]: s for s in await _call(http, "GET", public, alice)}
    assert shown[post["id"]]["filtered"] == []
    [kept] = await _call(http, "GET", f"{a.base}/api/v2/filters", alice)
    assert kept["expires_at"] is not None
    # extending it makes it apply again
    await _call(http, "PUT", f"{a.base}/api/v2/filters/{kept['id']}", alice, json={"expires_in": 60})
    assert post["id"] not in {s["id"] for s in await _call(http, "GET", public, alice)}


async def test_hide_in_notifications(api):
    a, http, alice, bob = api
    await _call(http, "POST", f"{a.base}/api/v2/filters", alice, json={
        "title": "Noise", "context": ["notifications"], "filter_action": "hide",
        "keywords_attributes": [{"keyword": "lunch"}]})
    noisy = await _post(http, a, bob, "@alice lunch?")
    useful = await _post(http, a, bob, "@alice see the protocol")
    v1 = await _call(http, "GET", f"{a.base}/api/v1/notifications", alice)
    assert [n["status"]["id"] for n in v1] == [useful["id"]]
    v2 = await _call(http, "GET", f"{a.base}/api/v2/notifications", alice)
    assert [g["status_id"] for g in v2["notification_groups"]] == [useful["id"]]
    assert [s["id"] for s in v2["statuses"]] == [useful["id"]]
    assert noisy["id"]


async def test_streams_obey_hide_and_carry_filtered(instances, http):
    # Given alice on the public stream, hiding "gloves" there and warned of "rota"
    a = await instances.start()
    alice = await token_for(a, "alice")
    await a.add_user("bob")
    await listening(a)
    for title, action, word in [("Vendors", "hide", "gloves"), ("Rotas", "warn", "rota")]:
        await _call(http, "POST", f"{a.base}/api/v2/filters", alice, json={
            "title": title, "context": ["public"], "filter_action": action, "keywords_attributes": [{"keyword": word}]})
    token = alice["Authorization"].removeprefix("Bearer ")
    async with http.get(f"{a.base}/api/v1/streaming/public?access_token={token}") as response:
        # When bob posts about gloves, then the rota, then something else
        await post(a, "bob", "<p>cheap gloves</p>")
        rota = await post(a, "bob", "<p>the rota</p>")
        other = await post(a, "bob", "<p>hello</p>")
        # Then the gloves never reach her; the rota comes with its FilterResult
        name, data = await next_sse(response)
        assert (name, json.loads(data)["id"]) == ("update", str(rota))
        assert [r["filter"]["title"] for r in json.loads(data)["filtered"]] == ["Rotas"]
        name, data = await next_sse(response)
        assert (json.loads(data)["id"], json.loads(data)["filtered"]) == (str(other), [])


async def test_web_pages_obey_hide_filters(api):
    # Given alice hides "gloves" in public timelines and threads
    a, http, alice, bob = api
    await _call(http, "POST", f"{a.base}/api/v2/filters", alice, json={
        "title": "Vendors", "context": ["public", "thread"], "filter_action": "hide",
        "keywords_attributes": [{"keyword": "gloves"}]})
    root = await _post(http, a, bob, "a question about the rota")
    gloves = await _post(http, a, bob, "cheap gloves here", in_reply_to_id=root["id"])
    other = await _post(http, a, bob, "the answer", in_reply_to_id=root["id"])
    # When she reads the federated timeline and the thread in her browser
    async with browser_like() as browser:
        assert (await sign_in(browser, a.base, "alice")).status == 303
        async with browser.get(f"{a.base}/federated") as response:
            federated = await response.text()
        async with browser.get(f"{a.base}/posts/{root['id']}") as response:
            thread = await response.text()
    # Then the gloves are in neither, and the rest is
    for page in (federated, thread):
        assert f'id="status-{gloves["id"]}"' not in page and f'id="status-{other["id"]}"' in page
