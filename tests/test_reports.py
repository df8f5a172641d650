"""Reports (federation.admin.reports): a practitioner reports an account and its posts from her
app (POST /api/v1/reports, driven here by Mastodon.py), to her own moderators and, if she asks,
to the account's server as a Flag from her instance (never from her); the peer's moderators
find it in their console, and each side's moderator resolves it in a real Chromium, audited.
What a report may not be: of oneself, of a post that is not the account's or that she cannot
see, with rules the instance does not have, with a comment too long. A Flag naming nothing of
ours is no report."""

from __future__ import annotations

import asyncio

import pytest
from mastodon import Mastodon, MastodonAPIError
from sqlalchemy import select

from federation.admin import instance, reports
from federation.outbox import actions
from federation.peers import decisions
from server.profile import PROFILES
from storage import reports as report_queries
from storage.models import Account, Actor, AuditEntry, InboxState, Object, PeerState, Report
from tests.factories import remote_actor
from tests.api_helpers import token_for
from tests.browser import chromium, watch_csp
from tests.community_helpers import follow_remote
from tests.instances import settle
from tests.web_helpers import PASSWORD, browser_like, page_token, sign_in


def _client(instance, headers) -> Mastodon:
    return Mastodon(access_token=headers["Authorization"].split()[1], api_base_url=instance.base)


async def _reports(instance) -> list[Report]:
    async with instance.db.sessions() as session:
        return list(await session.scalars(select(Report).order_by(Report.id)))


async def test_a_report_reaches_both_moderators_as_a_flag_from_the_instance_and_each_resolves_it(instances, http):
    # Given alice on A follows bob on B, who posted twice; B has a moderator
    a = await instances.start("a")
    b = await instances.start("b")
    alice = _client(a, await token_for(a, "alice"))
    bob = _client(b, await token_for(b, "bob"))
    await b.add_user("mod")
    async with b.db.sessions.begin() as session:
        (await session.scalar(select(Account).where(Account.username == "mod"))).is_moderator = True
    await follow_remote(a, "alice", f"bob@{b.urls.authority}")
    await settle(a, b)
    first = await asyncio.to_thread(bob.status_post, "Buy cheap supplies here")
    await asyncio.to_thread(bob.status_post, "An ordinary note")
    await settle(a, b)
    [seen] = [s for s in await asyncio.to_thread(alice.timeline_home) if "cheap" in s["content"]]

    # When alice reports bob and that post, as spam, asking for it to go to B
    report = await asyncio.to_thread(alice.report, seen["account"]["id"], [seen["id"]], "Advertising on the ward list",
                                     forward=True, category="spam")
    # Then her app gets the report
    assert (report["category"], report["comment"], report["forwarded"], report["action_taken"]) == (
        "spam", "Advertising on the ward list", True, False)
    assert [str(i) for i in report["status_ids"]] == [str(seen["id"])]
    assert report["target_account"]["acct"] == f"bob@{b.urls.authority}"
    # And A holds it, for A's moderators
    [on_a] = await _reports(a)
    assert (on_a.reporter_id, on_a.comment) == ((await a.actor("alice")).id, "Advertising on the ward list")

    # And B, told by a Flag from A's instance actor (not from alice), holds a report of bob and his post
    await settle(a, b)
    [on_b] = await _reports(b)
    bob_on_b = await b.actor("bob")
    async with b.db.sessions() as session:
        reporter = await session.get(Actor, on_b.reporter_id)
        reported = [await session.get(Object, i) for i in on_b.post_ids]
    assert reporter.uri == a.urls.instance_actor and "alice" not in reporter.uri
    assert on_b.target_id == bob_on_b.id and [post.uri for post in reported] == [first["uri"]]
    assert on_b.comment == "Advertising on the ward list"

    # When B's moderator opens the console in a browser, Then the report waits there
    async with chromium() as browser:
        page = await browser.new_page()
        violations = await watch_csp(page)
        await page.goto(f"{b.base}/auth/sign_in")
        await page.fill("#username", "mod")
        await page.fill("#password", PASSWORD)
        await page.click("#submit")
        await page.click("#nav-admin")
        assert await page.inner_text("#reports-count") == "1"
        await page.click("#tab-reports")
        card = page.locator(f"#report-{on_b.id}")
        assert await card.locator("h3").inner_text() == f"@{reporter.username}@{a.urls.authority} reported @bob"
        assert "Advertising on the ward list" in await card.locator(".comment").inner_text()
        assert "Buy cheap supplies here" in await card.locator(".reported-posts").inner_text()
        # When she marks it resolved, Then it leaves the list, and the audit log says who did it
        await card.locator("button.resolve").click()
        assert await page.locator("#done").is_visible()
        assert await page.locator(f"#report-{on_b.id}").count() == 0
        assert not violations
    async with b.db.sessions() as session:
        entry = await session.scalar(select(AuditEntry).where(AuditEntry.subject == f"report:{on_b.id}"))
    assert (entry.actor, entry.action) == ("web:mod", "report.resolve")
    assert (await _reports(b))[0].resolved_by == "web:mod"


