"""Mastodon client API: accounts (:id, lookup, :id/statuses, :id/followers, :id/following),
relationships, familiar followers, and follow, block and mute with their undoing, plus follow requests.

Follows and answers to follow requests go through `federation.outbox.relations`, which writes the rows and
queues the activities in the handler's transaction. What the web pages do too (an account by its
id, its statuses a reader may see, a relationship, follow and unfollow, answering a request) is
in functions of its own here (`target_account`, `visible_statuses`, `relationship`,
`follow_account`, `unfollow_account`, `answer_request`), which the handlers and the pages call.
Reading `:id` routes accept only digits, so `/accounts/search` and friends never match
`/accounts/{id}`. Legacy `follow` scope tokens may do
what `read:follows`/`write:follows`/`write:blocks`/`write:mutes` allow, as Mastodon lets them.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from federation.outbox import relations
from federation.outbox.actions import OutboxError
from federation.runtime.context import Federation
from federation.social.access import can_see, may_reach
from server.access import request_reader
from server.api.auth import ApiError
from server.api.common import add_route, api, optional_viewer, page_args, paged, viewer
from server.api.entities import iso, render
from server.api.filtering import shown
from server.api.params import bool_param, list_param, params, text_param
from server.appkeys import CLOCK, DATABASE, FEDERATION, URLS
from server.responses import json_response
from storage.ids import parse_id
from storage import accounts_api as q
from storage import actors as actor_queries
from storage.communities import is_local_only_actor
from storage.models import Actor, ActorType, Announce, FollowState, Object
from storage.paging import Cursor



async def target_account(request: web.Request) -> Actor:
    """The live account the route's `{id}` names; ApiError 404 if none."""
    return await account_named(request, request.match_info["id"])


async def account_named(request: web.Request, raw: str) -> Actor:
    """The live account with the id `raw` (digits, as a client sends it); ApiError 404 if none,
    or if the caller may not reach it (`_reachable`)."""
    actor_id = parse_id(raw)
    async with request.app[DATABASE].sessions() as session:
        actor = await actor_queries.actor_by_id(session, actor_id) if actor_id is not None else None
    if actor is None or actor.deleted_at is not None:
        raise ApiError(404, "Record not found")
    return await _reachable(request, actor)


def relationship_entity(actor_id: int, rel: q.Relations) -> dict[str, Any]:
    following, requested = actor_id in rel.following, actor_id in rel.requested
    return {
        "id": str(actor_id), "following": following, "showing_reblogs": following or requested,
        "notifying": False, "languages": None, "followed_by": actor_id in rel.followed_by,
        "blocking": actor_id in rel.blocking, "blocked_by": actor_id in rel.blocked_by,
        "muting": actor_id in rel.muting, "muting_notifications": actor_id in rel.muting_notifications,
        "requested": requested, "requested_by": actor_id in rel.requested_by,
        "domain_blocking": False, "endorsed": False, "note": rel.notes.get(actor_id, ""),
    }


async def relationship(request: web.Request, me: Actor, target_id: int) -> dict[str, Any]:
    """The Relationship entity between `me` and the actor `target_id`."""
    async with request.app[DATABASE].sessions() as session:
        rel = await q.relations(session, me.id, {target_id}, request.app[CLOCK].now())
    return relationship_entity(target_id, rel)


async def _relationship(request: web.Request, me: Actor, target_id: int) -> web.Response:
    return json_response(await relationship(request, me, target_id))


# --- other accounts ------------------------------------------------------------------------------

async def _render_accounts(request: web.Request, me: Actor | None, actors: list[Actor]) -> list[dict[str, Any]]:
    async with request.app[DATABASE].sessions() as session:
        return await render(request, me, lambda renderer: renderer.accounts(actors), session)


async def _reachable(request: web.Request, actor: Actor) -> Actor:
    """The account, unless it is an institution-only community and the caller no user of ours
    (access.may_reach): then 404, as if it did not exist. Every account route comes through here
    (`target_account`, and `lookup`)."""
    if actor.local and actor.type is ActorType.Group:
        async with request.app[DATABASE].sessions() as session:
            local_only = await is_local_only_actor(session, actor.id)
        if not may_reach(local_only, await request_reader(request)):
            raise ApiError(404, "Record not found")
    return actor


