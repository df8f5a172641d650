"""Public HTML pages: the about page, actor profiles, posts and hashtags.

Which pages anyone may see is the read rule's (federation.social.access.may_read, by [web]
public_pages): a profile at `profiles` or `all`, public posts (on a profile, or alone) at `all`.
server/access.py asks it before these handlers run; a profile reached by content negotiation
at /users/{username} asks it here. Pages have no logged-in reader: whoever asks reads as anyone
would. A hashtag's page is the one both kinds share (Reads.tag_page): a signed-in practitioner
gets her timeline of the tag, anyone else (at `all`) the instance's own public posts with it.
"""

from __future__ import annotations

from urllib.parse import quote

from aiohttp import web

from federation.social.access import Reader, Reads
from federation.protocol.sanitize import plain_text
from federation.protocol.urls import INSTANCE_ACTOR_USERNAME
from server.access import allows
from server import profile as instance_profile
from server.appkeys import DATABASE, TEMPLATES, URLS
from server.web import account, actions, compose, edits, forms, i18n, live, marks, people, second_factor, security, sessions, settings, templates, timelines
from server.web import articles as article_pages
from server.web import communities, invites
from server.api.entities import render as render_entities
from server.web.admin import index as admin_console
from server.web.templates import render, templates_dir
from storage import actors as actor_queries
from storage import communities as community_queries
from storage import objects as object_queries
from storage import timelines as timeline_queries


def _plain(html: str) -> str:
    """A post's or a bio's text for a page's description: no markup, one line."""
    return " ".join(plain_text(html.replace("<", " <")).split())


def _shows(request: web.Request, reads: Reads) -> bool:
    return allows(request, reads, Reader.anonymous)


async def render_profile(request: web.Request, username: str) -> web.Response:
    if username == INSTANCE_ACTOR_USERNAME:
        raise web.HTTPFound(request.app[URLS].profile(username))
    shows = _shows(request, Reads.profile_page)
    async with request.app[DATABASE].sessions() as session:
        actor = await actor_queries.shown_local_actor(session, username) if shows else None
        # a community's profile is its page, which asks its own read rule
        group = await community_queries.local_group(session, username) if actor is None else None
        shows_posts = actor is not None and _shows(request, Reads.post_page)
        posts = await object_queries.public_posts(session, actor.id, limit=20) if shows_posts else []
    if group is not None:
        raise web.HTTPFound(communities.page_path(group.username))
    if not shows:
        return await render(request, "not_found.html", status=404, what=f"public page for @{username}")
    if actor is None:
        return await render(request, "not_found.html", status=404, what=f"@{username}")
    return await render(request, "profile.html", actor=actor, acct=f"@{actor.username}@{actor.domain}", posts=posts)


async def profile(request: web.Request) -> web.Response:
    return await render_profile(request, request.match_info["username"].lower())


async def post_page(request: web.Request) -> web.Response:
    """A public post. Followers-only and direct posts are never pages, whatever the setting."""
    username = request.match_info["username"].lower()
    post_id = request.match_info["post_id"]
    if not post_id.isdigit():
        return await render(request, "not_found.html", status=404, what="public page for this post")
    async with request.app[DATABASE].sessions() as session:
        actor = await actor_queries.shown_local_actor(session, username)
        post = await object_queries.public_post(session, actor.id, int(post_id)) if actor else None
    if post is None:
        return await render(request, "not_found.html", status=404, what="such post")
    return await render(request, "post.html", actor=actor, acct=f"@{actor.username}@{actor.domain}", post=post)


async def tag_page(request: web.Request) -> web.Response:
    if await sessions.signed_in(request) is not None:
        return await timelines.timeline_page(request, "tag")
    tag = request.match_info["tag"].lower()
    cursor = timelines.page_cursor(request)

    def page(renderer):
        items = timeline_queries.tagged(renderer.session, tag, cursor, local=True, viewer_id=None, now=renderer.now)
        return [item.id for item in items], renderer.statuses(items)

    ids, statuses = await render_entities(request, None, page)
    return await render(request, "tag.html", tag=tag, statuses=statuses,
                        pager=timelines.pager(f"/tags/{quote(tag, safe='')}", cursor, ids))


async def about(request: web.Request) -> web.Response:
    async with request.app[DATABASE].sessions() as session:
        users = await actor_queries.count_local_users(session)
        posts = await object_queries.count_local_posts(session)
    return await render(request, "about.html", users=users, posts=posts)


async def index(request: web.Request) -> web.Response:
    """`/`: a signed-in practitioner's home timeline, anyone else's about page."""
    if await sessions.signed_in(request) is not None:
        return sessions.redirect(sessions.HOME)
    return await about(request)


def setup(app: web.Application) -> None:
    templates.setup(app, sessions.page_context)
    app[TEMPLATES].globals.update(form_token=forms.form_token)
    app[TEMPLATES].filters.update(plain=_plain)
    app.router.add_get("/@{username}", profile)
    app.router.add_get("/@{username}/{post_id}", post_page)
    app.router.add_get("/about", about)
    app.router.add_get("/tags/{tag}", tag_page)
    app.router.add_static("/static", templates_dir() / "static", show_index=False)  # nothing lists files
    app.router.add_get("/", index)
    sessions.setup(app)
    timelines.setup(app)
    compose.setup(app)
    settings.setup(app)
    people.setup(app)  # profiles, follows, notifications, search
    communities.setup(app)  # the directory, a community's page, its moderators' tools
    # actions on posts: edit and delete, boost, favourite, bookmark, vote, marks, live updates
    edits.setup(app)
    actions.setup(app)
    marks.setup(app)
    live.setup(app)
    account.setup(app)  # account settings: profile, apps, export
    security.setup(app)
    instance_profile.setup(app)  # the admin console's settings, which every page shows
    admin_console.setup(app)
    invites.setup(app)  # invitation links: a newcomer's sign-up
    article_pages.setup(app)  # articles: browse, write, read, versions (issue 16)
    i18n.setup(app)  # each page's language, decided as it is rendered
    forms.setup(app)
    second_factor.setup(app)  # after the form guard: its enrolment guard redirects checked requests only
