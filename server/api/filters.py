"""Filters v2 (/api/v2/filters): a practitioner's filters with their keywords and listed posts,
and the v1 reading of them (/api/v1/filters: one V1::Filter a keyword), as Mastodon 4 serves it.

What a filter does to the statuses shown is server.api.filtering's; the writes are
federation.social.filters', which checks a whole request before it writes anything.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from aiohttp import web

from federation.social import filters as domain
from federation.social.filters import KEEP, FilterChange, FilterRefused, KeywordChange
from server.api.auth import ApiError
from server.api.common import add_route, api, viewer
from server.api.filtering import filter_entity, keyword_entity, status_entity, v1_filter_entity
from server.api.params import bool_param, list_param, params
from server.api.statuses import visible
from server.appkeys import CLOCK, DATABASE
from server.responses import json_response
from storage import filters as stored
from storage.filters import FilterRows
from storage.models import FilterAction, FilterKeyword, FilterStatus

_FORM_KEYWORD = re.compile(r"^keywords_attributes\[(\d*)\]\[(keyword|whole_word|id|_destroy)\]$")
NOT_FOUND = "Record not found"


@contextmanager
def refusals() -> Iterator[None]:
    """A refused write as the client API answers it (raised out of the rolled-back transaction)."""
    try:
        yield
    except FilterRefused as exc:
        raise ApiError(exc.status, str(exc)) from exc


def _id(value: Any) -> int:
    text = str(value)
    if not text.isdigit() or len(text) > 19:
        raise ApiError(404, NOT_FOUND)
    return int(text)


def _flag(value: Any) -> bool | None:
    return None if value is None or value == "" else bool_param({"v": value}, "v")


def _keyword_change(entry: dict[str, Any]) -> KeywordChange:
    keyword = entry.get("keyword")
    if keyword is not None and not isinstance(keyword, str):
        raise ApiError(422, "Validation failed: keyword must be text")
    given_id = entry.get("id")
    return KeywordChange(id=None if given_id in (None, "") else _id(given_id), keyword=keyword,
                         whole_word=_flag(entry.get("whole_word")), destroy=bool(_flag(entry.get("_destroy"))))


async def _keyword_entries(request: web.Request, values: dict[str, Any]) -> list[dict[str, Any]]:
    """`keywords_attributes`: a JSON array (or object keyed by index) of objects, or form fields
    `keywords_attributes[][keyword]`, `...[0][keyword]`, in the query or the body."""
    given = values.get("keywords_attributes", values.get("keywords_attributes[]"))
    if given is not None:
        entries = list(given.values()) if isinstance(given, dict) else given
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            raise ApiError(422, "Validation failed: keywords_attributes must be a list of keywords")
        return entries
    fields = list(request.query.items())
    if request.method in ("POST", "PUT") and request.content_type != "application/json" and request.body_exists:
        fields += list((await request.post()).items())
    indexed: dict[str, dict[str, Any]] = {}
    listed: list[dict[str, Any]] = []
    for key, value in fields:
        if (m := _FORM_KEYWORD.match(key)) is None:
            continue
        index, name = m.groups()
        if index:
            indexed.setdefault(index, {})[name] = value
        else:  # an unindexed entry ends where one of its fields comes again
            if not listed or name in listed[-1]:
                listed.append({})
            listed[-1][name] = value
    return [indexed[i] for i in sorted(indexed, key=int)] + listed


def _expires_in(values: dict[str, Any], *, creating: bool) -> object:
    if "expires_in" not in values:
        return None if creating else KEEP
    value = values["expires_in"]
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not str(value).isdigit():
        raise ApiError(422, "Validation failed: expires_in must be a number of seconds")
    return int(str(value))


async def _change(request: web.Request, *, creating: bool) -> FilterChange:
    values = await params(request)
    title = values.get("title")
    if title is not None and not isinstance(title, str):
        raise ApiError(422, "Validation failed: title must be text")
    has_context = "context" in values or "context[]" in values
    contexts = [str(c) for c in list_param(values, "context")] if has_context else None
    action = values.get("filter_action")
    if action not in (None, "") and action not in {a.value for a in FilterAction}:
        raise ApiError(422, "Validation failed: filter_action must be warn, hide or blur")
    return FilterChange(title=title, contexts=contexts, action=FilterAction(action) if action else None,
                        expires_in=_expires_in(values, creating=creating),
                        keywords=tuple(_keyword_change(e) for e in await _keyword_entries(request, values)))


async def _mine(session, actor_id: int, filter_id: str) -> FilterRows:
    rows = await stored.filters_of(session, actor_id, _id(filter_id))
    if not rows:
        raise ApiError(404, NOT_FOUND)
    return rows[0]


# --- filters ---------------------------------------------------------------------------------

@api
async def index(request: web.Request) -> web.Response:
    _, actor = await viewer(request, "read:filters")
    async with request.app[DATABASE].sessions() as session:
        rows = await stored.filters_of(session, actor.id)
    return json_response([filter_entity(r) for r in rows])


@api
async def show(request: web.Request) -> web.Response:
    _, actor = await viewer(request, "read:filters")
    async with request.app[DATABASE].sessions() as session:
        rows = await _mine(session, actor.id, request.match_info["id"])
    return json_response(filter_entity(rows))


@api
async def create(request: web.Request) -> web.Response:
    _, actor = await viewer(request, "write:filters")
    change = await _change(request, creating=True)
    with refusals():
        async with request.app[DATABASE].sessions.begin() as session:
            filter_id = await domain.create(session, actor.id, change, request.app[CLOCK].now())
            rows = (await stored.filters_of(session, actor.id, filter_id))[0]
    return json_response(filter_entity(rows))


@api
async def update(request: web.Request) -> web.Response:
    _, actor = await viewer(request, "write:filters")
    change = await _change(request, creating=False)
    with refusals():
        async with request.app[DATABASE].sessions.begin() as session:
            rows = await _mine(session, actor.id, request.match_info["id"])
            filter_id = rows.filter.id
            await domain.update(session, rows, change, request.app[CLOCK].now())
            await session.flush()
            session.expire_all()  # the keywords as the update left them
            rows = (await stored.filters_of(session, actor.id, filter_id))[0]
    return json_response(filter_entity(rows))


@api
async def remove(request: web.Request) -> web.Response:
    _, actor = await viewer(request, "write:filters")
    async with request.app[DATABASE].sessions.begin() as session:
        await session.delete((await _mine(session, actor.id, request.match_info["id"])).filter)
    return json_response({})


# --- keywords ----------------------------------------------------------------------------------

@api
async def keywords(request: web.Request) -> web.Response:
    _, actor = await viewer(request, "read:filters")
    async with request.app[DATABASE].sessions() as session:
        rows = await _mine(session, actor.id, request.match_info["id"])
    return json_response([keyword_entity(k) for k in rows.keywords])


@api
async def add_keyword(request: web.Request) -> web.Response:
    _, actor = await viewer(request, "write:filters")
    values = await params(request)
    change = _keyword_change(values)
    with refusals():
        async with request.app[DATABASE].sessions.begin() as session:
            rows = await _mine(session, actor.id, request.match_info["id"])
            row = await domain.add_keyword(session, rows, change.keyword,
                                           True if change.whole_word is None else change.whole_word)
    return json_response(keyword_entity(row))


async def _owned(find, session, actor_id: int, row_id: str):
    """The row `find(session, actor_id, id)` finds among the actor's filters; else 404."""
    row = await find(session, actor_id, _id(row_id))
    if row is None:
        raise ApiError(404, NOT_FOUND)
    return row


