"""Mastodon.py (the real client library) against Rounds: grouped notifications, the notification
policy and its requests, and filters v2, through the library's own methods."""

from __future__ import annotations

import asyncio

from mastodon import Mastodon

from tests.api_helpers import token_for


def _client(a, headers) -> Mastodon:
    return Mastodon(access_token=headers["Authorization"].removeprefix("Bearer "), api_base_url=a.base)


async def test_grouped_notifications_and_policy_with_mastodon_py(api):
    a, _, alice_headers, bob_headers = api
    call = asyncio.to_thread
    alice, bob = await call(_client, a, alice_headers), await call(_client, a, bob_headers)
    post = await call(alice.status_post, "rounds at noon")
    fans = [await call(_client, a, await token_for(a, f"fan{n}")) for n in range(3)]
    for fan in fans:
        await call(fan.status_favourite, post)
    await call(bob.status_post, "@alice see you there")

    # Grouped: the favourites are one group, the mention another
    grouped = await call(alice.grouped_notifications)
    assert [(g.type, g.notifications_count) for g in grouped.notification_groups] == [("mention", 1), ("favourite", 3)]
    favourites = grouped.notification_groups[1]
    assert str(favourites.status_id) == str(post.id)
    # Mastodon.py asks for partial avatars: each group's latest account in full, the others partial
    assert len(grouped.accounts) == 2 and len(grouped.partial_accounts) == 2 and len(grouped.statuses) == 2
    assert len((await call(alice.grouped_notifications, expand_accounts="full")).accounts) == 4
    one = await call(alice.grouped_notification, favourites.group_key)
    assert one.notification_groups[0].notifications_count == 3
    assert len(await call(alice.grouped_notification_accounts, favourites.group_key)) == 3
    assert await call(alice.unread_grouped_notifications_count) == 2
    assert (await call(alice.notifications_unread_count)).count == 4
    await call(alice.dismiss_grouped_notification, favourites.group_key)
    assert [g.type for g in (await call(alice.grouped_notifications)).notification_groups] == ["mention"]

    # The policy: hold back strangers; a request appears; accepting it lets the mention through
    policy = await call(alice.update_notifications_policy, for_not_following="filter")
    assert policy.for_not_following == "filter"
    carol = await call(_client, a, await token_for(a, "carol"))
    await call(carol.status_post, "@alice a question")
    assert (await call(alice.notifications_policy)).summary.pending_requests_count == 1
    [request] = await call(alice.notification_requests)
    assert request.account.username == "carol"
    assert [n.type for n in await call(alice.notifications)] == ["mention"]
    await call(alice.accept_notification_request, request)
    assert await call(alice.notifications_merged) is True
    assert [n.account.username for n in await call(alice.notifications)] == ["carol", "bob"]


async def test_filters_v2_with_mastodon_py(api):
    a, _, alice_headers, bob_headers = api
    call = asyncio.to_thread
    alice, bob = await call(_client, a, alice_headers), await call(_client, a, bob_headers)
    bob_id = (await call(bob.me)).id
    await call(alice.account_follow, bob_id)
    made = await call(alice.create_filter_v2, "Vendors", ["home"], "warn", expires_in=3600,
                      keywords_attributes=[{"keyword": "discount", "whole_word": True}])
    assert made.title == "Vendors" and made.keywords[0].keyword == "discount" and made.expires_at is not None
    keyword = await call(alice.add_filter_keyword_v2, made, "coupon", whole_word=False)
    assert [k.keyword for k in await call(alice.filter_keywords_v2, made)] == ["discount", "coupon"]
    offer = await call(bob.status_post, "a discount on gloves")
    listed = await call(alice.add_filter_status_v2, made, offer)
    assert [str(s.status_id) for s in await call(alice.filter_statuses_v2, made)] == [str(offer.id)]
    [shown] = await call(alice.timeline_home)
    assert shown.filtered[0].filter.title == "Vendors"
    assert shown.filtered[0].keyword_matches == ["discount"]
    assert [str(i) for i in shown.filtered[0].status_matches] == [str(offer.id)]
    updated = await call(alice.update_filter_v2, made, filter_action="hide")
    assert updated.filter_action == "hide"
    assert await call(alice.timeline_home) == []
    assert [f.phrase for f in await call(alice.filters)] == ["discount", "coupon"]
    await call(alice.delete_filter_status_v2, listed)
    await call(alice.delete_filter_keyword_v2, keyword)
    assert [f.title for f in await call(alice.filters_v2)] == ["Vendors"]
    await call(alice.delete_filter_v2, made)
    assert await call(alice.filters_v2) == []
    assert [s.id for s in await call(alice.timeline_home)] == [offer.id]
