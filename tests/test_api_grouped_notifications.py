"""Grouped notifications (/api/v2/notifications) and the notification policy over raw HTTP:
groups and their totals, paging with Link headers, grouped_types, one group, its accounts, its
dismissal, unread counts; a policy that holds notifications back for requests, drops them, and
lets an accepted sender through."""

from __future__ import annotations

import re

from federation.peers import decisions
from federation.social import notification_requests as answers
from federation.social.notifications import GROUP_HOURS
from storage.models import Notification, NotificationRequest, PeerState, PolicyAction, RequestState
from tests.api_helpers import token_for


async def _call(http, method, url, headers, status=200, **body):
    async with http.request(method, url, headers=headers, **body) as r:
        assert r.status == status, await r.text()
        return await r.json(), r.headers


async def _get(http, url, headers, status=200):
    return (await _call(http, "GET", url, headers, status))[0]


async def _me(http, a, headers):
    return await _get(http, f"{a.base}/api/v1/accounts/verify_credentials", headers)


async def _favourited_by_many(a, http, alice, count):
    """alice's post, favourited by `count` new users, oldest first; (post, their account ids)."""
    async with http.post(f"{a.base}/api/v1/statuses", json={"status": "the sepsis bundle"}, headers=alice) as r:
        post = await r.json()
    ids = []
    for n in range(count):
        fan = await token_for(a, f"fan{n}")
        await _call(http, "POST", f"{a.base}/api/v1/statuses/{post['id']}/favourite", fan)
        ids.append((await _me(http, a, fan))["id"])
    return post, ids


async def test_favourites_group_with_totals_and_samples(api):
    a, http, alice, bob = api
    post, fans = await _favourited_by_many(a, http, alice, 10)
    await _call(http, "POST", f"{a.base}/api/v1/statuses", bob, json={"status": "@alice hello"})
    body, headers = await _call(http, "GET", f"{a.base}/api/v2/notifications", alice)
    mention, favourites = body["notification_groups"]
    assert mention["type"] == "mention" and mention["notifications_count"] == 1
    assert mention["group_key"] == f"ungrouped-{mention['most_recent_notification_id']}"
    assert favourites["type"] == "favourite" and favourites["status_id"] == post["id"]
    assert favourites["notifications_count"] == 10
    assert favourites["sample_account_ids"] == list(reversed(fans))[:8]  # the latest first, eight at most
    assert favourites["page_min_id"] < favourites["page_max_id"] == favourites["most_recent_notification_id"]
    assert favourites["latest_page_notification_at"].endswith("Z")
    assert {s["id"] for s in body["statuses"]} == {post["id"], mention["status_id"]}
    assert {acc["id"] for acc in body["accounts"]} == set(fans[2:]) | set(mention["sample_account_ids"])
    assert 'rel="next"' in headers["Link"] and 'rel="prev"' in headers["Link"]
    # the v1 list shows them one by one, each with its group's key
    v1 = await _get(http, f"{a.base}/api/v1/notifications", alice)
    assert len(v1) == 11 and {n["group_key"] for n in v1 if n["type"] == "favourite"} == {favourites["group_key"]}
    assert [n["group_key"] for n in v1 if n["type"] == "mention"] == [mention["group_key"]]
    # a client that groups no favourites gets them one by one
    single = await _get(http, f"{a.base}/api/v2/notifications?grouped_types[]=follow", alice)
    assert [g["notifications_count"] for g in single["notification_groups"]] == [1] * 11
    assert all(g["group_key"].startswith("ungrouped-") for g in single["notification_groups"])
    # partial avatars: the group's latest account in full, the others partial
    partial = await _get(http, f"{a.base}/api/v2/notifications?expand_accounts=partial_avatars", alice)
    assert fans[-1] in {acc["id"] for acc in partial["accounts"]}
    assert {acc["id"] for acc in partial["partial_accounts"]} == set(fans[2:-1])
    assert set(partial["partial_accounts"][0]) == {"id", "acct", "url", "avatar", "avatar_static", "locked", "bot"}
    # one group, and all its accounts
    group_url = f"{a.base}/api/v2/notifications/{favourites['group_key']}"
    one = await _get(http, group_url, alice)
    assert one["notification_groups"][0]["notifications_count"] == 10
    assert "page_min_id" not in one["notification_groups"][0]
    assert [acc["id"] for acc in await _get(http, f"{group_url}/accounts", alice)] == list(reversed(fans))
    # someone else's group is not found
    await _get(http, group_url, bob, status=404)
    await _get(http, f"{group_url}/accounts", bob, status=404)
    for url in (f"{a.base}/api/v2/notifications/{mention['group_key']}", f"{a.base}/api/v2/notifications/{mention['group_key']}/accounts"):
        await _get(http, url, bob, status=404)
    await _call(http, "POST", f"{a.base}/api/v2/notifications/{mention['group_key']}/dismiss", bob, status=404)
    await _call(http, "POST", f"{group_url}/dismiss", bob, status=404)
    # dismissing the group dismisses all of it
    await _call(http, "POST", f"{group_url}/dismiss", alice)
    await _get(http, group_url, alice, status=404)
    assert [n["type"] for n in await _get(http, f"{a.base}/api/v1/notifications", alice)] == ["mention"]