async def _keyword(session, actor_id: int, keyword_id: str) -> FilterKeyword:
    return await _owned(stored.keyword_of, session, actor_id, keyword_id)


@api
async def show_keyword(request: web.Request) -> web.Response:
    _, actor = await viewer(request, "read:filters")
    async with request.app[DATABASE].sessions() as session:
        row = await _keyword(session, actor.id, request.match_info["id"])
    return json_response(keyword_entity(row))


@api
async def edit_keyword(request: web.Request) -> web.Response:
    _, actor = await viewer(request, "write:filters")
    change = _keyword_change({k: v for k, v in (await params(request)).items() if k != "id"})
    with refusals():
        async with request.app[DATABASE].sessions.begin() as session:
            row = await _keyword(session, actor.id, request.match_info["id"])
            domain.edit_keyword(row, change.keyword, change.whole_word)
    return json_response(keyword_entity(row))


@api
async def remove_keyword(request: web.Request) -> web.Response:
    _, actor = await viewer(request, "write:filters")
    async with request.app[DATABASE].sessions.begin() as session:
        await session.delete(await _keyword(session, actor.id, request.match_info["id"]))
    return json_response({})


# --- listed posts ------------------------------------------------------------------------------

@api
async def statuses(request: web.Request) -> web.Response:
    _, actor = await viewer(request, "read:filters")
    async with request.app[DATABASE].sessions() as session:
        rows = await _mine(session, actor.id, request.match_info["id"])
    return json_response([status_entity(s) for s in rows.statuses])


