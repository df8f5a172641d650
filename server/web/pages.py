"""Public HTML pages: the about page and actor profiles."""

from __future__ import annotations

import sys
from pathlib import Path

import jinja2
from aiohttp import web

from federation.urls import INSTANCE_ACTOR_USERNAME
from server.appkeys import DATABASE, SETTINGS, TEMPLATES, URLS
from storage import actors as actor_queries
from storage import objects as object_queries

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


def _shows(request: web.Request, level: str) -> bool:
    """Whether [web] public_pages lets anyone see pages of this level ("profiles" or "all")."""
    setting = request.app[SETTINGS].public_pages
    return setting == "all" or setting == level


async def render_profile(request: web.Request, username: str) -> web.Response:
    if username == INSTANCE_ACTOR_USERNAME:
        raise web.HTTPFound(request.app[URLS].profile(username))
    if not _shows(request, "profiles"):
        return await render(request, "not_found.html", status=404, what=f"public page for @{username}")
    async with request.app[DATABASE].sessions() as session:
        actor = await actor_queries.local_actor_by_username(session, username)
        posts = await object_queries.public_posts(session, actor.id, limit=20) if actor and _shows(request, "all") else []
    if actor is None:
        return await render(request, "not_found.html", status=404, what=f"@{username}")
    return await render(request, "profile.html", actor=actor, acct=f"@{actor.username}@{actor.domain}", posts=posts)


async def profile(request: web.Request) -> web.Response:
    return await render_profile(request, request.match_info["username"].lower())


async def post_page(request: web.Request) -> web.Response:
    """A public post. Followers-only and direct posts are never pages, whatever the setting."""
    username = request.match_info["username"].lower()
    post_id = request.match_info["post_id"]
    if not _shows(request, "all") or not post_id.isdigit():
        return await render(request, "not_found.html", status=404, what="public page for this post")
    async with request.app[DATABASE].sessions() as session:
        actor = await actor_queries.local_actor_by_username(session, username)
        post = await object_queries.public_post(session, actor.id, int(post_id)) if actor else None
    if post is None:
        return await render(request, "not_found.html", status=404, what="such post")
    return await render(request, "post.html", actor=actor, acct=f"@{actor.username}@{actor.domain}", post=post)


async def about(request: web.Request) -> web.Response:
    async with request.app[DATABASE].sessions() as session:
        users = await actor_queries.count_local_users(session)
        posts = await object_queries.count_local_posts(session)
    return await render(request, "about.html", users=users, posts=posts)


def setup(app: web.Application) -> None:
    app[TEMPLATES] = template_environment()
    app.router.add_get("/@{username}", profile)
    app.router.add_get("/@{username}/{post_id}", post_page)
    app.router.add_get("/about", about)
    app.router.add_static("/static", templates_dir() / "static")
    app.router.add_get("/", about)