async def test_what_a_report_may_not_be(api):
    a, http, alice, bob = api
    client = _client(a, alice)
    bob_id = (await a.actor("bob")).id
    alice_id = (await a.actor("alice")).id
    own = await asyncio.to_thread(client.status_post, "mine")
    secret = await asyncio.to_thread(_client(a, bob).status_post, "for my followers", visibility="private")

    async def refused(status: int, **body) -> str:
        async with http.post(f"{a.base}/api/v1/reports", headers=alice, json=body) as response:
            assert response.status == status, await response.text()
            return (await response.json())["error"]

    assert "yourself" in await refused(422, account_id=str(alice_id))
    assert "reported account's" in await refused(422, account_id=str(bob_id), status_ids=[own["id"]])
    await refused(404, account_id=str(bob_id), status_ids=[secret["id"]])  # she cannot see it
    assert "rule_ids" in await refused(422, account_id=str(bob_id), rule_ids=["7"])
    assert "longer than 1000" in await refused(422, account_id=str(bob_id), comment="x" * 1001)
    assert "category" in await refused(422, account_id=str(bob_id), category="rude")
    await refused(404, account_id="999999")
    await refused(404, account_id="²")  # a digit to str.isdigit, not to int()
    with pytest.raises(MastodonAPIError):
        await asyncio.to_thread(client.report, alice_id)
    # And none of them was filed
    assert await _reports(a) == []

    # And a report naming rules is of a rule broken, whatever category it says
    async with a.db.sessions.begin() as session:
        await instance.save(session, name="Rounds", description="", rules="Be kind\nNo patient data",
                            registrations="closed", by="test", at=a.clock.now())
    a.app[PROFILES].forget()
    report = await asyncio.to_thread(client.report, bob_id, category="spam", rule_ids=["2"])
    assert (report["category"], report["rule_ids"]) == ("violation", ["2"])
    # And one forwarded to a server the admin blocked is not said to be
    async with a.db.sessions.begin() as session:
        stranger = remote_actor(1, "elsewhere.example")
        session.add(stranger)
        await decisions.decide(session, "elsewhere.example", PeerState.blocked, by="test", at=a.clock.now())
    await a.fed.reload_policy()
    report = await asyncio.to_thread(client.report, stranger.id, forward=True)
    assert report["forwarded"] is False


async def test_only_a_moderator_resolves_a_report(api):
    # Given bob's report of carol
    a, http, _, bob = api
    carol = await a.add_user("carol")
    await asyncio.to_thread(_client(a, bob).report, carol[1].id, comment="rude")
    [report] = await _reports(a)
    # When alice, a practitioner, posts the console's resolve form with her own form token
    async with browser_like() as browser:
        await sign_in(browser, a.base, "alice")
        token = await page_token(browser, f"{a.base}/settings/sessions")
        async with browser.post(f"{a.base}/admin/reports/{report.id}/resolve", data={"csrf_token": token}) as response:
            # Then she finds nothing there, and the report stays open
            assert response.status == 404
    assert (await _reports(a))[0].resolved_at is None


