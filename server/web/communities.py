"""The communities' pages: the directory (/communities, with the form that creates one) and a
community's page (/communities/{username}: its header, its threads with the pinned ones first,
joining and leaving, a composer, and its moderators' tools).

The one decision: nothing here decides anything the JSON API decides. Who may know of a
community (`access.may_reach`: an institution-only one, the instance's users alone), who may
create one, the community as shown, and every moderator's action (with its checks and its audit
entry) are the functions server/api/communities.py's handlers call; joining and leaving are
the client API's follow and unfollow (a join is a follow of the Group); a post to a community
is the composer's post (`drafts.publish`), mentioning the community, after the relay's own
posting rule (`relay.may_post`) said yes.

Read access: Reads.tag_page (server/access.py), the kind a hashtag's page has: signed-in
practitioners, and anyone when [web] public_pages is `all`; a stranger never sees an
institution-only community (the read guard answers 404 by the route's `username`, and these
handlers ask `may_reach` again). Every POST is a signed-in practitioner's, with the form token.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from federation.communities import groups, moderation, relay
from federation.communities.groups import NoSuchCommunity
from federation.outbox import drafts
from federation.protocol.urls import COMMUNITY_PAGES
from federation.social.access import Reader, can_see, may_reach
from federation.social.compose import mentions_in
from federation.social.posts import visible_post
from federation.social.web_sessions import SignedIn
from server.api import communities as api
from server.api.accounts import follow_account, relationship_entity, unfollow_account
from server.api.auth import ApiError
from server.api.entities import render as render_entities
from server.api.statuses import outbox_refusals, parse_new_post
from server.appkeys import CLOCK, DATABASE, FEDERATION, SETTINGS
from server.client_address import client_address
from server.web.actions import local_path
from server.web.sessions import me, redirect, session_reader, signed_in
from server.web.templates import render
from server.web.timelines import page_cursor, pager
from storage import accounts_api as account_queries
from storage import communities as queries
from storage.models import Actor, Community, FollowState, Object
from storage.paging import Cursor

log = logging.getLogger(__name__)

MEMBERS_SHOWN = 80  # the members a moderator's tools list (the newest)
DIRECTORY = COMMUNITY_PAGES


def _reader(signed: SignedIn | None) -> Reader:
    return session_reader(signed) if signed is not None else Reader.anonymous


def page_path(name: str) -> str:
    """A community's page (where its Group's profile address, /@name, leads)."""
    return f"{DIRECTORY}/{name}"


def _finder(name: str, reader: Reader):
    """The community hosted here called `name`, if `reader` may know of it; ApiError 404 otherwise."""
    async def find(session: AsyncSession) -> tuple[Community, Actor]:
        try:
            community, group = await groups.find(session, name)
        except NoSuchCommunity:
            raise ApiError(404, "Record not found") from None
        if not may_reach(community.local_only, reader):
            raise ApiError(404, "Record not found")
        return community, group
    return find


async def _refused(request: web.Request, exc: ApiError) -> web.Response:
    log.info("%s %s from %s: refused (%d) %s", request.method, request.path, client_address(request), exc.status, exc)
    if exc.status == 404:
        return await render(request, "not_found.html", status=404, what="such community")
    return await render(request, "action_refused.html", status=exc.status, reason=str(exc))


# --- the directory -------------------------------------------------------------------------------

async def directory(request: web.Request, *, status: int = 200, error: str = "",
                    typed: dict[str, Any] | None = None) -> web.Response:
    """Every community hosted here the reader may know of, with its join state; the communities
    elsewhere she joined; the form that creates one, if she may."""
    signed = await signed_in(request)
    viewer = signed.actor if signed else None
    async with request.app[DATABASE].sessions() as session:
        listed = await api.directory_entities(request, session, viewer, _reader(signed))
        elsewhere = await queries.joined_elsewhere(session, viewer.id) if viewer else []
        related = await account_queries.relations(session, viewer.id, {int(c["id"]) for c in listed},
                                                  request.app[CLOCK].now()) if viewer else None
        remote = await render_entities(request, viewer, lambda renderer: renderer.accounts(
            [actor for actor, _ in elsewhere]), session) if elsewhere else []
    joins = {c["id"]: relationship_entity(int(c["id"]), related) for c in listed} if related else {}
    return await render(
        request, "communities.html", status=status, communities=listed, joins=joins, error=error,
        elsewhere=[(account, state is FollowState.pending) for account, (_, state) in zip(remote, elsewhere)],
        may_create=signed is not None and api.may_create(request, signed.account), typed=typed or {})


async def directory_page(request: web.Request) -> web.Response:
    return await directory(request)


async def create(request: web.Request) -> web.Response:
    """The create form: the API's parameters (`rules` one a line), the API's call, then the new
    community's page; refused, the directory again with the reason and what was typed."""
    signed = await me(request)
    form = await request.post()
    values: dict[str, Any] = {name: str(form.get(name, "")) for name in (
        "name", "title", "summary", "join_policy", "posting", "institution_only")}
    values["rules"] = [line for line in str(form.get("rules", "")).splitlines() if line.strip()]
    try:
        entity = await api.create_community(request, signed.account, signed.actor, values, via="web")
    except ApiError as exc:
        log.info("POST %s from %s: refused (%d) %s", request.path, client_address(request), exc.status, exc)
        return await directory(request, status=exc.status, error=str(exc),
                               typed=values | {"rules": str(form.get("rules", ""))})
    return redirect(page_path(entity["name"]))


