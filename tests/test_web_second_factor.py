"""The second factor over HTTP: enrolment, the code after the password (wrong and replayed
codes refused, failed codes counted by the lock-out), recovery codes, turning it off, the
admin's [web] require_second_factor, and the OAuth doors that must not go round it."""

from __future__ import annotations

import re

from sqlalchemy import select

from federation.admin import users
from federation.social.second_factor import code_at, step_at
from storage.models import AuditEntry
from tests.test_oauth import open_form, register
from tests.test_oauth import submit as oauth_submit
from tests.web_helpers import PASSWORD, browser_like, page_token, sign_in, submit


async def enrol(browser, a) -> str:
    """Set up alice's second factor from her signed-in browser; its secret."""
    assert (await submit(browser, a.base, "/settings/security/totp", token_from="/settings/security")).status == 303
    async with browser.get(f"{a.base}/settings/security") as response:
        page = await response.text()
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1)
    assert "otpauth://totp/" in page and f"secret={secret}" in page
    response = await submit(browser, a.base, "/settings/security/totp/confirm", token_from="/settings/security",
                            otp_attempt=code_at(secret, step_at(a.clock.now())))
    assert response.status == 200
    async with browser.get(f"{a.base}/settings/security") as response:
        assert 'id="second-factor-on"' in await response.text()
    return secret


async def confirm_page(browser, a, secret: str) -> str:
    token = await page_token(browser, f"{a.base}/settings/security")
    async with browser.post(f"{a.base}/settings/security/totp/confirm", allow_redirects=False, data={
            "csrf_token": token, "otp_attempt": code_at(secret, step_at(a.clock.now()))}) as response:
        assert response.status == 200
        return await response.text()


async def code_step(browser, a, code: str):
    return await submit(browser, a.base, "/auth/second_factor", token_from="/auth/second_factor", otp_attempt=code)


async def test_sign_in_takes_a_right_code_once_after_the_password(instances):
    # Given alice with a second factor
    a = await instances.start()
    await a.add_user("alice")
    async with browser_like() as office, browser_like() as ward, browser_like() as thief:
        await sign_in(office, a.base, "alice")
        secret = await enrol(office, a)
        enrolment_code = code_at(secret, step_at(a.clock.now()))
        # When she signs in on the ward with her password
        response = await sign_in(ward, a.base, "alice")
        # Then she is asked for a code, and is not signed in yet
        assert response.status == 303 and response.headers["Location"] == "/auth/second_factor"
        async with ward.get(f"{a.base}/home", allow_redirects=False) as response:
            assert response.status == 303 and response.headers["Location"] == "/auth/sign_in"
        # And a wrong code is refused
        assert (await code_step(ward, a, "000000" if enrolment_code != "000000" else "111111")).status == 400
        # And the code she used to enrol, replayed within its 30 seconds, is refused
        assert (await code_step(ward, a, enrolment_code)).status == 400
        # When the next code comes up and she types it
        a.clock.advance(seconds=30)
        code = code_at(secret, step_at(a.clock.now()))
        response = await code_step(ward, a, code)
        # Then she is signed in
        assert response.status == 303 and response.headers["Location"] == "/home"
        async with ward.get(f"{a.base}/home", allow_redirects=False) as response:
            assert response.status == 200
        # And someone who saw her password and that code cannot use them again
        assert (await sign_in(thief, a.base, "alice")).status == 303
        assert (await code_step(thief, a, code)).status == 400
        async with thief.get(f"{a.base}/home", allow_redirects=False) as response:
            assert response.status == 303


async def test_a_recovery_code_signs_in_once_and_a_code_turns_the_factor_off(instances):
    # Given alice who set up a second factor and kept her recovery codes
    a = await instances.start()
    await a.add_user("alice")
    async with browser_like() as office, browser_like() as ward:
        await sign_in(office, a.base, "alice")
        assert (await submit(office, a.base, "/settings/security/totp", token_from="/settings/security")).status == 303
        async with office.get(f"{a.base}/settings/security") as response:
            secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', await response.text()).group(1)
        page = await confirm_page(office, a, secret)
        codes = re.findall(r"<li><code>([A-Z2-9-]{19})</code></li>", page)
        assert len(codes) == 10
        # When she lost her phone and signs in with a recovery code
        await sign_in(ward, a.base, "alice")
        assert (await code_step(ward, a, codes[0].lower())).status == 303
        # Then it worked once, and it works no more
        await ward.get(f"{a.base}/auth/sign_in")
        async with browser_like() as again:
            await sign_in(again, a.base, "alice")
            assert (await code_step(again, a, codes[0])).status == 400
        # When she turns the factor off with a wrong code, Then it stays on
        response = await submit(office, a.base, "/settings/security/totp/disable", token_from="/settings/security",
                                otp_attempt="12345")
        assert response.status == 422
        # When she turns it off with a fresh code, Then her password alone signs her in again
        a.clock.advance(seconds=30)
        response = await submit(office, a.base, "/settings/security/totp/disable", token_from="/settings/security",
                                otp_attempt=code_at(secret, step_at(a.clock.now())))
        assert response.status == 303
        async with browser_like() as later:
            response = await sign_in(later, a.base, "alice")
            assert response.headers["Location"] == "/home"


