"""The jinja2 templates and the one function that renders a page from them.

UI text goes through gettext (the jinja2 i18n extension, new-style: `_("Sign in")`,
`_("%(n)s posts", n=3)`); which catalogue a page uses is decided when it is rendered (the app's
SPEECH: server/web/i18n.py), and set in a context variable for that rendering only, so
concurrent requests in other languages do not mix, and a request that renders no template (an
actor's JSON, an API call) spends nothing on its language.
"""

from __future__ import annotations

import gettext
import sys
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from server.appkeys import SETTINGS, TEMPLATES, URLS
from server.profile import profile

HTML = "text/html"
TRANSLATIONS: ContextVar[gettext.NullTranslations] = ContextVar("translations", default=gettext.NullTranslations())
LANGUAGE: ContextVar[str] = ContextVar("language", default="en")  # the page's `lang`, as TRANSLATIONS speaks
PageContext = Callable[[web.Request], Awaitable[dict[str, Any]]]
PAGE_CONTEXT = web.AppKey("page_context", list)  # of PageContext: looked up before each render
PRIVATE = web.RequestKey("private_page", bool)  # the page carries a form token: it is this browser's alone
Speech = Callable[[web.Request], Awaitable[tuple[str, gettext.NullTranslations]]]
SPEECH = web.AppKey("speech", Speech)  # a request's page language and its catalogue
_SPOKEN = web.RequestKey("spoken", tuple)  # SPEECH's answer for the request, asked once (a live stream renders many)


def templates_dir() -> Path:
    """The source checkout's templates/, or the copy installed under <prefix>/share/rounds."""
    checkout = Path(__file__).resolve().parents[2] / "templates"
    return checkout if checkout.is_dir() else Path(sys.prefix) / "share" / "rounds" / "templates"


def _gettext(message: str) -> str:
    return TRANSLATIONS.get().gettext(message)


def _ngettext(singular: str, plural: str, n: int) -> str:
    return TRANSLATIONS.get().ngettext(singular, plural, n)


def template_environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir()),
        autoescape=jinja2.select_autoescape(("html",)),
        extensions=["jinja2.ext.i18n"],
    )
    environment.install_gettext_callables(_gettext, _ngettext, newstyle=True)  # type: ignore[attr-defined]
    return environment


async def render_text(request: web.Request, name: str, **context) -> str:
    """A template rendered for `request`: a page, or a piece of one (a status for a live update).

    Rendering is synchronous (jinja2's async mode costs a page of 40 statuses about twice as
    much): what a template needs from the database is looked up before, by the app's
    PAGE_CONTEXT providers (who is signed in: `me`; the unread count: `unread`), each cached on
    the request, and passed in."""
    template = request.app[TEMPLATES].get_template(name)
    settings = request.app[SETTINGS]
    for provide in request.app[PAGE_CONTEXT]:
        context.update(await provide(request))
    instance = await profile(request)
    if _SPOKEN not in request:
        request[_SPOKEN] = await request.app[SPEECH](request)
    language, translations = request[_SPOKEN]
    tokens = LANGUAGE.set(language), TRANSLATIONS.set(translations)
    try:
        return template.render(instance=instance, urls=request.app[URLS], request=request, language=language,
                               noindex=settings.web.noindex, **context)
    finally:
        TRANSLATIONS.reset(tokens[1])
        LANGUAGE.reset(tokens[0])


def html_response(request: web.Request, body: str, *, status: int = 200) -> web.Response:
    """An HTML answer rendered for `request`. Its language depends on the browser's Accept-Language
    and on who is signed in (the cookie), so caches must keep it apart by those; and it says
    which language it is in."""
    response = web.Response(text=body, status=status, content_type=HTML,
                             headers={"Vary": "Accept, Accept-Language, Cookie"})
    if _SPOKEN in request:
        response.headers["Content-Language"] = request[_SPOKEN][0]
    return response


async def render(request: web.Request, name: str, *, status: int = 200, **context) -> web.Response:
    """A page. One that carries a form token (every signed-in page does, for its sign-out form) is
    this browser's alone, so no cache may keep it."""
    response = html_response(request, await render_text(request, name, **context), status=status)
    if request.get(PRIVATE):
        response.headers["Cache-Control"] = "no-store"
    return response


def setup(app: web.Application, *providers: PageContext) -> None:
    """The app's templates, and what every render looks up first (more with `provide`)."""
    app[TEMPLATES] = template_environment()
    app[PAGE_CONTEXT] = list(providers)


def provide(app: web.Application, provider: PageContext) -> None:
    app[PAGE_CONTEXT].append(provider)
