"""Polls through the client API over raw HTTP: creating one in JSON, form and multipart bodies,
reading it, voting, every refusal, visibility, and the `poll` notification when it ends."""

from __future__ import annotations

import asyncio
import json

import aiohttp
from sqlalchemy import event

from federation.social import poll_worker
from tests.api_helpers import token_for
from tests.test_api_streaming import listening

HOUR = 3600


async def _call(http, method: str, url: str, headers: dict, expect: int = 200, **body):
    async with http.request(method, url, headers=headers, **body) as r:
        assert r.status == expect, await r.text()
        return await r.json()


async def _poll_status(a, http, headers, options=("Gel", "Foam"), expires_in=HOUR, expect=200, **more):
    body = {"status": "Which hand rub?", "poll": {"options": list(options), "expires_in": expires_in, **more}}
    return await _call(http, "POST", f"{a.base}/api/v1/statuses", headers, expect, json=body)


async def _vote(a, http, headers, poll_id: str, choices, expect=200):
    return await _call(http, "POST", f"{a.base}/api/v1/polls/{poll_id}/votes", headers, expect,
                       json={"choices": choices})


async def test_a_poll_created_in_json_form_or_multipart_is_the_same_poll(api):
    a, http, alice, bob = api
    # When alice posts polls as JSON, as a form with repeated poll[options][], and as multipart
    from_json = await _poll_status(a, http, alice, options=("Gel", "Foam", "Both"), multiple=True)
    form = [("status", "Which hand rub?"), ("poll[options][]", "Gel"), ("poll[options][]", "Foam"),
            ("poll[options][]", "Both"), ("poll[expires_in]", str(HOUR)), ("poll[multiple]", "true")]
    from_form = await _call(http, "POST", f"{a.base}/api/v1/statuses", alice, data=form)
    multipart = aiohttp.FormData()
    for name, value in form:
        multipart.add_field(name, value)
    from_multipart = await _call(http, "POST", f"{a.base}/api/v1/statuses", alice, data=multipart)

    # Then each is a multiple-choice poll with three options, no votes, ending in an hour
    for status in (from_json, from_form, from_multipart):
        poll = status["poll"]
        assert poll["id"] == status["id"] and poll["multiple"] is True and poll["expired"] is False
        assert poll["options"] == [{"title": t, "votes_count": 0} for t in ("Gel", "Foam", "Both")]
        assert (poll["votes_count"], poll["voters_count"], poll["emojis"]) == (0, 0, [])
        assert poll["voted"] is True and poll["own_votes"] == []  # the author sees the results
        assert poll["expires_at"] > status["created_at"]
    # And GET /api/v1/polls/:id and the status agree, for anyone (no token) too
    poll = await _call(http, "GET", f"{a.base}/api/v1/polls/{from_json['id']}", {})
    assert poll == {**from_json["poll"], "voted": False}
    status = await _call(http, "GET", f"{a.base}/api/v1/statuses/{from_json['id']}", alice)
    assert status["poll"] == from_json["poll"]
    # And a boost carries the poll in its reblog only, as on Mastodon
    await _call(http, "POST", f"{a.base}/api/v1/statuses/{from_json['id']}/reblog", bob)
    [boost] = await _call(http, "GET", f"{a.base}/api/v1/timelines/home", bob)
    assert boost["poll"] is None and boost["reblog"]["poll"]["id"] == from_json["id"]