async def test_failed_codes_count_towards_the_sign_in_lock_out(instances):
    # Given an instance that allows two failed sign-ins a minute, and alice with a second factor
    a = await instances.start(api={"login_attempts_per_minute": 2})
    await a.add_user("alice")
    async with browser_like() as office, browser_like() as guesser:
        await sign_in(office, a.base, "alice")
        secret = await enrol(office, a)
        a.clock.advance(seconds=30)
        # When someone with her password guesses codes twice
        await sign_in(guesser, a.base, "alice")
        for guess in ("123456", "654321"):
            assert (await code_step(guesser, a, guess)).status == 400
        # Then even the right code is refused for now, and so is her password
        response = await code_step(guesser, a, code_at(secret, step_at(a.clock.now())))
        assert response.status == 429 and response.headers["Retry-After"]
        async with browser_like() as other:
            assert (await sign_in(other, a.base, "alice")).status == 429


async def test_require_second_factor_sends_her_to_set_one_up_first(instances):
    # Given an instance that requires a second factor, and alice, an admin, without one
    a = await instances.start(web={"require_second_factor": True})
    await a.add_user("alice", admin=True)
    async with browser_like() as browser:
        assert (await sign_in(browser, a.base, "alice")).status == 303
        # When she opens her home, a hashtag, the admin console, or posts a form elsewhere
        for page in ("/tags/sepsis", "/admin", "/admin/peers", "/admin/peers/export"):
            async with browser.get(f"{a.base}{page}", allow_redirects=False) as response:
                assert (response.status, response.headers.get("Location")) == (303, "/settings/security"), page
        async with browser.get(f"{a.base}/home", allow_redirects=False) as response:
            home = response.status, response.headers.get("Location")
        saved = await submit(browser, a.base, "/settings/preferences", token_from="/settings/security",
                             ui_language="fr", **{"source[privacy]": "private"})
        # Then she is sent to the security settings, and nothing else happened
        assert home == (303, "/settings/security")
        assert saved.status == 303 and saved.headers["Location"] == "/settings/security"
        async with browser.get(f"{a.base}/settings/security", headers={"Accept-Language": "en"}) as response:
            assert response.status == 200 and '<html lang="en">' in await response.text()
        # When she has set one up, Then her pages open
        await enrol(browser, a)
        async with browser.get(f"{a.base}/home", allow_redirects=False) as response:
            assert response.status == 200


async def test_oauth_logins_do_not_go_round_the_second_factor(instances):
    # Given alice with a second factor, and an app
    a = await instances.start()
    await a.add_user("alice")
    async with browser_like() as office:
        await sign_in(office, a.base, "alice")
        await enrol(office, a)
        async with office.post(f"{a.base}/api/v1/apps", data={
                "client_name": "Toot", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob", "scopes": "read"}) as response:
            app = await response.json()
        # When the app sends her password alone (the password grant), Then it gets no token
        async with office.post(f"{a.base}/oauth/token", data={
                "grant_type": "password", "client_id": app["client_id"], "client_secret": app["client_secret"],
                "username": "alice", "password": PASSWORD, "scope": "read"}) as response:
            assert response.status == 400 and (await response.json())["error"] == "invalid_grant"


async def test_the_oauth_sign_in_form_asks_for_the_code_too(instances):
    # Given alice with a second factor, and an app sending her to the authorize form
    a = await instances.start()
    await a.add_user("alice")
    async with browser_like() as office:
        await sign_in(office, a.base, "alice")
        secret = await enrol(office, a)
    a.clock.advance(seconds=30)
    async with browser_like() as http:
        app = await register(http, a.base)
        # When she gives her password alone, Then no code is issued (and the guess is counted)
        status, html = await open_form(http, a.base, app)
        assert status == 200 and 'name="otp_attempt"' in html
        assert (await oauth_submit(http, a.base, html)).status == 400
        # When she adds the code from her app, Then the app gets its code
        status, html = await open_form(http, a.base, app)
        response = await oauth_submit(http, a.base, html, otp_attempt=code_at(secret, step_at(a.clock.now())))
        assert response.status == 302 and "code=" in response.headers["Location"]


async def test_an_admin_removes_a_lost_second_factor_and_it_is_audited(instances):
    # Given alice with a second factor, who lost her phone and her recovery codes
    a = await instances.start()
    await a.add_user("alice")
    async with browser_like() as office:
        await sign_in(office, a.base, "alice")
        await enrol(office, a)
    # When an admin removes it (`rounds user remove-second-factor alice`)
    async with a.db.sessions.begin() as session:
        assert await users.remove_second_factor(session, "alice", by="cli:test", at=a.clock.now(), reason="lost phone")
    # Then her password alone signs her in, and the audit log says who did it
    async with browser_like() as ward:
        assert (await sign_in(ward, a.base, "alice")).headers["Location"] == "/home"
    async with a.db.sessions() as session:
        entries = list(await session.scalars(select(AuditEntry).where(AuditEntry.action == "user.remove_second_factor")))
    assert [(e.subject, e.actor) for e in entries] == [("@alice", "cli:test")]
