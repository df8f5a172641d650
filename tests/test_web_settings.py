"""The signed-in browsers page: a practitioner sees her sessions and signs any of them out,
and only her own."""

from __future__ import annotations

import re

from tests.api_helpers import token_for
from tests.web_helpers import browser_like, sign_in, submit


async def test_a_practitioner_signs_out_another_of_her_browsers(instances):
    # Given alice signed in on two workstations, and bob on his
    a = await instances.start()
    await a.add_user("alice")
    await a.add_user("bob")
    async with browser_like() as ward, browser_like() as office, browser_like() as bob:
        for browser, name in ((ward, "alice"), (office, "alice"), (bob, "bob")):
            assert (await sign_in(browser, a.base, name)).status == 303
        # When she opens the page at the office, Then it lists both of her sessions, this one marked
        async with office.get(f"{a.base}/settings/sessions") as response:
            page = await response.text()
        ids = re.findall(r'id="session-(\d+)"', page)
        assert len(ids) == 2 and page.count("(this browser)") == 1
        ward_id = ids[1]  # newest first: the ward's was opened first
        # When bob tries to end it from his own session, Then nothing happens to it
        assert (await submit(bob, a.base, f"/settings/sessions/{ward_id}/end")).status == 303
        async with ward.get(f"{a.base}/home", allow_redirects=False) as response:
            assert response.status == 200
        # When she signs the ward's browser out from the office
        response = await submit(office, a.base, f"/settings/sessions/{ward_id}/end", token_from="/settings/sessions")
        assert response.status == 303 and response.headers["Location"] == "/settings/sessions"
        # Then the ward's browser is signed out, and the office's is not
        async with ward.get(f"{a.base}/home", allow_redirects=False) as response:
            assert response.status == 303 and response.headers["Location"] == "/auth/sign_in"
        async with office.get(f"{a.base}/settings/sessions") as response:
            assert len(re.findall(r'id="session-(\d+)"', await response.text())) == 1


async def test_preferences_choose_the_pages_language_and_the_default_visibility(instances):
    # Given alice signed in from an English browser
    a = await instances.start()
    token = await token_for(a, "alice")
    async with browser_like() as browser:
        await sign_in(browser, a.base, "alice")
        # When she chooses French pages and followers-only posts
        response = await submit(browser, a.base, "/settings/preferences", token_from="/settings/preferences",
                                ui_language="fr", **{"source[privacy]": "private"})
        assert response.status == 303
        # Then her pages are in French, and her composer starts at followers only
        async with browser.get(f"{a.base}/home", headers={"Accept-Language": "en"}) as response:
            page = await response.text()
        assert '<html lang="fr">' in page and "Publier" in page
        assert re.search(r'<option value="private" selected>Abonnés uniquement</option>', page)
        # And a language we do not have is refused, with nothing changed
        response = await submit(browser, a.base, "/settings/preferences", ui_language="xx",
                                **{"source[privacy]": "public"})
        assert response.status == 422
    # And the client API reads the default visibility the page set (one preference, two doors)
    async with browser_like() as http:
        async with http.get(f"{a.base}/api/v1/preferences", headers=token) as response:
            assert (await response.json())["posting:default:visibility"] == "private"
