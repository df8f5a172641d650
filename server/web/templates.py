"""The jinja2 templates and the one function that renders a page from them."""

from __future__ import annotations

import sys
from pathlib import Path

import jinja2
from aiohttp import web

from server.appkeys import SETTINGS, TEMPLATES, URLS

HTML = "text/html"


def templates_dir() -> Path:
    """The source checkout's templates/, or the copy installed under <prefix>/share/rounds."""
    checkout = Path(__file__).resolve().parents[2] / "templates"
    return checkout if checkout.is_dir() else Path(sys.prefix) / "share" / "rounds" / "templates"


def template_environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir()),
        autoescape=jinja2.select_autoescape(("html",)),
        enable_async=True,
    )


async def render(request: web.Request, name: str, *, status: int = 200, **context) -> web.Response:
    settings = request.app[SETTINGS]
    template = request.app[TEMPLATES].get_template(name)
    body = await template.render_async(instance=settings.instance, urls=request.app[URLS], **context)
    return web.Response(text=body, status=status, content_type=HTML, headers={"Vary": "Accept"})
