"""Lists through the client API, driven by Mastodon.py (server/api/lists.py, and the list's
timeline, storage.timelines.list_timeline): made, named, filled with accounts one follows only;
a list's timeline holds its members' posts, and of their replies those its policy keeps; an
exclusive list's members leave home; an account one stops following leaves one's lists; a list
is its owner's alone."""

from __future__ import annotations

import asyncio
import html

import pytest
from mastodon import Mastodon, MastodonAPIError, MastodonNotFoundError

from tests.api_helpers import token_for
from tests.web_helpers import browser_like, sign_in


def _client(instance, headers) -> Mastodon:
    return Mastodon(access_token=headers["Authorization"].split()[1], api_base_url=instance.base)


def _texts(statuses) -> list[str]:
    return [html.unescape(status["content"].removeprefix("<p>").removesuffix("</p>")) for status in statuses]


async def test_a_list_of_accounts_one_follows_and_its_timeline(instances):
    a = await instances.start()
    alice, bob, carol, dave = [_client(a, await token_for(a, name)) for name in ("alice", "bob", "carol", "dave")]
    call = asyncio.to_thread
    ids = {name: str((await a.actor(name)).id) for name in ("bob", "carol", "dave")}
    # Given alice follows bob and carol, not dave
    for name in ("bob", "carol"):
        await call(alice.account_follow, ids[name])

    # When she makes a list and puts bob in it
    icu = await call(alice.list_create, "ICU colleagues")
    assert (icu["title"], icu["replies_policy"], icu["exclusive"]) == ("ICU colleagues", "list", False)
    await call(alice.list_accounts_add, icu["id"], [ids["bob"]])
    # Then it holds him, and he is in it
    assert [str(account["id"]) for account in await call(alice.list_accounts, icu["id"])] == [ids["bob"]]
    assert [row["title"] for row in await call(alice.account_lists, ids["bob"])] == ["ICU colleagues"]
    assert [row["title"] for row in await call(alice.lists)] == ["ICU colleagues"]
    # But dave, whom she does not follow, cannot be put in it
    with pytest.raises(MastodonAPIError, match="following"):
        await call(alice.list_accounts_add, icu["id"], [ids["dave"]])

    # When bob posts, replies to carol and to himself, and carol posts
    first = await call(bob.status_post, "bob's handover")
    await call(bob.status_post, "bob answers carol", in_reply_to_id=(await call(carol.status_post, "carol's"))["id"])
    await call(bob.status_post, "bob adds to it", in_reply_to_id=first["id"])
    # Then the list shows bob's posts, and of his replies the one to himself (a list member)
    assert _texts(await call(alice.timeline_list, icu["id"])) == ["bob adds to it", "bob's handover"]
    # And with no replies, his post alone; with replies to anyone she follows, the one to carol too
    await call(alice.list_update, icu["id"], "ICU colleagues", replies_policy="none")
    assert _texts(await call(alice.timeline_list, icu["id"])) == ["bob's handover"]
    await call(alice.list_update, icu["id"], "ICU colleagues", replies_policy="followed")
    assert _texts(await call(alice.timeline_list, icu["id"])) == [
        "bob adds to it", "bob answers carol", "bob's handover"]

    # When the list is exclusive, Then bob's posts leave her home, and carol's stay
    home = _texts(await call(alice.timeline_home))
    assert "bob's handover" in home and "carol's" in home
    await call(alice.list_update, icu["id"], "ICU", replies_policy="followed", exclusive=True)
    home = _texts(await call(alice.timeline_home))
    assert "bob's handover" not in home and "carol's" in home
    # But the web's home, which has no list pages, still shows them
    async with browser_like() as browser:
        await sign_in(browser, a.base, "alice")
        async with browser.get(f"{a.base}/home") as response:
            assert "handover" in html.unescape(await response.text())

    # And the list is hers alone
    with pytest.raises(MastodonNotFoundError):
        await call(carol.timeline_list, icu["id"])
    with pytest.raises(MastodonNotFoundError):
        await call(carol.list_accounts, icu["id"])

    # When she takes carol in and out of it (a DELETE with a form body, as Mastodon.py sends it)
    await call(alice.list_accounts_add, icu["id"], [ids["carol"]])
    assert sorted(str(account["id"]) for account in await call(alice.list_accounts, icu["id"])) == sorted(
        [ids["bob"], ids["carol"]])
    await call(alice.list_accounts_delete, icu["id"], [ids["carol"]])
    assert [str(account["id"]) for account in await call(alice.list_accounts, icu["id"])] == [ids["bob"]]

    # When she stops following bob, Then he leaves the list (and its timeline is empty)
    await call(alice.account_unfollow, ids["bob"])
    assert await call(alice.list_accounts, icu["id"]) == []
    assert await call(alice.timeline_list, icu["id"]) == []
    # When she deletes it, Then it is gone
    await call(alice.list_delete, icu["id"])
    assert await call(alice.lists) == []
    with pytest.raises(MastodonNotFoundError):
        await call(alice.timeline_list, icu["id"])
