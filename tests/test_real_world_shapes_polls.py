"""Real-world shapes, polls: Questions as Mastodon and GoToSocial send them, shown to alice's
client as polls; her vote sent back the way Mastodon expects it; Mastodon's Update(Question)
with new counts; and votes on alice's own poll as Mastodon (a named Note) and Akkoma (an Answer)
send them (the fixtures and the harness are described in test_real_world_shapes)."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from federation.outbox import actions

from federation.social import poll_worker
from federation.social.polls import new_poll
from storage.models import InboxState
from tests.api_helpers import token_for
from tests.test_real_world_shapes import Shapes, shapes_running

# the Mastodon poll of the fixtures was asked at 08:00 that day and ends the next day at 08:00
MASTODON_POLL_OPEN = datetime(2025, 3, 5, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
async def shapes(instances, http):
    async with shapes_running(instances, http) as running:
        yield running


def _set_time(shapes: Shapes, at: datetime) -> None:
    shapes.a.clock.advance(seconds=(at - shapes.a.clock.now()).total_seconds())


async def _get(shapes: Shapes, path: str, headers: dict, expect: int = 200) -> dict:
    async with shapes.http.get(f"{shapes.a.base}{path}", headers=headers) as r:
        assert r.status == expect, await r.text()
        return await r.json()


async def _vote(shapes: Shapes, poll_id: int, headers: dict, choices: list[int], expect: int = 200) -> dict:
    async with shapes.http.post(f"{shapes.a.base}/api/v1/polls/{poll_id}/votes", json={"choices": choices},
                                headers=headers) as r:
        assert r.status == expect, await r.text()
        return await r.json()


def _counts(poll: dict) -> list[tuple[str, int]]:
    return [(option["title"], option["votes_count"]) for option in poll["options"]]


async def test_a_mastodon_poll_is_shown_voted_on_updated_and_ends(shapes):
    # Given it is the morning a Mastodon user asked a question, and alice's instance has it
    _set_time(shapes, MASTODON_POLL_OPEN)
    await shapes.known("mastodon")
    alice = await token_for(shapes.a, "alice", create=False)
    create = await shapes.deliver("mastodon_create_question.json")
    question = await shapes.stored(create["object"]["id"])

    # Then alice's client shows it as an open single-choice poll with the counts it came with
    status = await _get(shapes, f"/api/v1/statuses/{question.id}", alice)
    poll = status["poll"]
    assert _counts(poll) == [("Alcohol gel", 2), ("Foam", 1)]
    assert (poll["multiple"], poll["expired"], poll["voted"], poll["own_votes"]) == (False, False, False, [])
    assert (poll["votes_count"], poll["voters_count"]) == (3, 3)
    assert poll["expires_at"] == "2025-03-06T08:00:00.000Z"

    # When alice votes for "Foam"
    poll = await _vote(shapes, question.id, alice, [1])
    assert _counts(poll) == [("Alcohol gel", 2), ("Foam", 2)] and poll["own_votes"] == [1]
    await shapes.a.step()

    # Then the Mastodon server gets a Create of a Note named "Foam", in reply to the Question,
    # addressed to its author alone
    [(_, path, _, body)] = [r for r in shapes.peer.received if r[0] == "POST"]
    vote = json.loads(body)
    assert path == "/inbox" and vote["type"] == "Create" and vote["to"] == [create["actor"]]
    assert vote["actor"] == vote["object"]["attributedTo"] == f"{shapes.a.base}/users/alice"
    assert {k: vote["object"][k] for k in ("type", "name", "inReplyTo", "to")} == {
        "type": "Note", "name": "Foam", "inReplyTo": question.uri, "to": [create["actor"]]}

    # When Mastodon sends the Update(Question) with its new counts
    update = await shapes.deliver("mastodon_update_question.json")

    # Then alice sees the author's counts, and her own vote
    assert await shapes.state(update) == (InboxState.done, None)
    poll = (await _get(shapes, f"/api/v1/statuses/{question.id}", alice))["poll"]
    assert _counts(poll) == [("Alcohol gel", 3), ("Foam", 2)] and poll["voters_count"] == 5
    assert poll["own_votes"] == [1]

    # When the poll's end passes, Then alice (a voter) is told it ended, by its author
    _set_time(shapes, datetime(2025, 3, 6, 8, 0, 1, tzinfo=timezone.utc))
    assert await poll_worker.run_once(shapes.a.fed) == 1
    [notification] = await _get(shapes, "/api/v1/notifications", alice)
    assert (notification["type"], notification["account"]["acct"]) == ("poll", f"hcarter@{shapes.peer.authority}")
    assert notification["status"]["poll"]["expired"] is True
    assert "ended" in (await _vote(shapes, question.id, alice, [0], expect=422))["error"]


async def test_a_gotosocial_poll_with_any_of_is_multiple_choice(shapes):
    # Given GoToSocial's Question, with anyOf and single values for to and cc
    await shapes.known("gotosocial")
    alice = await token_for(shapes.a, "alice", create=False)
    create = await shapes.deliver("gotosocial_create_question.json")
    question = await shapes.stored(create["object"]["id"])

    # Then it is a multiple-choice poll with its voters count (it ended in 2025)
    poll = (await _get(shapes, f"/api/v1/statuses/{question.id}", alice))["poll"]
    assert _counts(poll) == [("Morning handover", 4), ("Evening handover", 1), ("Both", 2)]
    assert (poll["multiple"], poll["voters_count"], poll["expired"]) == (True, 6, True)


async def test_mastodon_and_akkoma_votes_on_alices_poll_count_once(shapes):
    # Given alice's open poll, and a Mastodon and an Akkoma user
    async with shapes.a.fed.transaction() as session:
        item = await actions.post(shapes.a.fed, session, await shapes.a.actor("alice"), content="<p>Hand rub?</p>",
                                 poll=new_poll(["Alcohol gel", "Foam"], 3600, multiple=False, hide_totals=False))
    shapes.alice_post = item.uri
    shapes.serve("mastodon_actor.json")
    shapes.serve("akkoma_actor.json")
    alice = await token_for(shapes.a, "alice", create=False)

    # When Mastodon's vote (a Note named "Foam") and Akkoma's (an Answer) arrive
    mastodon = await shapes.deliver("mastodon_create_vote.json")
    akkoma = await shapes.deliver("akkoma_create_answer.json")

    # Then both count, and neither became a post
    assert await shapes.state(mastodon) == (InboxState.done, None)
    assert await shapes.state(akkoma) == (InboxState.done, None)
    poll = await _get(shapes, f"/api/v1/polls/{item.id}", alice)
    assert _counts(poll) == [("Alcohol gel", 1), ("Foam", 1)] and poll["voters_count"] == 2
    statuses = await _get(shapes, "/api/v1/timelines/public", alice)
    assert [s["id"] for s in statuses] == [str(item.id)]

    # When Mastodon sends the same vote again, and then a vote for the other option (the poll
    # takes one choice), under new activity ids
    again = {"id": f"{shapes.peer.base}/users/hcarter#votes/4242/again"}
    other = {"id": f"{shapes.peer.base}/users/hcarter#votes/4243/activity",
             "object": {"id": f"{shapes.peer.base}/users/hcarter#votes/4243", "name": "Alcohol gel"}}
    for changes in (again, other):
        status, text, activity = await shapes.post("mastodon_create_vote.json", changes=changes)
        assert status == 202, text
        await shapes.a.step()
        # Then each is acknowledged and ignored, and nothing changes
        state, reason = await shapes.state(activity)
        assert state is InboxState.ignored and "already" in reason
    poll = await _get(shapes, f"/api/v1/polls/{item.id}", alice)
    assert _counts(poll) == [("Alcohol gel", 1), ("Foam", 1)] and poll["voters_count"] == 2

    # And a vote on a poll that has ended is ignored too
    async with shapes.a.fed.transaction() as session:
        ended = await actions.post(shapes.a.fed, session, await shapes.a.actor("alice"), content="<p>Old</p>",
                                  poll=new_poll(["Alcohol gel", "Foam"], 300, multiple=False, hide_totals=False))
    shapes.a.clock.advance(seconds=301)
    late = {"id": f"{shapes.peer.base}/users/hcarter#votes/4244/activity",
            "object": {"id": f"{shapes.peer.base}/users/hcarter#votes/4244", "inReplyTo": ended.uri}}
    status, text, activity = await shapes.post("mastodon_create_vote.json", changes=late)
    assert status == 202, text
    await shapes.a.step()
    state, reason = await shapes.state(activity)
    assert state is InboxState.ignored and "ended" in reason
    assert _counts(await _get(shapes, f"/api/v1/polls/{ended.id}", alice)) == [("Alcohol gel", 0), ("Foam", 0)]


async def test_counts_beyond_what_fits_are_dropped_not_shown(shapes):
    # Given a Mastodon poll whose tallies, and a note whose image size, are beyond 2**31 (or not numbers)
    _set_time(shapes, MASTODON_POLL_OPEN)
    await shapes.known("mastodon")
    alice = await token_for(shapes.a, "alice", create=False)
    question = shapes.load("mastodon_create_question.json")["object"]
    options = [{**question["oneOf"][0], "replies": {"type": "Collection", "totalItems": 2**70}},
               {**question["oneOf"][1], "replies": {"type": "Collection", "totalItems": True}}]
    create = await shapes.deliver("mastodon_create_question.json",
                                  changes={"object": {"oneOf": options, "votersCount": 2**64}})
    stored = await shapes.stored(create["object"]["id"])
    shapes.serve("mastodon_actor.json")
    image = {**shapes.load("mastodon_create_note.json")["object"]["attachment"][0], "width": 2**70, "height": 2**31}
    note = await shapes.deliver("mastodon_create_note.json", changes={"object": {"attachment": [image]}})

    # Then both are stored and shown, without the counts that could not be true
    poll = (await _get(shapes, f"/api/v1/statuses/{stored.id}", alice))["poll"]
    assert (_counts(poll), poll["voters_count"]) == ([("Alcohol gel", 0), ("Foam", 0)], 0)
    shown = await _get(shapes, f"/api/v1/statuses/{(await shapes.stored(note['object']['id'])).id}", alice)
    assert shown["media_attachments"][0]["meta"] == {}
    assert len(await _get(shapes, "/api/v1/timelines/public", alice)) == 2
