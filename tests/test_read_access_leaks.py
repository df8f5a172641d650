"""Each read the hardening issue found open to strangers in allowlist mode, one by one: an
anonymous caller gets 401, an app-only token 403 ("This method requires an authenticated
user"), and a user's token the content. In the other modes the same reads stay as open as on
Mastodon. The whole router is walked in tests/test_read_access.py; these name the leaks.
"""

from __future__ import annotations

import pytest

from tests.read_world import MARKER, World, seed, world  # noqa: F401  (provides the `world` fixture)

# leak -> (path, with {name} filled from World.ids; what alice's answer must hold)
LEAKS = {
    "account lookup": ("/api/v1/accounts/lookup?acct=alice", '"username":"alice"'),
    "account": ("/api/v1/accounts/{alice}", '"username":"alice"'),
    "account statuses": ("/api/v1/accounts/{alice}/statuses", MARKER),
    "public status": ("/api/v1/statuses/{public}", MARKER),
    "unlisted status": ("/api/v1/statuses/{unlisted}", MARKER),
    "context": ("/api/v1/statuses/{public}/context", f"{MARKER} reply"),
    "edit history": ("/api/v1/statuses/{public}/history", f"{MARKER} public, edited"),
    "favourited_by": ("/api/v1/statuses/{public}/favourited_by", '"username":"bob"'),
    "cached remote post": ("/api/v1/statuses/{remote}", f"{MARKER} remote"),
    "remote account statuses": ("/api/v1/accounts/{carol}/statuses", f"{MARKER} remote"),
    "poll": ("/api/v1/polls/{poll}", '"title":"gel"'),
    "v2 search": ("/api/v2/search?q=alice", '"username":"alice"'),
    "followers": ("/api/v1/accounts/{alice}/followers", '"username":"bob"'),
    "following": ("/api/v1/accounts/{bob}/following", '"username":"alice"'),
    "tag timeline": ("/api/v1/timelines/tag/sepsis", MARKER),
    "public timeline": ("/api/v1/timelines/public", MARKER),
}


async def _get(http, url: str, headers: dict[str, str]) -> tuple[int, str]:
    async with http.get(url, headers=headers) as response:
        return response.status, await response.text()


async def _for_users_only(world: World, http, leak: str) -> None:
    path, shows = LEAKS[leak]
    url = world.instance.base + path.format(**world.ids)
    # When nobody signed in reads it, Then 401 and nothing of it
    status, body = await _get(http, url, world.readers["anonymous"])
    assert status == 401 and MARKER not in body and "alice" not in body, (leak, status, body)
    assert "This method requires an authenticated user" in body, leak
    # When an app-only token (anyone can get one) reads it, Then 403 and nothing of it
    status, body = await _get(http, url, world.readers["app"])
    assert (status, MARKER in body) == (403, False), (leak, status, body)
    assert "This method requires an authenticated user" in body, leak
    # When alice reads it, Then she gets it (so the refusals above are not a missing id)
    status, body = await _get(http, url, world.readers["user"])
    assert status == 200 and shows in body, (leak, status, body)


# Given an allowlist instance with public pages off (the `world`), in each test below

async def test_accounts_and_their_statuses_and_follows_are_for_users(world: World, http):
    for leak in ("account lookup", "account", "account statuses", "remote account statuses", "followers", "following"):
        await _for_users_only(world, http, leak)


async def test_statuses_context_history_polls_and_cached_remote_posts_are_for_users(world: World, http):
    for leak in ("public status", "unlisted status", "context", "edit history", "favourited_by",
                 "cached remote post", "poll"):
        await _for_users_only(world, http, leak)


async def test_search_and_timelines_are_for_users(world: World, http):
    for leak in ("v2 search", "tag timeline", "public timeline"):
        await _for_users_only(world, http, leak)


async def test_allowlist_mode_instance_peers_are_for_admins(world: World, http):
    # When anyone but an admin asks for the peers, Then they are refused and learn none
    url = f"{world.instance.base}/api/v1/instance/peers"
    assert (await _get(http, url, world.readers["anonymous"]))[0] == 401
    for reader in ("app", "user"):
        status, body = await _get(http, url, world.readers[reader])
        assert status == 403 and world.peer.authority not in body, reader
    # while an admin gets the list
    status, body = await _get(http, url, world.readers["admin"])
    assert status == 200 and world.peer.authority in body


@pytest.mark.parametrize("mode", ["open", "blocklist"])
async def test_other_modes_read_as_mastodon_does(instances, http, mode):
    # Given an instance in open or blocklist mode
    seeded = await seed(instances, http, federation={"mode": mode})
    try:
        # When a stranger reads what allowlist mode keeps from them, Then they get it
        for leak, (path, shows) in LEAKS.items():
            if leak == "v2 search":
                shows = '"username":"alice"'  # statuses are searched for signed-in users only, as on Mastodon
            for reader in ("anonymous", "app"):
                status, body = await _get(http, seeded.instance.base + path.format(**seeded.ids), seeded.readers[reader])
                assert status == 200 and shows in body, (mode, leak, reader, status)
        status, body = await _get(http, f"{seeded.instance.base}/api/v1/instance/peers", {})
        assert status == 200 and seeded.peer.authority in body
    finally:
        await seeded.peer.stop()