@api
async def show(request: web.Request) -> web.Response:
    me = await optional_viewer(request, "read:accounts")
    return json_response((await _render_accounts(request, me, [await target_account(request)]))[0])


@api
async def lookup(request: web.Request) -> web.Response:
    me = await optional_viewer(request, "read:accounts")
    acct = text_param(dict(request.query), "acct", required=True).strip().removeprefix("acct:").lstrip("@")
    username, _, domain = acct.partition("@")
    async with request.app[DATABASE].sessions() as session:
        actor = await q.actor_by_acct(session, username, domain or None, request.app[URLS].authority)
    if actor is None:
        raise ApiError(404, "Record not found")
    return json_response((await _render_accounts(request, me, [await _reachable(request, actor)]))[0])


@api
async def statuses(request: web.Request) -> web.Response:
    me = await optional_viewer(request, "read:statuses")
    author = await target_account(request)
    cursor = page_args(request, default=20, maximum=40)
    only = q.StatusFilter(
        only_media=bool_param(request.query, "only_media"),
        exclude_replies=bool_param(request.query, "exclude_replies"),
        exclude_reblogs=bool_param(request.query, "exclude_reblogs"), pinned=bool_param(request.query, "pinned"),
        tagged=request.query.get("tagged") or None,
    )
    async with request.app[DATABASE].sessions() as session:
        items = await visible_statuses(session, author, me, cursor, only)
        entities = await render(request, me, lambda renderer: shown(renderer.statuses(items), "account"), session)
    return paged(request, entities, [i.id for i in items])


async def visible_statuses(session: AsyncSession, author: Actor, me: Actor | None, cursor: Cursor,
                           only: q.StatusFilter = q.StatusFilter()) -> list[Object | Announce]:
    """A page of the author's posts and boosts that `me` may see (none if the author blocks `me`)."""
    if me is not None and await q.block_between(session, author.id, me.id) is not None:
        return []
    items = await q.account_statuses(session, author.id, me.id if me else None, cursor, only)
    return [i for i in items if not isinstance(i, Object) or i.visibility in q.OPEN or await can_see(session, i, me)]


async def paged_accounts(request: web.Request, me: Actor | None, session: AsyncSession,
                         rows: list[tuple[int, Actor]]) -> web.Response:
    """A page of accounts, (the id it is paged by, the account) each: their entities, and the
    Link header of those ids."""
    entities = await render(request, me, lambda renderer: renderer.accounts([actor for _, actor in rows]), session)
    return paged(request, entities, [row_id for row_id, _ in rows])


async def _follow_list(request: web.Request, *, followers: bool) -> web.Response:
    me = await optional_viewer(request, "read:accounts")
    target = await target_account(request)
    cursor = page_args(request, default=40, maximum=80)
    users = may_reach(True, await request_reader(request))  # institution-only communities: for them alone
    async with request.app[DATABASE].sessions() as session:
        rows = await q.follow_page(session, target.id, cursor, followers=followers, institution_only=users)
        return await paged_accounts(request, me, session, rows)


@api
async def followers(request: web.Request) -> web.Response:
    return await _follow_list(request, followers=True)


@api
async def following(request: web.Request) -> web.Response:
    return await _follow_list(request, followers=False)


@api
async def relationships(request: web.Request) -> web.Response:
    _caller, me = await viewer(request, "read:follows", "follow")
    wanted = [i for i in map(parse_id, request.query.getall("id[]", []) + request.query.getall("id", []))
              if i is not None]
    async with request.app[DATABASE].sessions() as session:
        found = {a.id for a in await q.actors_by_ids(session, set(wanted))}
        rel = await q.relations(session, me.id, found, request.app[CLOCK].now())
    return json_response([relationship_entity(i, rel) for i in dict.fromkeys(wanted) if i in found])


FAMILIAR_MAX_IDS, FAMILIAR_MAX_ACCOUNTS = 40, 40