async def test_voting_counts_once_and_every_refusal_is_a_422(api, instances):
    a, http, alice, bob = api
    carol = await token_for(a, "carol")
    dave = await token_for(a, "dave")
    status = await _poll_status(a, http, alice, options=("Gel", "Foam", "Both"))
    poll_id = status["poll"]["id"]

    # When bob votes for the second option, Then it counts, and the poll says he voted for it
    poll = await _vote(a, http, bob, poll_id, [1])
    assert [o["votes_count"] for o in poll["options"]] == [0, 1, 0]
    assert (poll["votes_count"], poll["voters_count"], poll["voted"], poll["own_votes"]) == (1, 1, True, [1])
    # And form fields work too (choices[] repeated)
    poll = await _call(http, "POST", f"{a.base}/api/v1/polls/{poll_id}/votes", carol, data=[("choices[]", "2")])
    assert [o["votes_count"] for o in poll["options"]] == [0, 1, 1] and poll["own_votes"] == [2]

    # Then each of these is refused with a 422 and an error, and changes no count
    refusals = [
        (bob, [0], "already voted"),          # voting twice
        (alice, [0], "your own poll"),        # voting on one's own poll
        (dave, [3], "between 0 and 2"),       # out of range
        (dave, [0, 1], "one choice"),         # several choices on a single-choice poll
        (dave, [], "choices"),                # no choice
        (dave, ["first"], "choices"),         # not a number
    ]
    for headers, choices, error in refusals:
        refused = await _vote(a, http, headers, poll_id, choices, expect=422)
        assert error in refused["error"], refused
    poll = await _call(http, "GET", f"{a.base}/api/v1/polls/{poll_id}", alice)
    assert [o["votes_count"] for o in poll["options"]] == [0, 1, 1] and poll["voters_count"] == 2

    # When the poll's hour is over, Then it is expired and a vote is refused
    a.clock.advance(seconds=HOUR)
    poll = await _call(http, "GET", f"{a.base}/api/v1/polls/{poll_id}", dave)
    assert poll["expired"] is True and poll["voted"] is False
    assert "ended" in (await _vote(a, http, dave, poll_id, [0], expect=422))["error"]
    # And a post without a poll has no poll to show or vote on
    plain = await _call(http, "POST", f"{a.base}/api/v1/statuses", alice, json={"status": "no poll"})
    await _call(http, "GET", f"{a.base}/api/v1/polls/{plain['id']}", alice, expect=404)
    await _vote(a, http, bob, plain["id"], [0], expect=404)


async def test_multiple_choice_counts_votes_and_voters_apart(api):
    a, http, alice, bob = api
    carol = await token_for(a, "carol")
    status = await _poll_status(a, http, alice, options=("Morning", "Evening", "Night"), multiple=True)
    poll_id = status["id"]
    # When bob picks two options (one twice: it counts once) and carol one
    await _vote(a, http, bob, poll_id, [0, 2, 2])
    poll = await _vote(a, http, carol, poll_id, [2])
    # Then three votes from two voters
    assert [o["votes_count"] for o in poll["options"]] == [1, 0, 2]
    assert (poll["votes_count"], poll["voters_count"]) == (3, 2)
    bob_view = await _call(http, "GET", f"{a.base}/api/v1/polls/{poll_id}", bob)
    assert bob_view["own_votes"] == [0, 2]


