"""Polls between two real Rounds instances over real HTTP, each user on their own client API:
alice@A asks, bob@B sees the poll and votes, A counts the vote and sends the new counts back as
Update(Question), and both are told when the poll ends."""

from __future__ import annotations

from sqlalchemy import select

from federation.outbox import relations

from federation.social import poll_worker
from federation.social.polls import UPDATE_DELAY
from federation.remote.resolve import resolve_account
from storage.models import Activity, Delivery
from tests.api_helpers import token_for
from tests.instances import Instance, settle

HOUR = 3600


async def _call(http, method: str, url: str, headers: dict, expect: int = 200, **body):
    async with http.request(method, url, headers=headers, **body) as r:
        assert r.status == expect, await r.text()
        return await r.json()


async def _bob_follows_alice(a: Instance, b: Instance) -> None:
    alice = await resolve_account(b.fed, f"alice@{a.urls.authority}")
    async with b.fed.transaction() as session:
        await relations.follow(b.fed, session, await b.actor("bob"), alice)
    await settle(a, b)


async def _ask(a: Instance, http, alice: dict, options: list[str], **poll) -> dict:
    body = {"status": "When do you hold the safety huddle?", "poll": {"options": options, "expires_in": HOUR, **poll}}
    status = await _call(http, "POST", f"{a.base}/api/v1/statuses", alice, json=body)
    return status


async def _poll_in_home(b: Instance, http, headers: dict) -> dict:
    [status] = await _call(http, "GET", f"{b.base}/api/v1/timelines/home", headers)
    return status


def _counts(poll: dict) -> list[int]:
    return [option["votes_count"] for option in poll["options"]]


def _advance(*instances: Instance, **delta: float) -> None:
    for instance in instances:
        instance.clock.advance(**delta)


async def test_a_vote_travels_to_the_author_and_the_new_counts_come_back(instances, http):
    a, b = await instances.start("a"), await instances.start("b")
    alice, carol = await token_for(a, "alice"), await token_for(a, "carol")
    bob = await token_for(b, "bob")
    await _bob_follows_alice(a, b)

    # Given alice@A asks a single-choice question, When it federates
    asked = await _ask(a, http, alice, ["Morning", "Evening"])
    await settle(a, b)

    # Then bob@B sees it in his home timeline as a poll, with the same options and end
    status = await _poll_in_home(b, http, bob)
    poll = status["poll"]
    assert status["uri"] == asked["uri"] and poll["id"] == status["id"]
    assert [o["title"] for o in poll["options"]] == ["Morning", "Evening"] and _counts(poll) == [0, 0]
    assert (poll["multiple"], poll["expired"], poll["voted"]) == (False, False, False)
    assert poll["expires_at"] == asked["poll"]["expires_at"][:19] + ".000Z"  # endTime has whole seconds

    # When bob votes for "Evening" on B
    poll = await _call(http, "POST", f"{b.base}/api/v1/polls/{poll['id']}/votes", bob, json={"choices": [1]})
    assert poll["own_votes"] == [1] and _counts(poll) == [0, 1]

    # Then B sends one Create of a Note named "Evening", in reply to the Question, to alice alone
    async with b.db.sessions() as session:
        create = await session.scalar(select(Activity).where(Activity.type == "Create", Activity.local.is_(True),
                                                             Activity.object_id.is_(None)))
        deliveries = list(await session.scalars(select(Delivery).where(Delivery.activity_id == create.id)))
    note = create.raw["object"]
    alice_uri = f"{a.base}/users/alice"
    assert (note["type"], note["name"], note["inReplyTo"]) == ("Note", "Evening", asked["uri"])
    assert create.raw["to"] == note["to"] == [alice_uri] and "cc" not in create.raw
    assert [d.inbox for d in deliveries] == [f"{a.base}/inbox"]
    await settle(a, b)

    # And A counts it: alice sees one vote for "Evening"
    poll = await _call(http, "GET", f"{a.base}/api/v1/polls/{asked['id']}", alice)
    assert _counts(poll) == [0, 1] and poll["voters_count"] == 1

    # When carol@A votes too, B does not know yet
    await _call(http, "POST", f"{a.base}/api/v1/polls/{asked['id']}/votes", carol, json={"choices": [0]})
    await settle(a, b)
    assert _counts((await _poll_in_home(b, http, bob))["poll"]) == [0, 1]

    # When the debounce is over and A's poll worker sends Update(Question)
    _advance(a, b, seconds=UPDATE_DELAY.total_seconds())
    assert await poll_worker.run_once(a.fed) == 1
    await settle(a, b)

    # Then bob sees both votes, and still his own
    poll = (await _poll_in_home(b, http, bob))["poll"]
    assert _counts(poll) == [1, 1] and poll["voters_count"] == 2 and poll["own_votes"] == [1]

    # When the hour is over and both poll workers run
    _advance(a, b, seconds=HOUR)
    assert await poll_worker.run_once(a.fed) == 1
    await settle(a, b)
    assert await poll_worker.run_once(b.fed) == 1

    # Then alice (author) and carol (voter) on A, and bob (voter) on B, are notified by alice
    for instance, headers in ((a, alice), (a, carol), (b, bob)):
        notes = await _call(http, "GET", f"{instance.base}/api/v1/notifications?types[]=poll", headers)
        assert [(n["type"], n["account"]["acct"].split("@")[0]) for n in notes] == [("poll", "alice")]
        assert notes[0]["status"]["poll"]["expired"] is True
    # And B holds the final counts, closed
    poll = (await _poll_in_home(b, http, bob))["poll"]
    assert poll["expired"] is True and _counts(poll) == [1, 1]


async def test_a_multiple_choice_vote_is_one_create_per_choice(instances, http):
    a, b = await instances.start("a"), await instances.start("b")
    alice = await token_for(a, "alice")
    bob = await token_for(b, "bob")
    await _bob_follows_alice(a, b)
    asked = await _ask(a, http, alice, ["Morning", "Evening", "Night"], multiple=True)
    await settle(a, b)

    # Given bob sees a multiple-choice poll
    poll = (await _poll_in_home(b, http, bob))["poll"]
    assert poll["multiple"] is True

    # When he votes for the first and the last option
    await _call(http, "POST", f"{b.base}/api/v1/polls/{poll['id']}/votes", bob, json={"choices": [0, 2]})
    async with b.db.sessions() as session:
        names = sorted(a.raw["object"]["name"] for a in await session.scalars(
            select(Activity).where(Activity.type == "Create", Activity.object_id.is_(None))))
    assert names == ["Morning", "Night"]
    await settle(a, b)

    # Then A counts two votes from one voter
    poll = await _call(http, "GET", f"{a.base}/api/v1/polls/{asked['id']}", alice)
    assert _counts(poll) == [1, 0, 1] and (poll["votes_count"], poll["voters_count"]) == (2, 1)

    # And after the Update, B shows A's counts
    _advance(a, b, seconds=UPDATE_DELAY.total_seconds())
    await poll_worker.run_once(a.fed)
    await settle(a, b)
    poll = (await _poll_in_home(b, http, bob))["poll"]
    assert _counts(poll) == [1, 0, 1] and poll["voters_count"] == 1 and poll["own_votes"] == [0, 2]