async def test_a_flag_keeps_only_the_reported_accounts_posts(scene):
    # Given alice's post, and another local user's
    post = await scene.local_post()
    await scene.a.add_user("bea")
    async with scene.a.fed.transaction() as session:
        other = await actions.post(scene.a.fed, session, await scene.a.actor("bea"), content="<p>bea's</p>")
    # When zed's server flags alice, her post and bea's
    flag = await scene.send("zed", "Flag", [(await scene.a.actor("alice")).uri, post.uri, other.uri], "h")
    await scene.run()
    # Then the report is of alice and her post alone
    [report] = await _reports(scene.a)
    assert (report.target_id, report.post_ids) == ((await scene.a.actor("alice")).id, [post.id])
    assert await scene.outcome(flag) == (InboxState.done, None)


async def test_a_flag_naming_nothing_of_ours_is_no_report(scene):
    # When zed's server flags an account that is not ours
    flag = await scene.send("zed", "Flag", [f"{scene.peer.base}/users/mallory"], "f", content="spam")
    await scene.run()
    # Then it is ignored, and no report is filed
    assert (await scene.outcome(flag))[0] is InboxState.ignored
    assert await scene.count(Report) == 0
    # But one naming alice and her post is
    post = await scene.local_post()
    flag = await scene.send("zed", "Flag", [(await scene.a.actor("alice")).uri, post.uri], "g", content="rude")
    await scene.run()
    assert await scene.outcome(flag) == (InboxState.done, None)
    [report] = await _reports(scene.a)
    assert (report.post_ids, report.comment) == ([post.id], "rude")


async def test_a_peer_cannot_bury_the_moderators_queue(scene, monkeypatch):
    monkeypatch.setattr(reports, "PEER_OPEN_MAX", 2)
    alice = await scene.a.actor("alice")
    first, second = await scene.local_post(), await scene.local_post(content="<p>two</p>")
    for name in ("bea", "cid"):
        await scene.a.add_user(name)
    # When zed's server flags alice twice, Then it is one open report, with both posts
    await scene.send("zed", "Flag", [alice.uri, first.uri], "1", content="spam")
    await scene.send("zed", "Flag", [alice.uri, second.uri], "2", content="more spam")
    await scene.run()
    [report] = await _reports(scene.a)
    assert (report.post_ids, report.comment) == ([first.id, second.id], "spam\n\nmore spam")
    # And past its server's open reports' cap, the next Flag, by another of its actors, waits (ignored)
    await scene.send("zed", "Flag", [(await scene.a.actor("bea")).uri], "3")
    over = await scene.send("mallory", "Flag", [(await scene.a.actor("cid")).uri], "4")
    await scene.run()
    assert (await scene.outcome(over))[0] is InboxState.ignored and len(await _reports(scene.a)) == 2
    # And a practitioner's report comes first in the console's list
    async with scene.a.fed.transaction() as session:
        ours = await reports.file(scene.a.fed, session, await scene.a.actor("bea"), alice, [], comment="rude",
                                  category="other", rule_ids=[], forward=False, now=scene.a.clock.now())
    async with scene.a.db.sessions() as session:
        assert [row.id for row in await report_queries.open_reports(session, 10)][0] == ours.id
    # And once its peer is blocked, the peer's reports wait unseen
    async with scene.a.db.sessions.begin() as session:
        await decisions.decide(session, scene.peer.authority, PeerState.blocked, by="test", at=scene.a.clock.now())
    await scene.a.fed.reload_policy()
    async with scene.a.db.sessions() as session:
        assert [row.id for row in await report_queries.open_reports(session, 10)] == [ours.id]
        assert await report_queries.count_open(session) == 1