# --- a community's page ----------------------------------------------------------------------------

async def community(request: web.Request, *, status: int = 200, compose_error: str = "",
                    typed: dict[str, Any] | None = None) -> web.Response:
    """A community: its header, its pinned threads, a page of its other threads, the viewer's
    membership and composer, and for its moderators the pending joins and the members."""
    signed = await signed_in(request)
    viewer = signed.actor if signed else None
    name = request.match_info["username"].lower()
    cursor = page_cursor(request)
    async with request.app[DATABASE].sessions() as session:
        try:
            found, group = await _finder(name, _reader(signed))(session)
        except ApiError as exc:
            return await _refused(request, exc)
        entity = await api.community_entity(request, session, viewer, found, group)
        pinned = await _pinned(session, group, viewer) if _first_page(cursor) else []
        rows = await queries.threads(session, group.id, cursor, leave_out=[post.id for post in pinned])
        threads = [post for _, post in rows if await can_see(session, post, viewer)]
        membership = None
        if viewer is not None:
            related = await account_queries.relations(session, viewer.id, {group.id}, request.app[CLOCK].now())
            membership = relationship_entity(group.id, related) | {
                "banned": await queries.is_banned(session, group.id, viewer.id),
                "may_post": await relay.may_post(session, found, group, viewer)}
        tools = viewer is not None and await moderation.may_moderate(session, group, viewer)
        applicants = [actor for _, actor in await queries.join_requests(session, group.id)] if tools else []
        members = [actor for _, actor in await account_queries.follow_page(
            session, group.id, Cursor(limit=MEMBERS_SHOWN), followers=True,
            institution_only=True)] if tools else []  # its moderators: the instance's users
        pinned_entities, thread_entities, applicant_entities, member_entities = await render_entities(
            request, viewer, lambda renderer: (renderer.statuses(pinned), renderer.statuses(threads),
                                               renderer.accounts(applicants), renderer.accounts(members)), session)
    return await render(
        request, "community.html", status=status, community=entity, membership=membership, tools=tools,
        pinned=pinned_entities, threads=thread_entities, applicants=applicant_entities, members=member_entities,
        moderator_ids={m["id"] for m in entity["moderators"]}, compose_error=compose_error, typed=typed or {},
        pager=pager(page_path(name), cursor, [announce_id for announce_id, _ in rows]),
        max_characters=request.app[SETTINGS].api.status_max_characters, idempotency_key=secrets.token_urlsafe(16))


def _first_page(cursor: Cursor) -> bool:
    return cursor.max_id is None and cursor.min_id is None and cursor.since_id is None


async def _pinned(session: AsyncSession, group: Actor, viewer: Actor | None) -> list[Object]:
    """The community's pinned threads the viewer may see and that are still in the community,
    newest pin first."""
    shown = []
    for post_id in await queries.pinned_ids(session, group.id):
        post = await visible_post(session, str(post_id), viewer)
        if post is not None and group.id in [g.id for g in await queries.groups_announcing(session, post.id)]:
            shown.append(post)
    return shown


async def community_page(request: web.Request) -> web.Response:
    return await community(request)


async def _signed_find(request: web.Request) -> tuple[SignedIn, str, Community, Actor]:
    signed = await me(request)
    name = request.match_info["username"].lower()
    async with request.app[DATABASE].sessions() as session:
        found, group = await _finder(name, _reader(signed))(session)
    return signed, name, found, group


def _membership(act):
    """Join or leave: the client API's follow or unfollow of the Group, then back where the
    form came from (`return_to`: the directory, or the community's page)."""
    async def handler(request: web.Request) -> web.Response:
        back = local_path((await request.post()).get("return_to"), page_path(request.match_info["username"].lower()))
        try:
            signed, _, _, group = await _signed_find(request)
            await act(request.app[FEDERATION], signed.actor, group)
        except ApiError as exc:
            return await _refused(request, exc)
        return redirect(back)
    handler.__name__ = act.__name__
    return handler