async def test_favourites_of_another_window_are_another_group(api):
    a, http, alice, _ = api
    post, _ = await _favourited_by_many(a, http, alice, 1)
    a.clock.advance(hours=GROUP_HOURS)
    later = await token_for(a, "later")
    await _call(http, "POST", f"{a.base}/api/v1/statuses/{post['id']}/favourite", later)
    body = await _get(http, f"{a.base}/api/v2/notifications", alice)
    assert [g["notifications_count"] for g in body["notification_groups"]] == [1, 1]
    assert len({g["group_key"] for g in body["notification_groups"]}) == 2


async def test_paging_by_groups(api):
    a, http, alice, bob = api
    post, _ = await _favourited_by_many(a, http, alice, 3)
    for n in range(3):
        await _call(http, "POST", f"{a.base}/api/v1/statuses", bob, json={"status": f"@alice note {n}"})
    first, headers = await _call(http, "GET", f"{a.base}/api/v2/notifications?limit=2", alice)
    assert [g["type"] for g in first["notification_groups"]] == ["mention", "mention"]
    next_url = re.search(r'<([^>]+)>; rel="next"', headers["Link"]).group(1)
    second, headers = await _call(http, "GET", next_url, alice)
    assert [(g["type"], g["notifications_count"]) for g in second["notification_groups"]] == [
        ("mention", 1), ("favourite", 3)]
    third, _ = await _call(http, "GET", re.search(r'<([^>]+)>; rel="next"', headers["Link"]).group(1), alice)
    assert third["notification_groups"] == []
    # and back: the page above the second is the first
    prev_url = re.search(r'<([^>]+)>; rel="prev"', headers["Link"]).group(1)
    back, _ = await _call(http, "GET", prev_url, alice)
    assert [g["group_key"] for g in back["notification_groups"]] == [g["group_key"] for g in first["notification_groups"]]


async def test_unread_counts_groups_above_the_marker(api):
    a, http, alice, bob = api
    post, _ = await _favourited_by_many(a, http, alice, 3)
    await _call(http, "POST", f"{a.base}/api/v1/statuses", bob, json={"status": "@alice hello"})
    assert (await _get(http, f"{a.base}/api/v2/notifications/unread_count", alice))["count"] == 2
    assert (await _get(http, f"{a.base}/api/v1/notifications/unread_count", alice))["count"] == 4
    assert (await _get(http, f"{a.base}/api/v2/notifications/unread_count?grouped_types[]=follow", alice))["count"] == 4
    assert (await _get(http, f"{a.base}/api/v2/notifications/unread_count?types[]=mention", alice))["count"] == 1
    newest = (await _get(http, f"{a.base}/api/v1/notifications", alice))[0]["id"]
    await _call(http, "POST", f"{a.base}/api/v1/markers", alice, json={"notifications": {"last_read_id": newest}})
    assert (await _get(http, f"{a.base}/api/v2/notifications/unread_count", alice))["count"] == 0


