"""UI text through gettext: the French catalogue covers every message the pages use, and a
page's language follows the practitioner's preference, else the browser's Accept-Language."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from sqlalchemy import update

from server.web.i18n import LOCALES, from_accept_language
from storage.models import Account
from tests.web_helpers import browser_like, sign_in

ROOT = Path(__file__).resolve().parents[1]


def _messages() -> set[str]:
    found = set()
    for directory, method, options in ((ROOT / "templates", "jinja2", {"extensions": "jinja2.ext.i18n"}),
                                       (ROOT / "server" / "web", "python", {})):
        pattern = "**.html" if method == "jinja2" else "**.py"
        for _file, _line, message, _comments, _context in extract_from_dir(
                directory, [(pattern, method)], {pattern: options}):
            found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_message_of_the_pages_has_a_french_translation():
    with (LOCALES / "fr" / "LC_MESSAGES" / "rounds.po").open("rb") as source:
        french = {message.id if isinstance(message.id, str) else message.id[0]: message.string
                  for message in read_po(source) if message.id}
    messages = _messages()
    assert len(messages) > 10
    missing = sorted(message for message in messages if not french.get(message))
    assert missing == [], "messages with no French translation in rounds.po"


def test_the_browsers_best_language_we_have_wins():
    available = {"en", "fr"}
    assert from_accept_language("fr-CH, fr;q=0.9, en;q=0.8", available) == "fr"
    assert from_accept_language("de, en;q=0.5, fr;q=0.7", available) == "fr"
    assert from_accept_language("en-GB,en;q=0.9,fr;q=0.8", available) == "en"
    assert from_accept_language("de, it", available) is None
    assert from_accept_language("fr;q=0, en;q=bad, *", available) is None
    assert from_accept_language("", available) is None


async def test_a_page_speaks_the_browsers_language_unless_the_practitioner_chose_one(instances):
    a = await instances.start()
    account, _ = await a.add_user("alice")
    async with browser_like() as http:
        # Given a French-speaking browser, Then the sign-in page is in French
        http.headers["Accept-Language"] = "fr-FR,fr;q=0.9,en;q=0.5"
        async with http.get(f"{a.base}/auth/sign_in") as response:
            page = await response.text()
        assert '<html lang="fr">' in page and "Mot de passe" in page and "Password" not in page
        assert response.headers["Content-Language"] == "fr" and "Accept-Language" in response.headers["Vary"]
        # And a German one, which we do not speak, gets English
        async with http.get(f"{a.base}/auth/sign_in", headers={"Accept-Language": "de"}) as response:
            assert "Password" in await response.text()
        # When alice, who prefers English, signs in from the French browser
        async with a.db.sessions.begin() as session:
            await session.execute(update(Account).where(Account.id == account.id).values(
                preferences={"web:language": "en"}))
        assert (await sign_in(http, a.base, "alice")).status == 303
        # Then her pages are in English
        async with http.get(f"{a.base}/about") as response:
            page = await response.text()
        assert '<html lang="en">' in page and "Sign out" in page


async def test_the_public_pages_speak_french_too(instances, http):
    a = await instances.start(web={"public_pages": "profiles"})
    await a.add_user("alice")
    french = {"Accept-Language": "fr"}
    async with http.get(f"{a.base}/about", headers=french) as response:
        page = await response.text()
    assert "<dt>Praticiens</dt>" in page and f"leur identifiant <code>@name@{a.urls.authority}</code>." in page
    async with http.get(f"{a.base}/@alice", headers=french) as response:
        page = await response.text()
    assert re.search(r"Membre depuis [a-zéû]+ \d{4}", page)
    async with http.get(f"{a.base}/@alice") as response:
        assert re.search(r"Member since [A-Z][a-z]+ \d{4}", await response.text())
