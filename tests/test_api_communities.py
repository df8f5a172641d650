"""/api/rounds/v1/communities over real HTTP: the directory (an institution-only community only
for the instance's users), creation (staff only by default), join requests, moderators, members
removed and banned, pins and a moderator's removal of a post; every write is a moderator's only."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import AuditEntry, Follow, FollowState, Notification, NotificationType
from tests.api_helpers import token_for

API = "/api/rounds/v1/communities"


async def test_communities_api(instances, http):
    a = await instances.start()
    admin = await token_for(a, "root", admin=True)
    alice = await token_for(a, "alice")
    bob = await token_for(a, "bob")
    carol = await token_for(a, "carol")

    async def call(method: str, path: str, headers: dict[str, str] | None = None, **body):
        async with http.request(method, f"{a.base}{path}", headers=headers or {}, json=body if body else None) as r:
            return r.status, await r.json(content_type=None)

    # When a practitioner who is not staff creates a community, Then she is refused
    status, body = await call("POST", API, alice, name="wound-care")
    assert status == 403
    # When the admin creates one, Then it is there, and the admin moderates it
    status, made = await call("POST", API, admin, name="wound-care", title="Wound care",
                              join_policy="approval", rules=["No patient data"])
    assert status == 200, made
    assert (made["name"], made["join_policy"], made["posting"], made["rules"]) == (
        "wound-care", "approval", "members", ["No patient data"])
    assert made["account"]["group"] is True and [m["username"] for m in made["moderators"]] == ["root"]
    one = f"{API}/{made['id']}"
    status, hidden = await call("POST", API, admin, name="night-shift", institution_only=True)
    assert status == 200 and hidden["institution_only"] is True
    # And bad input is a 422 that writes nothing
    for bad in ({"name": "bad-"}, {"name": "x", "join_policy": "sometimes"}, {"name": "wound-care"}):
        status, body = await call("POST", API, admin, **bad)
        assert status == 422, bad
    # And the directory shows both to users, and only the federated one to anyone else
    status, listed = await call("GET", API, alice)
    assert sorted(c["name"] for c in listed) == ["night-shift", "wound-care"]
    status, listed = await call("GET", API)
    assert [c["name"] for c in listed] == ["wound-care"]
    status, _ = await call("GET", f"{API}/{hidden['id']}")
    assert status == 404
    # nor through its account, by id or by name
    account_id = hidden["account"]["id"]
    assert (await call("GET", f"/api/v1/accounts/{account_id}"))[0] == 404
    assert (await call("GET", "/api/v1/accounts/lookup?acct=night-shift"))[0] == 404
    assert (await call("GET", f"/api/v1/accounts/{account_id}/statuses"))[0] == 404
    assert (await call("GET", f"/api/v1/accounts/{account_id}", alice))[0] == 200

    # When carol, who moderates nothing, makes herself a moderator, Then she is refused
    carol_id = (await call("GET", "/api/v1/accounts/verify_credentials", carol))[1]["id"]
    assert (await call("POST", f"{one}/moderators", carol, account_id=carol_id))[0] == 403
    # When the admin makes alice a moderator and steps down
    alice_id = (await call("GET", "/api/v1/accounts/verify_credentials", alice))[1]["id"]
    status, body = await call("POST", f"{one}/moderators", admin, account_id=alice_id)
    assert status == 200 and [m["username"] for m in body["moderators"]] == ["root", "alice"]
    root_id = body["moderators"][0]["id"]
    status, body = await call("DELETE", f"{one}/moderators/{root_id}", admin)  # an admin still may
    assert status == 200 and [m["username"] for m in body["moderators"]] == ["alice"]

    # When bob asks to join, Then alice sees the request; carol, who does not moderate, cannot
    bob_id = (await call("GET", "/api/v1/accounts/verify_credentials", bob))[1]["id"]
    status, rel = await call("POST", f"/api/v1/accounts/{made['id']}/follow", bob)
    assert rel["requested"] is True
    status, requests = await call("GET", f"{one}/join_requests", alice)
    assert [r["id"] for r in requests] == [bob_id]
    assert (await call("GET", f"{one}/join_requests", carol))[0] == 403
    assert (await call("POST", f"{one}/join_requests/{bob_id}/authorize", carol))[0] == 403
    # When alice authorizes it, Then bob is a member
    status, body = await call("POST", f"{one}/join_requests/{bob_id}/authorize", alice)
    assert status == 200 and body["members_count"] == 1
    status, rel = await call("GET", f"/api/v1/accounts/relationships?id[]={made['id']}", bob)
    assert rel[0]["following"] is True
    status, told = await call("GET", "/api/v1/notifications", bob)
    assert [(n["type"], n["account"]["id"]) for n in told] == [("join_approved", made["id"])]
    # And answering again is a 422
    assert (await call("POST", f"{one}/join_requests/{bob_id}/authorize", alice))[0] == 422

    # When bob posts to it, Then alice pins it, and bob, a member here, is told
    status, post = await call("POST", "/api/v1/statuses", bob, status="@wound-care silver or honey?")
    assert (await call("POST", f"{one}/pins/{post['id']}", carol))[0] == 403
    status, body = await call("POST", f"{one}/pins/{post['id']}", alice)
    assert status == 200 and body["pinned_status_ids"] == [post["id"]]
    bob_actor = await a.actor("bob")
    async with a.db.sessions() as session:
        told = await session.scalar(select(Notification.type).where(Notification.recipient_id == bob_actor.id,
                                                                    Notification.type == NotificationType.status))
    assert told is NotificationType.status
    status, body = await call("DELETE", f"{one}/pins/{post['id']}", alice)
    assert body["pinned_status_ids"] == []

    # When alice removes bob's post from the community, Then it leaves its threads
    assert (await call("DELETE", f"{one}/statuses/{post['id']}", carol))[0] == 403
    status, _ = await call("DELETE", f"{one}/statuses/{post['id']}", alice)
    assert status == 200
    status, threads = await call("GET", f"/api/v1/accounts/{made['id']}/statuses", alice)
    assert threads == []
    assert (await call("DELETE", f"{one}/statuses/{post['id']}", alice))[0] == 422

    # When alice bans bob, Then he is out, and his new request is refused at once
    status, body = await call("POST", f"{one}/members/{bob_id}/ban", alice)
    assert status == 200 and body["members_count"] == 0
    status, rel = await call("POST", f"/api/v1/accounts/{made['id']}/follow", bob)
    assert rel["requested"] is False and rel["following"] is False
    async with a.db.sessions() as session:
        assert await session.scalar(select(Follow.state).where(Follow.follower_id == bob_actor.id)) \
            is FollowState.rejected
        actions = set(await session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("community.%"))))
    assert {"community.create", "community.moderator.add", "community.moderator.remove", "community.join.approve",
            "community.pin", "community.unpin", "community.post.remove", "community.member.ban"} <= actions


async def test_users_may_create_when_the_setting_says_so(instances, http):
    a = await instances.start(communities={"creators": "users"})
    alice = await token_for(a, "alice")
    async with http.post(f"{a.base}{API}", headers=alice, json={"name": "hand-hygiene"}) as r:
        assert r.status == 200
        assert [m["username"] for m in (await r.json())["moderators"]] == ["alice"]
