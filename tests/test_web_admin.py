"""The admin console over HTTP: who may read and do what (a stranger, a user, a moderator, an
admin), every change in the audit log as the person's, the form token on every action; the
instance's settings read back by the instance API and the about page; the queues' retry."""

from __future__ import annotations

import re
from datetime import timedelta

import aiohttp
from aiohttp import web
from sqlalchemy import select

from federation.admin import users
from storage.ids import new_id
from storage.models import AuditEntry, InboxItem, InboxState, Peer, PeerState
from tests.api_helpers import token_for
from tests.instances import side_server
from tests.web_helpers import browser_like, sign_in, submit

EVERYONE = ["/admin", "/admin/users", "/admin/queues", "/admin/audit"]   # moderators and admins
ADMINS_ONLY = ["/admin/peers", "/admin/peers/export", "/admin/settings"]


async def _staff(instance) -> None:
    """root (admin), mo (moderator), alice (user)."""
    await instance.add_user("root", admin=True)
    await instance.add_user("mo")
    await instance.add_user("alice")
    async with instance.db.sessions.begin() as session:
        await users.set_role(session, "mo", users.MODERATOR, by="test", at=instance.clock.now())


async def _audit(instance, action: str) -> list[AuditEntry]:
    async with instance.db.sessions() as session:
        return list(await session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


async def _peer(instance, domain: str) -> Peer | None:
    async with instance.db.sessions() as session:
        return await session.scalar(select(Peer).where(Peer.domain == domain))


async def test_each_role_reads_its_pages_and_no_other(instances):
    a = await instances.start(federation={"mode": "allowlist"})
    await _staff(a)
    async with browser_like() as stranger, browser_like() as alice, browser_like() as mo, browser_like() as root:
        for browser, name in ((alice, "alice"), (mo, "mo"), (root, "root")):
            assert (await sign_in(browser, a.base, name)).status == 303
        for path in EVERYONE + ADMINS_ONLY:
            # A stranger is sent to sign in; a practitioner without a role finds nothing there
            async with stranger.get(f"{a.base}{path}", allow_redirects=False) as response:
                assert response.status == 303 and response.headers["Location"] == "/auth/sign_in", path
            async with alice.get(f"{a.base}{path}", allow_redirects=False) as response:
                assert response.status == 404, path
            # A moderator reads users, queues and the audit log; an admin reads everything
            async with mo.get(f"{a.base}{path}", allow_redirects=False) as response:
                assert response.status == (200 if path in EVERYONE else 404), path
            async with root.get(f"{a.base}{path}", allow_redirects=False) as response:
                assert response.status == 200, path
        # And the navigation shows the console to the moderator and the admin, not to alice
        async with alice.get(f"{a.base}/home") as response:
            assert 'id="nav-admin"' not in await response.text()
        async with mo.get(f"{a.base}/admin") as response:
            page = await response.text()
        assert 'id="nav-admin"' in page and 'id="tab-users"' in page and 'id="tab-peers"' not in page

        # When alice or the moderator posts an admin's form, Then nothing changes
        for browser in (alice, mo):
            response = await submit(browser, a.base, "/admin/peers", token_from="/home", domain="evil.example",
                                    state="allowed")
            assert response.status == 404
        assert await _peer(a, "evil.example") is None
        # When alice posts a moderator's form, Then nothing changes either
        response = await submit(alice, a.base, "/admin/users", token_from="/home", username="sneaky", role="user")
        assert response.status == 404
        # And a stranger's post is sent to sign in
        response = await submit(stranger, a.base, "/admin/users", token_from="/auth/sign_in", username="sneaky",
                                role="user")
        assert response.status == 303 and response.headers["Location"] == "/auth/sign_in"
    async with a.db.sessions() as session:
        assert await users.account_named(session, "root") is not None
        assert (await session.scalar(select(AuditEntry).where(AuditEntry.subject == "@sneaky"))) is None


async def test_an_admin_decides_about_peers_each_decision_audited_and_guarded_by_the_form_token(instances):
    a = await instances.start(federation={"mode": "allowlist"})
    await _staff(a)
    async with browser_like() as root:
        await sign_in(root, a.base, "root")
        # When the admin allows a peer with a reason
        response = await submit(root, a.base, "/admin/peers", token_from="/admin/peers",
                                domain="CHU-Other.example", public_comment="regional network", state="allowed")
        assert response.status == 303 and response.headers["Location"].startswith("/admin/peers")
        # Then it is allowed, the policy says so at once, and the audit log names who and why
        assert (await _peer(a, "chu-other.example")).state is PeerState.allowed
        assert a.fed.policy.allows("chu-other.example")
        [entry] = await _audit(a, "peer.allowed")
        assert entry.actor == "web:root" and entry.subject == "chu-other.example" and entry.reason == "regional network"
        # When a form with no token, or another browser's, asks to block it, Then it is refused
        async with root.post(f"{a.base}/admin/peers", data={"domain": "chu-other.example", "state": "blocked"},
                             allow_redirects=False) as response:
            assert response.status == 403
        async with browser_like() as other:
            await sign_in(other, a.base, "root")
            async with other.get(f"{a.base}/admin/peers") as page:
                foreign = re.search(r'name="csrf_token" value="([^"]+)"', await page.text()).group(1)
        async with root.post(f"{a.base}/admin/peers", allow_redirects=False,
                             data={"csrf_token": foreign, "domain": "chu-other.example", "state": "blocked"}) as response:
            assert response.status == 403
        assert (await _peer(a, "chu-other.example")).state is PeerState.allowed
        # When it blocks it, Then the export is a Mastodon block list that names it, with the reason
        await submit(root, a.base, "/admin/peers", token_from="/admin/peers", domain="chu-other.example",
                     public_comment="not a hospital", state="blocked")
        assert not a.fed.policy.allows("chu-other.example")
        async with root.get(f"{a.base}/admin/peers/export?state=blocked") as response:
            assert response.headers["Content-Type"].startswith("text/csv")
            assert "attachment" in response.headers["Content-Disposition"]
            lines = (await response.text()).splitlines()
        assert lines[0].startswith("#domain,#severity") and lines[1].startswith("chu-other.example,suspend")
        assert "not a hospital" in lines[1]
        # When it uploads a list of domains, Then they are allowed, as the admin's
        token = re.search(r'name="csrf_token" value="([^"]+)"',
                          await (await root.get(f"{a.base}/admin/peers")).text()).group(1)
        form = aiohttp.FormData()
        form.add_field("csrf_token", token)
        form.add_field("file", b"#domain\nward.example\nlab.example:8443\n", filename="members.csv",
                       content_type="text/csv")
        async with root.post(f"{a.base}/admin/peers/import", data=form, allow_redirects=False) as response:
            assert response.status == 303
        assert (await _peer(a, "lab.example:8443")).state is PeerState.allowed
        assert {e.subject for e in await _audit(a, "peer.allowed")} >= {"ward.example", "lab.example:8443"}
        # And a bad line changes nothing, and says which line
        form = aiohttp.FormData()
        form.add_field("csrf_token", token)
        form.add_field("file", b"#domain\nfine.example\nnot a domain\n", filename="bad.csv", content_type="text/csv")
        async with root.post(f"{a.base}/admin/peers/import", data=form, allow_redirects=False) as response:
            assert response.status == 422 and "bad.csv line 3" in await response.text()
        assert await _peer(a, "fine.example") is None


async def test_moderators_look_after_plain_users_and_admins_give_roles(instances):
    a = await instances.start()
    await _staff(a)
    alice_token = await token_for(a, "alice", create=False)
    async with browser_like() as mo, browser_like() as root, browser_like() as alice:
        for browser, name in ((mo, "mo"), (root, "root"), (alice, "alice")):
            await sign_in(browser, a.base, name)
        # When the moderator creates a user, Then the random password is shown once, and it signs in
        response = await submit(mo, a.base, "/admin/users", token_from="/admin/users", username="bob", role="user")
        async with mo.get(f"{a.base}/admin/users") as listing:
            assert "@bob" in await listing.text()
        [created] = await _audit(a, "user.create")
        assert created.actor == "web:mo" and created.subject == "@bob"
        # But a moderator may not make an admin
        response = await submit(mo, a.base, "/admin/users", token_from="/admin/users", username="eve", role="admin")
        assert response.status == 403
        # When the moderator resets alice's password, Then her browser is signed out and her token revoked
        async with mo.post(f"{a.base}/admin/users/alice/reset_password", allow_redirects=False,
                           data={"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', await (
                               await mo.get(f"{a.base}/admin/users")).text()).group(1)}) as response:
            page = await response.text()
        assert response.status == 200 and 'id="password-value"' in page
        new_password = re.search(r'id="password-value">([^<]+)<', page).group(1)
        async with alice.get(f"{a.base}/home", allow_redirects=False) as response:
            assert response.status == 303
        async with alice.get(f"{a.base}/api/v1/accounts/verify_credentials", headers=alice_token) as response:
            assert response.status == 401
        async with browser_like() as again:
            assert (await sign_in(again, a.base, "alice", new_password)).status == 303
        [reset] = await _audit(a, "user.reset_password")
        assert reset.actor == "web:mo" and "web sessions signed out: 1" in reset.reason
        # But the moderator may not touch the admin
        response = await submit(mo, a.base, "/admin/users/root/disable", token_from="/admin/users")
        assert response.status == 422
        assert await _audit(a, "user.disable") == []
        # When the admin makes alice a moderator and disables bob, Then both are audited as the admin's
        response = await submit(root, a.base, "/admin/users/alice/role", token_from="/admin/users", role="moderator")
        assert response.status == 303
        response = await submit(root, a.base, "/admin/users/bob/disable", token_from="/admin/users")
        assert response.status == 303
        [role] = [entry for entry in await _audit(a, "user.role") if entry.subject == "@alice"]
        assert role.actor == "web:root" and role.before["role"] == "user" and role.after["role"] == "moderator"
        [disabled] = await _audit(a, "user.disable")
        assert disabled.subject == "@bob" and disabled.after["state"] == "disabled"