async def test_a_page_of_polls_is_read_in_as_many_queries_as_one_poll(api):
    a, http, alice, _ = api
    statements: list[str] = []

    def counted(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    async def home() -> list[dict]:
        statements.clear()
        return await _call(http, "GET", f"{a.base}/api/v1/timelines/home", alice)

    await _poll_status(a, http, alice)
    engines = [a.db.engine.sync_engine] + ([a.db.reader.engine] if a.db.reader else [])  # SQLite reads apart
    for engine in engines:
        event.listen(engine, "before_cursor_execute", counted)
    try:
        await home()
        one = len(statements)
        for n in range(4):
            await _poll_status(a, http, alice, options=(f"a{n}", f"b{n}"))
        page = await home()
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", counted)
    assert [bool(status["poll"]) for status in page] == [True] * 5
    assert len(statements) == one and sum("poll_options" in s for s in statements) == 1


async def test_invalid_polls_are_refused_with_the_advertised_limits(api):
    a, http, alice, _ = api
    limits = (await _call(http, "GET", f"{a.base}/api/v2/instance", {}))["configuration"]["polls"]
    most = [f"option {n}" for n in range(limits["max_options"])]
    longest = "x" * limits["max_characters_per_option"]
    # the limits themselves are accepted
    await _poll_status(a, http, alice, options=most, expires_in=limits["min_expiration"])
    await _poll_status(a, http, alice, options=[longest, "y"], expires_in=limits["max_expiration"])
    # and anything past them is a 422
    for options, expires_in in [
        (["only one"], HOUR),
        ([*most, "one too many"], HOUR),
        ([longest + "x", "y"], HOUR),
        (["same", "same"], HOUR),
        (["a", " "], HOUR),
        (["a", "b"], limits["min_expiration"] - 1),
        (["a", "b"], limits["max_expiration"] + 1),
        (["a", "b"], "soon"),
    ]:
        refused = await _poll_status(a, http, alice, options=options, expires_in=expires_in, expect=422)
        assert refused["error"].startswith("Validation failed"), refused
    # expires_in is required, and a poll cannot come with media
    body = {"status": "q", "poll": {"options": ["a", "b"]}}
    await _call(http, "POST", f"{a.base}/api/v1/statuses", alice, 422, json=body)
    body = {"status": "q", "media_ids": ["1"], "poll": {"options": ["a", "b"], "expires_in": HOUR}}
    assert "not both" in (await _call(http, "POST", f"{a.base}/api/v1/statuses", alice, 422, json=body))["error"]
    # And nothing of it was posted
    statuses = await _call(http, "GET", f"{a.base}/api/v1/timelines/home", alice)
    assert len(statuses) == 2


async def test_a_poll_is_visible_exactly_when_its_post_is(api):
    a, http, alice, bob = api
    read_only = await token_for(a, "bob", "read", create=False)
    status = await _poll_status(a, http, alice)
    # a followers-only post's poll is followers-only, and bob does not follow alice
    private = await _call(http, "POST", f"{a.base}/api/v1/statuses", alice, json={
        "status": "Staff only", "visibility": "private", "poll": {"options": ["a", "b"], "expires_in": HOUR}})
    await _call(http, "GET", f"{a.base}/api/v1/polls/{private['id']}", bob, expect=404)
    await _call(http, "GET", f"{a.base}/api/v1/polls/{private['id']}", {}, expect=404)
    await _vote(a, http, bob, private["id"], [0], expect=404)
    # a public poll needs write:statuses to vote on
    await _vote(a, http, read_only, status["id"], [0], expect=403)
    await _call(http, "GET", f"{a.base}/api/v1/polls/{status['id']}", read_only)


async def test_hidden_totals_show_to_the_author_and_to_everyone_once_it_ends(api):
    a, http, alice, bob = api
    status = await _poll_status(a, http, alice, hide_totals=True)
    poll = await _vote(a, http, bob, status["id"], [0])
    assert [o["votes_count"] for o in poll["options"]] == [None, None] and poll["votes_count"] == 1
    mine = await _call(http, "GET", f"{a.base}/api/v1/polls/{status['id']}", alice)
    assert [o["votes_count"] for o in mine["options"]] == [1, 0]
    a.clock.advance(seconds=HOUR)
    poll = await _call(http, "GET", f"{a.base}/api/v1/polls/{status['id']}", bob)
    assert [o["votes_count"] for o in poll["options"]] == [1, 0]


async def _notifications(a, http, headers) -> list[tuple[str, str, str]]:
    found = await _call(http, "GET", f"{a.base}/api/v1/notifications?types[]=poll", headers)
    return [(n["type"], n["account"]["username"], n["status"]["id"]) for n in found]


async def test_the_author_and_the_voters_are_notified_once_when_the_poll_ends(api):
    a, http, alice, bob = api
    carol = await token_for(a, "carol")  # she does not vote
    status = await _poll_status(a, http, alice)
    await _vote(a, http, bob, status["id"], [1])
    await listening(a)
    bob_token = bob["Authorization"].removeprefix("Bearer ")
    async with http.ws_connect(f"{a.base}/api/v1/streaming?stream=user:notification",
                               headers={"Authorization": f"Bearer {bob_token}"}) as ws:
        # Before the end, the poll worker has nothing to say
        assert await poll_worker.run_once(a.fed) == 0
        assert await _notifications(a, http, alice) == [] and await _notifications(a, http, bob) == []

        # When the poll's end passes and the poll worker runs
        a.clock.advance(seconds=HOUR + 1)
        assert await poll_worker.run_once(a.fed) == 1

        # Then alice (its author) and bob (a voter) are notified, by alice's account, of the poll
        expected = [("poll", "alice", status["id"])]
        assert await _notifications(a, http, alice) == expected
        assert await _notifications(a, http, bob) == expected
        assert await _notifications(a, http, carol) == []
        # And bob's stream hears it, with the ended poll in it
        message = await asyncio.wait_for(ws.receive_json(), 5)
        notification = json.loads(message["payload"])
        assert message["event"] == "notification" and notification["type"] == "poll"
        assert notification["status"]["poll"]["expired"] is True
        assert notification["status"]["poll"]["own_votes"] == [1]

    # And running the worker again notifies nobody twice
    assert await poll_worker.run_once(a.fed) == 0
    assert len(await _notifications(a, http, bob)) == 1
