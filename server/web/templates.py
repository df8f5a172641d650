"""The jinja2 templates and the one function that renders a page from them.

UI text goes through gettext (the jinja2 i18n extension, new-style: `_("Sign in")`,
`_("%(n)s posts", n=3)`); which catalogue a page uses is set per request (server/web/i18n.py),
in a context variable, so concurrent requests in other languages do not mix.
"""

from __future__ import annotations

import gettext
import sys
from contextvars import ContextVar
from pathlib import Path

import jinja2
from aiohttp import web

from server.appkeys import SETTINGS, TEMPLATES, URLS
from server.profile import profile

HTML = "text/html"
TRANSLATIONS: ContextVar[gettext.NullTranslations] = ContextVar("translations", default=gettext.NullTranslations())
LANGUAGE: ContextVar[str] = ContextVar("language", default="en")  # the page's `lang`, as TRANSLATIONS speaks


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
        enable_async=True,
        extensions=["jinja2.ext.i18n"],
    )
    environment.install_gettext_callables(_gettext, _ngettext, newstyle=True)  # type: ignore[attr-defined]
    return environment


async def render_text(request: web.Request, name: str, **context) -> str:
    """A template rendered for `request`: a page, or a piece of one (a status for a live update)."""
    template = request.app[TEMPLATES].get_template(name)
    settings = request.app[SETTINGS]
    return await template.render_async(instance=await profile(request), urls=request.app[URLS], request=request,
                                       language=LANGUAGE.get(), noindex=settings.web.noindex, **context)


async def render(request: web.Request, name: str, *, status: int = 200, **context) -> web.Response:
    body = await render_text(request, name, **context)
    return web.Response(text=body, status=status, content_type=HTML, headers={"Vary": "Accept"})