async def test_instance_settings_show_in_the_instance_api_and_the_about_page(instances, http):
    a = await instances.start()
    await _staff(a)
    async with browser_like() as root:
        await sign_in(root, a.base, "root")
        response = await submit(root, a.base, "/admin/settings", token_from="/admin/settings",
                                name="CHU Exemple", description="Rounds of the regional hospital.",
                                rules="Be kind\n\nNo patient data", registrations="invite_only")
        assert response.status == 303
        # And a name left empty is refused, with nothing changed
        response = await submit(root, a.base, "/admin/settings", token_from="/admin/settings", name=" ",
                                description="", rules="", registrations="open")
        assert response.status == 422
    async with http.get(f"{a.base}/api/v1/instance") as response:
        v1 = await response.json()
    assert v1["title"] == "CHU Exemple" and v1["description"] == "Rounds of the regional hospital."
    assert [rule["text"] for rule in v1["rules"]] == ["Be kind", "No patient data"]
    assert v1["registrations"] is False and v1["invites_enabled"] is True
    async with http.get(f"{a.base}/api/v2/instance") as response:
        v2 = await response.json()
    assert v2["title"] == "CHU Exemple" and v2["registrations"]["enabled"] is False
    async with http.get(f"{a.base}/api/v1/instance/rules") as response:
        assert [rule["text"] for rule in await response.json()] == ["Be kind", "No patient data"]
    async with http.get(f"{a.base}/about", headers={"Accept-Language": "fr"}) as response:
        about = await response.text()
    assert "<h1>CHU Exemple</h1>" in about and "<li>No patient data</li>" in about
    assert "Les comptes sont ouverts ici sur invitation." in about
    [entry] = await _audit(a, "instance.settings")
    assert entry.actor == "web:root" and entry.after["registrations"] == "invite_only"