@api
async def add_status(request: web.Request) -> web.Response:
    _, actor = await viewer(request, "write:filters")
    status_id = (await params(request)).get("status_id")
    if status_id in (None, ""):
        raise ApiError(422, "Validation failed: status_id can't be blank")
    async with request.app[DATABASE].sessions.begin() as session:
        rows = await _mine(session, actor.id, request.match_info["id"])
        post = await visible(request, session, str(status_id), actor)
        row = await domain.add_status(session, rows, post.id)
    return json_response(status_entity(row))


async def _status(session, actor_id: int, row_id: str) -> FilterStatus:
    return await _owned(stored.status_of, session, actor_id, row_id)


@api
async def show_status(request: web.Request) -> web.Response:
    _, actor = await viewer(request, "read:filters")
    async with request.app[DATABASE].sessions() as session:
        row = await _status(session, actor.id, request.match_info["id"])
    return json_response(status_entity(row))


@api
async def remove_status(request: web.Request) -> web.Response:
    _, actor = await viewer(request, "write:filters")
    async with request.app[DATABASE].sessions.begin() as session:
        row = await _status(session, actor.id, request.match_info["id"])
        entity = status_entity(row)
        await session.delete(row)
    return json_response(entity)


# --- v1: one filter a keyword, read only -------------------------------------------------------

@api
async def v1_index(request: web.Request) -> web.Response:
    _, actor = await viewer(request, "read:filters")
    async with request.app[DATABASE].sessions() as session:
        rows = await stored.filters_of(session, actor.id)
    return json_response([v1_filter_entity(r.filter, k) for r in rows for k in r.keywords])


@api
async def v1_show(request: web.Request) -> web.Response:
    _, actor = await viewer(request, "read:filters")
    async with request.app[DATABASE].sessions() as session:
        keyword = await _keyword(session, actor.id, request.match_info["id"])
        rows = await stored.filters_of(session, actor.id, keyword.filter_id)
    return json_response(v1_filter_entity(rows[0].filter, keyword))


def setup(app: web.Application) -> None:
    base = "/api/v2/filters"
    add_route(app, "GET", f"{base}/keywords/{{id}}", show_keyword)
    add_route(app, "PUT", f"{base}/keywords/{{id}}", edit_keyword)
    add_route(app, "DELETE", f"{base}/keywords/{{id}}", remove_keyword)
    add_route(app, "GET", f"{base}/statuses/{{id}}", show_status)
    add_route(app, "DELETE", f"{base}/statuses/{{id}}", remove_status)
    add_route(app, "GET", base, index)
    add_route(app, "POST", base, create)
    add_route(app, "GET", f"{base}/{{id}}", show)
    add_route(app, "PUT", f"{base}/{{id}}", update)
    add_route(app, "DELETE", f"{base}/{{id}}", remove)
    add_route(app, "GET", f"{base}/{{id}}/keywords", keywords)
    add_route(app, "POST", f"{base}/{{id}}/keywords", add_keyword)
    add_route(app, "GET", f"{base}/{{id}}/statuses", statuses)
    add_route(app, "POST", f"{base}/{{id}}/statuses", add_status)
    add_route(app, "GET", "/api/v1/filters", v1_index)
    add_route(app, "GET", "/api/v1/filters/{id}", v1_show)