@api
async def familiar_followers(request: web.Request) -> web.Response:
    """For each account asked (`id[]`), its followers whom the caller follows."""
    _caller, me = await viewer(request, "read:follows", "follow")
    wanted = list(dict.fromkeys(i for i in map(parse_id, list_param(await params(request), "id"))
                                if i is not None))[:FAMILIAR_MAX_IDS]
    async with request.app[DATABASE].sessions() as session:
        found = {a.id for a in await q.actors_by_ids(session, set(wanted))}
        familiar = await q.familiar_followers(session, me.id, found, FAMILIAR_MAX_ACCOUNTS)
    return json_response(await render(request, me, lambda renderer: [
        {"id": str(i), "accounts": renderer.accounts(familiar[i])} for i in wanted if i in found]))


# --- follow, block, mute -------------------------------------------------------------------------

async def _act(fed: Federation, me: Actor, target: Actor, action, *, refuse_self: bool = False) -> None:
    """Follow, unfollow, block or unblock through `federation.outbox.relations`, in one transaction;
    ApiError 403 for what is not allowed (oneself, or a follow across a block: relations.follow)."""
    if refuse_self and target.id == me.id:
        raise ApiError(403, "This action is not allowed")
    try:
        async with fed.transaction() as session:
            await action(fed, session, await actor_queries.actor_by_id(session, me.id),
                         await actor_queries.actor_by_id(session, target.id))
    except OutboxError as exc:
        raise ApiError(403, "This action is not allowed") from exc


async def follow_account(fed: Federation, me: Actor, target: Actor) -> None:
    """Follow `target` (a request until a locked or remote account accepts); not oneself, nor
    across a block."""
    await _act(fed, me, target, relations.follow, refuse_self=True)


async def unfollow_account(fed: Federation, me: Actor, target: Actor) -> None:
    """Stop following `target`, or withdraw a request still pending."""
    await _act(fed, me, target, relations.unfollow)


async def _via_outbox(request: web.Request, scope: str, act) -> web.Response:
    """`act(fed, me, target)` for the token's user and the route's account; answer the Relationship."""
    _caller, me = await viewer(request, scope, "follow")
    target = await target_account(request)
    await act(request.app[FEDERATION], me, target)
    return await _relationship(request, me, target.id)


NOTE_MAX = 2000  # characters of a note about an account, as on Mastodon


@api
async def note(request: web.Request) -> web.Response:
    """Her private note about the account (`comment`; empty to remove it): the Relationship."""
    _caller, me = await viewer(request, "write:accounts")
    target = await target_account(request)
    comment = text_param(await params(request), "comment").strip()
    if len(comment) > NOTE_MAX:
        raise ApiError(422, f"Validation failed: Comment is too long (maximum is {NOTE_MAX} characters)")
    async with request.app[DATABASE].sessions.begin() as session:
        await q.set_note(session, me.id, target.id, comment)
    return await _relationship(request, me, target.id)


@api
async def remove_from_followers(request: web.Request) -> web.Response:
    """The account no longer follows the caller (its follow rejected, as Mastodon does)."""
    return await _via_outbox(request, "write:follows",
                             lambda fed, me, target: _act(fed, me, target, relations.remove_follower))


@api
async def follow(request: web.Request) -> web.Response:
    return await _via_outbox(request, "write:follows", follow_account)


@api
async def unfollow(request: web.Request) -> web.Response:
    return await _via_outbox(request, "write:follows", unfollow_account)


@api
async def block(request: web.Request) -> web.Response:
    """Block, and end the follows both ways (an Undo to them, a Reject of theirs)."""
    return await _via_outbox(request, "write:blocks",
                             lambda fed, me, target: _act(fed, me, target, relations.block, refuse_self=True))


@api
async def unblock(request: web.Request) -> web.Response:
    return await _via_outbox(request, "write:blocks", lambda fed, me, target: _act(fed, me, target, relations.unblock))


@api
async def mute(request: web.Request) -> web.Response:
    _caller, me = await viewer(request, "write:mutes", "follow")
    target = await target_account(request)
    values = await params(request)
    duration = values.get("duration") or 0
    if not str(duration).isdigit() or len(str(duration)) > 9:
        raise ApiError(422, "Validation failed: duration must be a number of seconds (0 for no end)")
    if target.id == me.id:
        raise ApiError(403, "This action is not allowed")
    now = request.app[CLOCK].now()
    expires = now + timedelta(seconds=int(duration)) if int(duration) else None
    async with request.app[FEDERATION].transaction() as session:
        row = await q.mute_between(session, me.id, target.id)
        if row is None:
            row = q.add_mute(session, me.id, target.id, now)
        row.notifications = bool_param(values, "notifications", default=True)
        row.expires_at = expires
    return await _relationship(request, me, target.id)