async def test_a_moderator_retries_a_dead_inbox_item_and_filters_the_audit_log(instances):
    a = await instances.start()
    await _staff(a)
    now = a.clock.now()
    item_id = new_id()
    async with a.db.sessions.begin() as session:
        session.add(InboxItem(id=item_id, activity_uri="https://peer.example/a/1", activity_type="Create",
                              actor_uri="https://peer.example/u/x", signer_key_id="https://peer.example/u/x#key",
                              raw="{}", state=InboxState.dead, attempts=8, last_error="KeyError: 'object'",
                              received_at=now - timedelta(hours=1), next_attempt_at=now))
    async with browser_like() as mo:
        await sign_in(mo, a.base, "mo")
        # The moderator sees the dead item with its reason
        async with mo.get(f"{a.base}/admin/queues") as response:
            page = await response.text()
        assert f'id="inbox-{item_id}"' in page and "KeyError: &#39;object&#39;" in page
        # When she retries it, Then it is queued again, and the log says she did
        response = await submit(mo, a.base, f"/admin/queues/inbox/{item_id}/retry", token_from="/admin/queues")
        assert response.status == 303
        async with a.db.sessions() as session:
            assert (await session.get(InboxItem, item_id)).state is InboxState.queued
        # And retrying it again, now queued, is refused with the reason
        response = await submit(mo, a.base, f"/admin/queues/inbox/{item_id}/retry", token_from="/admin/queues")
        assert response.status == 409
        # When she filters the audit log by who and what, Then she sees that entry and no other
        async with mo.get(f"{a.base}/admin/audit", params={"actor": "web:mo", "action": "inbox."}) as response:
            page = await response.text()
        assert page.count('<tr id="entry-') == 1 and "inbox.retry" in page
        async with mo.get(f"{a.base}/admin/audit", params={"action": "peer."}) as response:
            assert 'id="no-entries"' in await response.text()
        day = now.date()
        async with mo.get(f"{a.base}/admin/audit", params={"since": (day + timedelta(days=1)).isoformat()}) as response:
            assert 'id="no-entries"' in await response.text()
        async with mo.get(f"{a.base}/admin/audit", params={"since": day.isoformat(), "until": day.isoformat()}) as response:
            assert "inbox.retry" in await response.text()