async def post(request: web.Request) -> web.Response:
    """A post to the community: the composer's parameters, the text mentioning the community
    (prepended unless it does already), public, institution-only if the community is; posted
    only if the relay's posting rule lets her (a member, or a moderator where only they post)."""
    form = await request.post()
    typed = {name: str(form.get(name, "")) for name in ("status", "spoiler_text", "idempotency_key")}
    try:
        signed, name, found, group = await _signed_find(request)
    except ApiError as exc:
        return await _refused(request, exc)
    async with request.app[DATABASE].sessions() as session:
        allowed = await relay.may_post(session, found, group, signed.actor)
    if not allowed:
        log.info("POST %s from %s: %s may not post to %s", request.path, client_address(request),
                 signed.actor.username, name)
        return await community(request, status=403, compose_error="not_allowed", typed=typed)
    text = typed["status"]
    if not text.strip():
        return await community(request, status=422, compose_error="empty", typed=typed)
    if (group.username, None) not in mentions_in(text):
        text = f"@{group.username} {text}"
    values = {"status": text, "spoiler_text": typed["spoiler_text"], "visibility": "public",
              "local_only": "true" if found.local_only else ""}
    try:
        draft = parse_new_post(request, values, signed.account.preferences or {})
        with outbox_refusals():
            await drafts.publish(request.app[FEDERATION], signed.actor, draft,
                                 idempotency_key=typed["idempotency_key"][:255])
    except ApiError as exc:
        log.info("POST %s from %s: refused (%d) %s", request.path, client_address(request), exc.status, exc)
        return await community(request, status=exc.status, compose_error=str(exc), typed=typed)
    return redirect(page_path(name))


# --- the moderators' tools -------------------------------------------------------------------------

def _tool(make_act, anchor: str):
    """A moderator's form: the API's Act (`make_act(request, form)`) through `api.moderate`,
    with its checks and audit entry, then a 303 back to the community's page."""
    async def handler(request: web.Request) -> web.Response:
        signed = await me(request)
        name = request.match_info["username"].lower()
        form = await request.post()
        try:
            await api.moderate(request.app[FEDERATION], signed.actor, _finder(name, _reader(signed)),
                               make_act(request, form))
        except ApiError as exc:
            return await _refused(request, exc)
        log.info("%s: %s %s", name, signed.actor.username, request.path.rsplit("/", 1)[-1])
        return redirect(f"{page_path(name)}#{anchor}")
    return handler


def _add_moderator(request: web.Request, form) -> api.Act:
    """The form names a user of this instance by username (the API takes an account id)."""
    async def act(fed, session: AsyncSession, group: Actor, moderator: Actor) -> None:
        user = await groups.local_user(session, str(form.get("username", "")))
        await api.add_local_moderator(fed, session, group, user, moderator, via="web")
    return act


def setup(app: web.Application) -> None:
    one = DIRECTORY + "/{username}"
    account = r"/{account_id:\d+}"
    status = r"/{status_id:\d+}"
    app.router.add_get(DIRECTORY, directory_page)
    app.router.add_post(DIRECTORY, create)
    app.router.add_get(one, community_page)
    app.router.add_post(f"{one}/join", _membership(follow_account))
    app.router.add_post(f"{one}/leave", _membership(unfollow_account))
    app.router.add_post(f"{one}/posts", post)
    for answer, accept in (("authorize", True), ("reject", False)):
        app.router.add_post(f"{one}/join_requests{account}/{answer}", _tool(
            lambda request, form, accept=accept: api.answer_join(request.match_info["account_id"], accept=accept),
            "join-requests"))
    for action, ban in (("remove", False), ("ban", True)):
        app.router.add_post(f"{one}/members{account}/{action}", _tool(
            lambda request, form, ban=ban: api.remove_member(request.match_info["account_id"], ban=ban), "members"))
    app.router.add_post(f"{one}/moderators", _tool(_add_moderator, "moderators"))
    app.router.add_post(f"{one}/moderators{account}/remove", _tool(
        lambda request, form: api.remove_moderator_act(request.match_info["account_id"], via="web"), "moderators"))
    for action, pinned in (("pin", True), ("unpin", False)):
        app.router.add_post(f"{one}/threads{status}/{action}", _tool(
            lambda request, form, pinned=pinned: api.pin_status(request.match_info["status_id"], pinned=pinned),
            "threads"))
    app.router.add_post(f"{one}/threads{status}/remove", _tool(
        lambda request, form: api.remove_status_act(request.match_info["status_id"]), "threads"))
