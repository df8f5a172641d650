"""Invitation links over HTTP: staff make and revoke them from the users page (each audited,
nobody else may), a newcomer signs up with a live one and is signed in, a dead one (expired,
revoked, used up, unknown) is refused with nothing written, the last use goes to one person
only, the form token guards the sign-up, and unknown codes count as failed sign-ins."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from federation.admin import instance as instance_profile
from federation.admin import invites, users
from federation.admin.invites import InvitationRefused
from federation.social.accounts import AccountError
from storage.models import Account, AuditEntry, Invitation, WebSession
from tests.conftest import DATABASE_URL
from tests.web_helpers import PASSWORD, browser_like, page_token, set_cookie_headers, sign_in, submit


async def _staff(instance) -> None:
    """root (admin), mo (moderator), alice (user)."""
    await instance.add_user("root", admin=True)
    await instance.add_user("mo")
    await instance.add_user("alice")
    async with instance.db.sessions.begin() as session:
        await users.set_role(session, "mo", users.MODERATOR, by="test", at=instance.clock.now())


async def _invite(instance, *, expires_days: int | None = 7, max_uses: int | None = 1) -> Invitation:
    async with instance.db.sessions.begin() as session:
        return await invites.create(session, expires_days=expires_days, max_uses=max_uses, by="test",
                                    at=instance.clock.now())


async def _audit(instance, action: str) -> list[AuditEntry]:
    async with instance.db.sessions() as session:
        return list(await session.scalars(select(AuditEntry).where(AuditEntry.action == action)
                                          .order_by(AuditEntry.id)))


async def _accounts(instance) -> int:
    async with instance.db.sessions() as session:
        return await session.scalar(select(func.count(Account.id)))


async def _uses(instance, invitation: Invitation) -> int:
    async with instance.db.sessions() as session:
        return (await session.get(Invitation, invitation.id)).uses


async def _sign_up(http, base: str, code: str, username: str, *, password: str = PASSWORD,
                   confirmation: str | None = None):
    """Submit the sign-up form of the link `code` (the form token from the sign-in page, the
    same browser's, so that a dead link's POST is tried too)."""
    return await submit(http, base, f"/auth/invite/{code}", token_from="/auth/sign_in", username=username,
                        password=password, password_confirmation=password if confirmation is None else confirmation)


async def test_staff_make_and_revoke_invitations_each_audited_and_nobody_else_may(instances):
    a = await instances.start()
    await _staff(a)
    async with browser_like() as stranger, browser_like() as alice, browser_like() as mo, browser_like() as root:
        for browser, name in ((alice, "alice"), (mo, "mo"), (root, "root")):
            assert (await sign_in(browser, a.base, name)).status == 303
        # When the moderator makes an invitation from the users page
        response = await submit(mo, a.base, "/admin/invites", token_from="/admin/users", note="for Dr Grey",
                                expires_days="7", max_uses="5")
        assert response.status == 303 and response.headers["Location"] == "/admin/users?done=invite#invitations"
        # Then the page lists it, with its link, who made it, its uses and its expiry
        async with mo.get(f"{a.base}/admin/users") as page:
            html = await page.text()
        [link] = re.findall(r'<code class="invite-link">([^<]+)</code>', html)
        assert link.startswith(f"{a.base}/auth/invite/") and "for Dr Grey" in html and "web:mo" in html
        assert re.search(r'class="uses">0 / 5<', html)
        code = link.rsplit("/", 1)[1]
        async with a.db.sessions() as session:
            made = await session.scalar(select(Invitation).where(Invitation.code == code))
        assert made.max_uses == 5 and made.expires_at - made.created_at == timedelta(days=7)
        [entry] = await _audit(a, "invite.create")
        assert entry.actor == "web:mo" and entry.subject == f"invite:{made.id}" and entry.reason == "for Dr Grey"
        # And a choice the form does not offer is refused
        response = await submit(mo, a.base, "/admin/invites", token_from="/admin/users", expires_days="3",
                                max_uses="1")
        assert response.status == 422
        # When alice or a stranger post the same form, Then no invitation is made
        response = await submit(alice, a.base, "/admin/invites", token_from="/home", expires_days="7", max_uses="1")
        assert response.status == 404
        response = await submit(stranger, a.base, "/admin/invites", token_from="/auth/sign_in", expires_days="7",
                                max_uses="1")
        assert response.status == 303 and response.headers["Location"] == "/auth/sign_in"
        # nor may they revoke one
        for browser, home in ((alice, "/home"), (stranger, "/auth/sign_in")):
            response = await submit(browser, a.base, f"/admin/invites/{made.id}/revoke", token_from=home)
            assert response.status in (303, 404) and response.headers.get("Location") != "/admin/users?done=revoke"
        assert len(await _audit(a, "invite.create")) == 1 and await _audit(a, "invite.revoke") == []
        # When the admin revokes it, Then it leaves the list, its link is gone, and the log says who
        response = await submit(root, a.base, f"/admin/invites/{made.id}/revoke", token_from="/admin/users")
        assert response.status == 303 and response.headers["Location"] == "/admin/users?done=revoke#invitations"
        async with root.get(f"{a.base}/admin/users") as page:
            assert 'class="invite-link"' not in await page.text()
        async with stranger.get(link) as page:
            assert page.status == 410 and 'data-reason="revoked"' in await page.text()
        [entry] = await _audit(a, "invite.revoke")
        assert entry.actor == "web:root" and entry.subject == f"invite:{made.id}"


async def test_a_newcomer_signs_up_with_a_link_and_is_signed_in_at_home(instances):
    a = await instances.start()
    invitation = await _invite(a, max_uses=5)
    before = await _accounts(a)
    async with browser_like() as newcomer:
        # Given the link's page, a form
        async with newcomer.get(f"{a.base}/auth/invite/{invitation.code}") as page:
            assert page.status == 200 and 'name="password_confirmation"' in await page.text()
        # When the passwords differ, or the username or password break the rules of `rounds user add`
        for username, password, confirmation, said in (
                ("meredith", PASSWORD, PASSWORD + "x", "differ"), ("Meredith Grey", PASSWORD, None, "invalid username"),
                ("meredith", "short", None, "at least 8"), ("admin_api", PASSWORD, None, "reserved")):
            response = await _sign_up(newcomer, a.base, invitation.code, username, password=password,
                                      confirmation=confirmation)
            # Then the form says why, and nothing is written, not even a use
            assert response.status == 422, username
        assert await _accounts(a) == before and await _uses(a, invitation) == 0
        assert await _audit(a, "invite.use") == []
        # When the form has no token, Then it is refused
        async with newcomer.post(f"{a.base}/auth/invite/{invitation.code}", allow_redirects=False,
                                 data={"username": "meredith", "password": PASSWORD,
                                       "password_confirmation": PASSWORD}) as response:
            assert response.status == 403
        assert await _accounts(a) == before
        # When she signs up properly
        response = await _sign_up(newcomer, a.base, invitation.code, "Meredith")
        # Then she is signed in and sent home, her account made, the use counted and audited
        assert response.status == 303 and response.headers["Location"] == "/home"
        assert set_cookie_headers(response, "rounds_session")
        async with newcomer.get(f"{a.base}/home", allow_redirects=False) as home:
            assert home.status == 200
        async with a.db.sessions() as session:
            assert await session.scalar(select(func.count(WebSession.id)).join(Account).where(
                Account.username == "meredith")) == 1
        assert await _accounts(a) == before + 1 and await _uses(a, invitation) == 1
        [use] = await _audit(a, "invite.use")
        assert use.actor == "web:meredith" and use.subject == f"invite:{invitation.id}"
        assert use.after["user"] == "@meredith" and use.after["uses"] == 1
        [created] = await _audit(a, "user.create")
        assert created.actor == f"invite:{invitation.id}" and created.subject == "@meredith"
    # And a taken username is refused without counting a use
    async with browser_like() as other:
        response = await _sign_up(other, a.base, invitation.code, "meredith")
        assert response.status == 422
    assert await _uses(a, invitation) == 1


async def test_a_staff_made_link_works_even_with_registrations_closed(instances):
    # Given an instance whose registrations are closed, and a link staff made
    a = await instances.start()
    async with a.db.sessions.begin() as session:
        await instance_profile.save(session, name="CHU", description="", rules="", registrations=instance_profile.CLOSED,
                                    by="test", at=a.clock.now())
    invitation = await _invite(a)
    # When a newcomer follows it, Then she gets in (README: staff-made invitations always work)
    async with browser_like() as newcomer:
        response = await _sign_up(newcomer, a.base, invitation.code, "closed_door")
        assert response.status == 303 and response.headers["Location"] == "/home"


async def test_expired_revoked_used_up_and_unknown_links_are_refused_and_nothing_is_written(instances):
    a = await instances.start()
    expired = await _invite(a, expires_days=1, max_uses=None)
    never = await _invite(a, expires_days=None, max_uses=None)
    revoked = await _invite(a)
    used_up = await _invite(a, max_uses=1)
    async with a.db.sessions.begin() as session:
        await invites.revoke(session, revoked.id, by="test", at=a.clock.now())
    async with browser_like() as first:
        assert (await _sign_up(first, a.base, used_up.code, "first")).status == 303
    a.clock.advance(days=1, seconds=1)
    accounts, uses = await _accounts(a), len(await _audit(a, "invite.use"))
    async with browser_like() as newcomer:
        for code, status, reason in ((expired.code, 410, "expired"), (revoked.code, 410, "revoked"),
                                     (used_up.code, 410, "used_up"), ("no-such-code", 404, "unknown")):
            # When she opens the link, or posts its form anyway
            async with newcomer.get(f"{a.base}/auth/invite/{code}") as page:
                # Then a page says why, with no form
                html = await page.text()
                assert page.status == status and f'data-reason="{reason}"' in html and 'name="password"' not in html, code
            response = await _sign_up(newcomer, a.base, code, f"late_{reason}")
            assert response.status == status, code
        # And a link that never expires still works a year later
        a.clock.advance(days=365)
        assert (await _sign_up(newcomer, a.base, never.code, "later")).status == 303
    # And nothing was written for the dead links
    assert await _accounts(a) == accounts + 1
    assert len(await _audit(a, "invite.use")) == uses + 1
    assert [await _uses(a, row) for row in (expired, revoked, used_up)] == [0, 0, 1]


async def test_two_newcomers_racing_for_the_last_use_make_one_account(instances):
    a = await instances.start()
    invitation = await _invite(a, max_uses=1)
    before = await _accounts(a)
    async with browser_like() as one, browser_like() as two:
        tokens = [await page_token(browser, f"{a.base}/auth/invite/{invitation.code}") for browser in (one, two)]

        async def post(browser, token: str, username: str) -> int:
            async with browser.post(f"{a.base}/auth/invite/{invitation.code}", allow_redirects=False, data={
                    "csrf_token": token, "username": username, "password": PASSWORD,
                    "password_confirmation": PASSWORD}) as response:
                return response.status

        # When both submit at once
        statuses = await asyncio.gather(post(one, tokens[0], "one"), post(two, tokens[1], "two"))
    # Then one gets in, the other is told the link is used up, and one account is made
    assert sorted(statuses) == [303, 410]
    assert await _accounts(a) == before + 1 and await _uses(a, invitation) == 1
    assert len(await _audit(a, "invite.use")) == 1


@pytest.mark.skipif(not DATABASE_URL, reason="two sessions racing need PostgreSQL (SQLite's BEGIN IMMEDIATE "
                    "serialises sign-ups; CI sets ROUNDS_TEST_DATABASE_URL)")
async def test_the_second_of_two_sessions_claiming_the_last_use_finds_it_used_up(instances):
    a = await instances.start()
    invitation = await _invite(a, max_uses=1)
    now = a.clock.now()
    # Given a sign-up that claimed the last use and has not committed yet
    async with a.db.sessions.begin() as first:
        await invites.sign_up(first, a.urls, invitation.code, "first", PASSWORD, at=now)

        async def second() -> str:
            async with a.db.sessions.begin() as session:
                started.set_result(await session.scalar(text("SELECT pg_backend_pid()")))
                try:
                    await invites.sign_up(session, a.urls, invitation.code, "second", PASSWORD, at=now)
                except InvitationRefused as exc:
                    return exc.reason
                return "signed up"

        # When a second one, which read the link live, claims it too
        started: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        loser = asyncio.create_task(second())
        await _wait_until_blocked(a, await started)
    # Then it waited for the first and found the link used up
    assert await asyncio.wait_for(loser, 5) == invites.USED_UP
    assert await _uses(a, invitation) == 1
    async with a.db.sessions() as session:
        with pytest.raises(AccountError):
            await users.account_named(session, "second")


async def _wait_until_blocked(instance, pid: int) -> None:
    for _ in range(100):
        async with instance.db.sessions() as session:
            waiting = await session.scalar(text("SELECT wait_event_type FROM pg_stat_activity WHERE pid = :pid"),
                                           {"pid": pid})
        if waiting == "Lock":
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the second session never waited on the first one's row")


async def test_unknown_codes_count_as_failed_sign_ins_of_the_address(instances):
    a = await instances.start()
    invitation = await _invite(a)
    async with browser_like() as guesser:
        # Given as many wrong guesses as the limit allows
        for guess in range(a.settings.api.login_attempts_per_minute):
            async with guesser.get(f"{a.base}/auth/invite/guess{guess}") as page:
                assert page.status == 404
        # When the guesser tries a real code, Then it must wait
        async with guesser.get(f"{a.base}/auth/invite/{invitation.code}") as page:
            assert page.status == 429 and page.headers["Retry-After"]
        response = await _sign_up(guesser, a.base, invitation.code, "guesser")
        assert response.status == 429
        # And a minute later the link works
        a.clock.advance(minutes=1, seconds=1)
        async with guesser.get(f"{a.base}/auth/invite/{invitation.code}") as page:
            assert page.status == 200
    assert await _uses(a, invitation) == 0
