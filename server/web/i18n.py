"""UI text in English and French, through gettext catalogues (Babel's .po files under
server/web/locales), and the language of each page.

The decision to know: the .po files are the only catalogues in the repository. Each process
compiles them in memory when its first app is made (Babel reads a .po and writes the .mo into a
buffer, a few milliseconds), so no binary .mo is committed, none can be stale, and an install
needs no build step. English is the source language: its "catalogue" is the text itself.

The language of a page: the signed-in practitioner's preference (`web:language` in the
account's preferences) if it is one we have, else the best of the browser's Accept-Language,
else English. It is decided when a page is rendered (`speech`, the app's SPEECH), not for
every request: an actor's JSON or a client-API call never asks who is signed in for it.
"""

from __future__ import annotations

import functools
import gettext
import io
from datetime import datetime, timezone
from pathlib import Path

from aiohttp import web
from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from server.appkeys import TEMPLATES
from server.web.sessions import signed_in
from server.web.templates import LANGUAGE, SPEECH

LOCALES = Path(__file__).resolve().parent / "locales"
DOMAIN = "rounds"
SOURCE_LANGUAGE = "en"
PREFERENCE = "web:language"
CATALOGUES = web.AppKey("catalogues", dict)  # language -> gettext.NullTranslations


def compile_catalogue(po_file: Path) -> gettext.GNUTranslations:
    """The catalogue in `po_file`, compiled in memory."""
    with po_file.open("rb") as source:
        catalog = read_po(source)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def load_catalogues(root: Path = LOCALES) -> dict[str, gettext.NullTranslations]:
    """Each language's catalogue, compiled once per process (about 14 ms: an app made again, as
    the tests make hundreds, reuses them; a catalogue is only read)."""
    return dict(_compiled(root))


@functools.cache
def _compiled(root: Path) -> tuple[tuple[str, gettext.NullTranslations], ...]:
    catalogues: dict[str, gettext.NullTranslations] = {SOURCE_LANGUAGE: gettext.NullTranslations()}
    for po_file in sorted(root.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        catalogues[po_file.parent.parent.name] = compile_catalogue(po_file)
    return tuple(catalogues.items())


def from_accept_language(header: str, available: frozenset[str] | set[str]) -> str | None:
    """The language the browser ranks highest among `available` (primary subtags: `fr-CA` is
    `fr`), or None. A malformed entry is passed over."""
    ranked: list[tuple[float, int, str]] = []
    for position, entry in enumerate(header.split(",")):
        tag, _, params = entry.strip().partition(";")
        quality = 1.0
        name, _, value = params.strip().partition("=")
        if name.strip() == "q":
            try:
                quality = float(value)
            except ValueError:
                continue
        primary = tag.strip().split("-")[0].lower()
        if primary in available and quality > 0:
            ranked.append((-quality, position, primary))
    return min(ranked)[2] if ranked else None


def when(moment: str | datetime | None) -> str:
    """A time (a row's, or a client-API timestamp such as `2026-12-06T05:00:00.000Z`) as the
    page's language writes a date and time (UTC)."""
    if not moment:
        return ""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    return format_datetime(moment, "medium", tzinfo=timezone.utc, locale=LANGUAGE.get())


def month(moment: datetime) -> str:
    """A month and year as the page's language writes them (`December 2026`, `décembre 2026`)."""
    return format_date(moment, "MMMM y", locale=LANGUAGE.get())


async def page_language(request: web.Request) -> str:
    available = request.app[CATALOGUES].keys()
    me = await signed_in(request)
    preferred = (me.account.preferences or {}).get(PREFERENCE) if me is not None else None
    if preferred in available:
        return preferred
    return from_accept_language(request.headers.get("Accept-Language", ""), set(available)) or SOURCE_LANGUAGE


async def speech(request: web.Request) -> tuple[str, gettext.NullTranslations]:
    """The app's SPEECH (server/web/templates.py, which asks it once per request): what a page
    rendered for `request` speaks, and its catalogue."""
    language = await page_language(request)
    return language, request.app[CATALOGUES][language]


def setup(app: web.Application) -> None:
    app[CATALOGUES] = load_catalogues()
    app[SPEECH] = speech
    app[TEMPLATES].filters.update(when=when, month=month)