async def test_policy_holds_back_drops_and_accepts(api):
    a, http, alice, bob = api
    policy_url = f"{a.base}/api/v2/notifications/policy"
    policy = await _get(http, policy_url, alice)
    assert policy == {"for_not_following": "accept", "for_not_followers": "accept", "for_new_accounts": "accept",
                      "for_private_mentions": "accept", "for_limited_accounts": "accept",
                      "summary": {"pending_requests_count": 0, "pending_notifications_count": 0}}
    assert await _get(http, f"{a.base}/api/v1/notifications/requests", alice) == []
    # Given alice holds back whoever she does not follow
    changed, _ = await _call(http, "PATCH", policy_url, alice, json={"for_not_following": "filter"})
    assert changed["for_not_following"] == "filter" and changed["for_not_followers"] == "accept"
    await _call(http, "PATCH", policy_url, alice, status=422, json={"for_new_accounts": "maybe"})
    # someone she follows still comes through
    dave = await token_for(a, "dave")
    await _call(http, "POST", f"{a.base}/api/v1/accounts/{(await _me(http, a, dave))['id']}/follow", alice)
    await _call(http, "POST", f"{a.base}/api/v1/statuses", dave, json={"status": "@alice followed"})
    assert [n["account"]["username"] for n in await _get(http, f"{a.base}/api/v1/notifications", alice)] == ["dave"]
    await _call(http, "POST", f"{a.base}/api/v1/notifications/clear", alice)
    # When bob, whom she does not follow, mentions her twice
    first, _ = await _call(http, "POST", f"{a.base}/api/v1/statuses", bob, json={"status": "@alice one"})
    second, _ = await _call(http, "POST", f"{a.base}/api/v1/statuses", bob, json={"status": "@alice two"})
    # Then she is not notified, but a request from bob waits
    assert await _get(http, f"{a.base}/api/v1/notifications", alice) == []
    assert (await _get(http, f"{a.base}/api/v2/notifications", alice))["notification_groups"] == []
    assert (await _get(http, f"{a.base}/api/v2/notifications/unread_count", alice))["count"] == 0
    [request] = await _get(http, f"{a.base}/api/v1/notifications/requests", alice)
    assert request["account"]["username"] == "bob" and request["notifications_count"] == "2"
    assert request["last_status"]["id"] == second["id"]
    assert (await _get(http, f"{a.base}/api/v1/notifications/requests/{request['id']}", alice)) == request
    assert (await _get(http, policy_url, alice))["summary"] == {"pending_requests_count": 1,
                                                                 "pending_notifications_count": 2}
    held = await _get(http, f"{a.base}/api/v1/notifications?include_filtered=true", alice)
    assert [n["status"]["id"] for n in held] == [second["id"], first["id"]]
    # bob cannot answer alice's request
    await _call(http, "POST", f"{a.base}/api/v1/notifications/requests/{request['id']}/accept", bob, status=404)
    # When she accepts it, his notifications come through, and later ones too
    await _call(http, "POST", f"{a.base}/api/v1/notifications/requests/{request['id']}/accept", alice)
    assert (await _get(http, f"{a.base}/api/v1/notifications/requests/merged", alice)) == {"merged": True}
    await _call(http, "POST", f"{a.base}/api/v1/statuses", bob, json={"status": "@alice three"})
    assert len(await _get(http, f"{a.base}/api/v1/notifications", alice)) == 3
    assert await _get(http, f"{a.base}/api/v1/notifications/requests", alice) == []
    # And a sender she drops leaves no trace
    carol = await token_for(a, "carol")
    await _call(http, "PATCH", policy_url, alice, json={"for_not_following": "drop"})
    await _call(http, "POST", f"{a.base}/api/v1/statuses", carol, json={"status": "@alice hi"})
    held = await _get(http, f"{a.base}/api/v1/notifications?include_filtered=true", alice)
    assert {n["account"]["username"] for n in held} == {"bob"}


