"""Mastodon client API: lists, a practitioner's named subsets of the accounts she follows:
GET, POST, PUT and DELETE /api/v1/lists, the accounts of one (GET, POST, DELETE
/api/v1/lists/:id/accounts), the lists holding an account (/api/v1/accounts/:id/lists). A list's
timeline is server.api.timelines' (/api/v1/timelines/list/:id). Only accounts she follows may be
added; one she stops following leaves her lists (federation.social.feeds.remove_author)."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from server.api.accounts import account_named, paged_accounts, target_account
from server.api.auth import ApiError
from server.api.common import add_route, api, owned, page_args, viewer
from server.api.entities import render
from server.api.params import bool_param, list_param, params, text_param
from server.appkeys import CLOCK, DATABASE
from server.responses import json_response
from storage import lists as queries
from storage.follows import follow_between
from storage.ids import new_id
from storage.models import Actor, FollowState, List

REPLIES_POLICIES = ("followed", "list", "none")
TITLE_MAX = 255


def list_entity(row: List) -> dict[str, Any]:
    return {"id": str(row.id), "title": row.title, "replies_policy": row.replies_policy, "exclusive": row.exclusive}


async def owned_list(session: AsyncSession, me: Actor, raw: str) -> List:
    """Her list with the id `raw`; ApiError 404 if there is none (or it is someone else's)."""
    return await owned(lambda list_id: queries.list_of(session, me.id, list_id), raw)


def _settings(values: dict[str, Any], row: List | None) -> tuple[str, str, bool]:
    title = text_param(values, "title").strip() if "title" in values or row is None else row.title
    if not title:
        raise ApiError(422, "Validation failed: Title can't be blank")
    if len(title) > TITLE_MAX:
        raise ApiError(422, f"Validation failed: Title is longer than {TITLE_MAX} characters")
    replies = text_param(values, "replies_policy") or (row.replies_policy if row is not None else "list")
    if replies not in REPLIES_POLICIES:
        raise ApiError(422, f"Validation failed: replies_policy must be one of {', '.join(REPLIES_POLICIES)}")
    exclusive = bool_param(values, "exclusive", default=row.exclusive if row is not None else False)
    return title, replies, exclusive


@api
async def index(request: web.Request) -> web.Response:
    _, me = await viewer(request, "read:lists")
    async with request.app[DATABASE].sessions() as session:
        return json_response([list_entity(row) for row in await queries.lists_of(session, me.id)])


@api
async def show(request: web.Request) -> web.Response:
    _, me = await viewer(request, "read:lists")
    async with request.app[DATABASE].sessions() as session:
        return json_response(list_entity(await owned_list(session, me, request.match_info["id"])))


@api
async def create(request: web.Request) -> web.Response:
    _, me = await viewer(request, "write:lists")
    title, replies, exclusive = _settings(await params(request), None)
    row = List(id=new_id(), owner_id=me.id, title=title, replies_policy=replies, exclusive=exclusive,
               created_at=request.app[CLOCK].now())
    async with request.app[DATABASE].sessions.begin() as session:
        session.add(row)
    return json_response(list_entity(row))


@api
async def update(request: web.Request) -> web.Response:
    _, me = await viewer(request, "write:lists")
    values = await params(request)
    async with request.app[DATABASE].sessions.begin() as session:
        row = await owned_list(session, me, request.match_info["id"])
        row.title, row.replies_policy, row.exclusive = _settings(values, row)
        return json_response(list_entity(row))


@api
async def remove(request: web.Request) -> web.Response:
    _, me = await viewer(request, "write:lists")
    async with request.app[DATABASE].sessions.begin() as session:
        await session.delete(await owned_list(session, me, request.match_info["id"]))
    return json_response({})


@api
async def accounts(request: web.Request) -> web.Response:
    """Its members, newest first; `limit=0` gives all of them, as Mastodon allows."""
    _, me = await viewer(request, "read:lists")
    everyone = request.query.get("limit") == "0"
    cursor = None if everyone else page_args(request, default=40, maximum=80)
    async with request.app[DATABASE].sessions() as session:
        row = await owned_list(session, me, request.match_info["id"])
        members = await queries.members_page(session, row.id, cursor)
        if not everyone:
            return await paged_accounts(request, me, session, members)
        return json_response(await render(request, me, lambda renderer: renderer.accounts(
            [actor for _, actor in members]), session))


async def _named_accounts(request: web.Request, values: dict[str, Any]) -> list[Actor]:
    raw = [str(value) for value in list_param(values, "account_ids")]
    if not raw:
        raise ApiError(422, "Validation failed: account_ids is required")
    return [await account_named(request, value) for value in dict.fromkeys(raw)]


@api
async def add_accounts(request: web.Request) -> web.Response:
    _, me = await viewer(request, "write:lists")
    members = await _named_accounts(request, await params(request))
    async with request.app[DATABASE].sessions.begin() as session:
        row = await owned_list(session, me, request.match_info["id"])
        for actor in members:
            follow = await follow_between(session, me.id, actor.id)
            if follow is None or follow.state is not FollowState.accepted:
                raise ApiError(422, "Validation failed: You must be following the account to add it to a list")
        await queries.add_members(session, row.id, [actor.id for actor in members])
    return json_response({})


@api
async def remove_accounts(request: web.Request) -> web.Response:
    _, me = await viewer(request, "write:lists")
    members = await _named_accounts(request, await params(request))
    async with request.app[DATABASE].sessions.begin() as session:
        row = await owned_list(session, me, request.match_info["id"])
        await queries.remove_members(session, row.id, [actor.id for actor in members])
    return json_response({})


@api
async def of_account(request: web.Request) -> web.Response:
    """Her lists that hold the account."""
    _, me = await viewer(request, "read:lists")
    target = await target_account(request)
    async with request.app[DATABASE].sessions() as session:
        return json_response([list_entity(row) for row in await queries.lists_with(session, me.id, target.id)])


def setup(app: web.Application) -> None:
    one = r"/api/v1/lists/{id:\d+}"
    add_route(app, "GET", "/api/v1/lists", index)
    add_route(app, "POST", "/api/v1/lists", create)
    add_route(app, "GET", one, show)
    add_route(app, "PUT", one, update)
    add_route(app, "DELETE", one, remove)
    add_route(app, "GET", f"{one}/accounts", accounts)
    add_route(app, "POST", f"{one}/accounts", add_accounts)
    add_route(app, "DELETE", f"{one}/accounts", remove_accounts)
    add_route(app, "GET", r"/api/v1/accounts/{id:\d+}/lists", of_account)