@api
async def unmute(request: web.Request) -> web.Response:
    _caller, me = await viewer(request, "write:mutes", "follow")
    target = await target_account(request)
    async with request.app[FEDERATION].transaction() as session:
        await q.unmute(session, me.id, target.id)
    return await _relationship(request, me, target.id)


# --- follow requests -----------------------------------------------------------------------------

@api
async def follow_requests(request: web.Request) -> web.Response:
    _caller, me = await viewer(request, "read:follows", "follow")
    cursor = page_args(request, default=40, maximum=80)
    async with request.app[DATABASE].sessions() as session:
        rows = await q.follow_page(session, me.id, cursor, followers=True, state=FollowState.pending,
                                   institution_only=True)  # her own requests
        return await paged_accounts(request, me, session, rows)


@api
async def blocks(request: web.Request) -> web.Response:
    """The accounts the caller blocks, newest block first."""
    _caller, me = await viewer(request, "read:blocks", "follow")
    cursor = page_args(request, default=40, maximum=80)
    async with request.app[DATABASE].sessions() as session:
        rows = await q.blocks_page(session, me.id, cursor)
        return await paged_accounts(request, me, session, rows)


@api
async def mutes(request: web.Request) -> web.Response:
    """The accounts the caller mutes (mutes that have not ended), newest first, each with
    `mute_expires_at` as Mastodon gives it."""
    _caller, me = await viewer(request, "read:mutes", "follow")
    cursor = page_args(request, default=40, maximum=80)
    async with request.app[DATABASE].sessions() as session:
        rows = await q.mutes_page(session, me.id, cursor, request.app[CLOCK].now())
        entities = await render(request, me, lambda renderer: renderer.accounts([actor for _, actor, _ in rows]), session)
    for entity, (_, _, expires_at) in zip(entities, rows):
        entity["mute_expires_at"] = iso(expires_at)
    return paged(request, entities, [mute_id for mute_id, _, _ in rows])


async def answer_request(fed: Federation, me: Actor, requester: Actor, *, accept: bool) -> None:
    """Accept or reject `requester`'s pending request to follow `me`; ApiError 404 if there is none."""
    async with fed.transaction() as session:
        if (row := await q.pending_follow(session, requester.id, me.id)) is not None:
            await relations.answer_follow(fed, session, row, accept=accept)
    if row is None:
        raise ApiError(404, "Record not found")


async def _answer(request: web.Request, *, accept: bool) -> web.Response:
    _caller, me = await viewer(request, "write:follows", "follow")
    target = await target_account(request)
    await answer_request(request.app[FEDERATION], me, target, accept=accept)
    return await _relationship(request, me, target.id)


@api
async def authorize(request: web.Request) -> web.Response:
    return await _answer(request, accept=True)


@api
async def reject(request: web.Request) -> web.Response:
    return await _answer(request, accept=False)


def setup(app: web.Application) -> None:
    """Register this module's routes."""
    base = "/api/v1/accounts"
    add_route(app, "GET", f"{base}/lookup", lookup)
    add_route(app, "GET", f"{base}/relationships", relationships)
    add_route(app, "GET", f"{base}/familiar_followers", familiar_followers)
    one = base + r"/{id:\d+}"
    add_route(app, "GET", one, show)
    for name, handler in (("statuses", statuses), ("followers", followers), ("following", following)):
        add_route(app, "GET", f"{one}/{name}", handler)
    for name, handler in (("follow", follow), ("unfollow", unfollow), ("block", block), ("unblock", unblock),
                          ("mute", mute), ("unmute", unmute), ("remove_from_followers", remove_from_followers),
                          ("note", note)):
        add_route(app, "POST", f"{one}/{name}", handler)
    add_route(app, "GET", "/api/v1/follow_requests", follow_requests)
    add_route(app, "GET", "/api/v1/blocks", blocks)
    add_route(app, "GET", "/api/v1/mutes", mutes)
    add_route(app, "POST", r"/api/v1/follow_requests/{id:\d+}/authorize", authorize)
    add_route(app, "POST", r"/api/v1/follow_requests/{id:\d+}/reject", reject)