async def test_an_admin_subscribes_to_a_consortiums_list_and_its_members_are_allowed(instances):
    a = await instances.start(federation={"mode": "allowlist"})
    await _staff(a)
    members = ["#domain", "ward.example", "lab.example"]

    async def listing(request):
        return web.Response(text="\n".join(members) + "\n", content_type="text/csv")

    async with side_server({"/members.csv": listing}) as consortium, browser_like() as root:
        url = f"{consortium}/members.csv"
        await sign_in(root, a.base, "root")
        # When the admin subscribes to the consortium's list
        response = await submit(root, a.base, "/admin/peers/subscriptions", token_from="/admin/peers", url=url)
        assert response.status == 303
        # Then its members are allowed, as the subscription's, and the page lists it
        for domain in ("ward.example", "lab.example"):
            peer = await _peer(a, domain)
            assert peer.state is PeerState.allowed and peer.source == url
        assert a.fed.policy.allows("ward.example")
        async with root.get(f"{a.base}/admin/peers") as page:
            assert f"<code>{url}</code>" in await page.text()
        [added] = await _audit(a, "subscription.add")
        assert added.actor == "web:root" and added.subject == url
        # When the list drops a member and the admin fetches every list again, Then it is dropped
        members.remove("lab.example")
        response = await submit(root, a.base, "/admin/peers/subscriptions/refresh", token_from="/admin/peers")
        assert response.status == 303
        assert await _peer(a, "lab.example") is None and not a.fed.policy.allows("lab.example")
        # And subscribing twice is refused, with the reason
        response = await submit(root, a.base, "/admin/peers/subscriptions", token_from="/admin/peers", url=url)
        assert response.status == 422
