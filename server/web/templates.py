"""The jinja2 templates and the one function that renders a page from them.

UI text goes through gettext (the jinja2 i18n extension, new-style: `_("Sign in")`,
`_("%(n)s posts", n=3)`); which catalogue a page uses is set per request (server/web/i18n.py),
in a context variable, so concurrent requests in other languages do not mix.
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
from server.profile import profile

HTML = "text/html"
TRANSLATIONS: ContextVar[gettext.NullTranslations] = ContextVar("translations", default=gettext.NullTranslations())
LANGUAGE: ContextVar[str] = ContextVar("language", default="en")  # the page's `lang`, as TRANSLATIONS speaks
PageContext = Callable[[web.Request], Awaitable[dict[str, Any]]]
PAGE_CONTEXT = web.AppKey("page_context", list)  # of PageContext: looked up before each render
PRIVATE = web.RequestKey("private_page", bool)  # the page carries a form token: it is this browser's alone


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
    return template.render(instance=await profile(request), urls=request.app[URLS], request=request,
                           language=LANGUAGE.get(), noindex=settings.web.noindex, **context)


async def render(request: web.Request, name: str, *, status: int = 200, **context) -> web.Response:
    """A page. One that carries a form token (every signed-in page does, for its sign-out form) is
    this browser's alone, so no cache may keep it."""
    body = await render_text(request, name, **context)
    response = web.Response(text=body, status=status, content_type=HTML, headers={"Vary": "Accept"})
    if request.get(PRIVATE):
        response.headers["Cache-Control"] = "no-store"
    return response


def setup(app: web.Application, *providers: PageContext) -> None:
    """The app's templates, and what every render looks up first (more with `provide`)."""
    app[TEMPLATES] = template_environment()
    app[PAGE_CONTEXT] = list(providers)


def provide(app: web.Application, provider: PageContext) -> None:
    app[PAGE_CONTEXT].append(provider)