async def test_followed_accounts_and_private_mentions(api):
    a, http, alice, bob = api
    carol = await token_for(a, "carol")
    await _call(http, "PATCH", f"{a.base}/api/v2/notifications/policy", alice, json={"for_private_mentions": "filter"})
    bob_id = (await _me(http, a, bob))["id"]
    await _call(http, "POST", f"{a.base}/api/v1/accounts/{bob_id}/follow", alice)
    # a private mention from someone she follows comes through; from a stranger it is held
    await _call(http, "POST", f"{a.base}/api/v1/statuses", bob, json={"status": "@alice dm", "visibility": "direct"})
    await _call(http, "POST", f"{a.base}/api/v1/statuses", carol, json={"status": "@alice dm", "visibility": "direct"})
    # unless it answers her own private mention
    mine, _ = await _call(http, "POST", f"{a.base}/api/v1/statuses", alice,
                          json={"status": "@carol question", "visibility": "direct"})
    await _call(http, "POST", f"{a.base}/api/v1/statuses", carol,
                json={"status": "@alice answer", "visibility": "direct", "in_reply_to_id": mine["id"]})
    # and a public mention from a stranger is not a private one
    await _call(http, "POST", f"{a.base}/api/v1/statuses", carol, json={"status": "@alice public"})
    shown = await _get(http, f"{a.base}/api/v1/notifications", alice)
    assert [(n["account"]["username"], n["status"]["content"].split("</a></span> ")[-1]) for n in shown] == [
        ("carol", "public</p>"), ("carol", "answer</p>"), ("bob", "dm</p>")]
    [request] = await _get(http, f"{a.base}/api/v1/notifications/requests", alice)
    await _call(http, "POST", f"{a.base}/api/v1/notifications/requests/dismiss", alice, data={"id[]": request["id"]})
    assert await _get(http, f"{a.base}/api/v1/notifications/requests", alice) == []


async def test_new_accounts_are_held_for_thirty_days(api):
    a, http, alice, bob = api
    await _call(http, "PATCH", f"{a.base}/api/v2/notifications/policy", alice, json={"for_new_accounts": "filter"})
    await _call(http, "POST", f"{a.base}/api/v1/statuses", bob, json={"status": "@alice new here"})
    assert await _get(http, f"{a.base}/api/v1/notifications", alice) == []
    a.clock.advance(days=31)
    await _call(http, "POST", f"{a.base}/api/v1/statuses", bob, json={"status": "@alice a month on"})
    assert len(await _get(http, f"{a.base}/api/v1/notifications", alice)) == 1


async def test_limited_peers_are_held_when_the_policy_says_so(scene):
    # Given alice, who holds back limited peers, and zed's peer limited by the admin
    alice = await scene.a.actor("alice")
    async with scene.a.db.sessions.begin() as session:
        await answers.set_policy(session, alice.id, {"for_limited_accounts": PolicyAction.filter}, scene.a.clock.now())
        await decisions.decide(session, scene.peer.authority, PeerState.limited, by="test", at=scene.a.clock.now())
    await scene.a.fed.reload_policy()
    post = await scene.local_post()
    # When zed favourites her post
    await scene.send("zed", "Like", post.uri)
    await scene.run()
    # Then the notification is held for zed's request
    [row] = await scene.all(Notification)
    assert row.filtered is True
    request = await scene.one(NotificationRequest)
    assert (request.from_actor_id, request.state) == ((await scene.remote("zed")).id, RequestState.pending)
