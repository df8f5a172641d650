"""Mastodon client API: hashtags. A tag (GET /api/v1/tags/:name, follow, unfollow, feature,
unfeature), the tags one follows (/api/v1/followed_tags), and featured tags
(/api/v1/featured_tags, its suggestions, and /api/v1/accounts/:id/featured_tags).

The rules (valid names, the featured limit, what leaves the home on an unfollow) are
`federation.social.tags`'; these handlers parse, make one call and render. Rounds keeps no table
of hashtags, only each post's, so a Tag's `id` is derived from its name (the same name, the same
id, on every call) and any valid name is a tag, used or not, as on Mastodon.
"""

from __future__ import annotations

import hashlib
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from federation.social import tags as domain
from server.api.accounts import target_account
from server.api.auth import ApiError
from server.api.common import add_route, api, optional_viewer, page_args, paged, viewer
from server.api.params import params, text_param
from server.appkeys import CLOCK, DATABASE, FEDERATION, URLS
from server.responses import json_response
from storage import tags as queries
from storage.models import Actor, FeaturedTag

SUGGESTIONS = 10


def tag_id(name: str) -> str:
    """A tag's id: a number derived from its name, stable across calls and instances' restarts."""
    return str(int.from_bytes(hashlib.sha256(name.encode()).digest()[:7], "big"))


async def tag_entities(request: web.Request, session: AsyncSession, names: list[str],
                       me: Actor | None, *, users: bool | None = None) -> list[dict[str, Any]]:
    """The Tag entity of each name, with its daily history, and `following`/`featuring` for `me`.
    Institution-only uses count in the history for the instance's `users` alone (by default,
    a `me`: one of them)."""
    base = request.app[URLS].base
    history = await domain.history(session, names, request.app[CLOCK].now(),
                                   users=me is not None if users is None else users)
    following = await queries.followed(session, me.id, names) if me else set()
    featuring = {row.name for row in await queries.featured_of(session, me.id)} if me else set()
    entities = []
    for name in names:
        entity: dict[str, Any] = {
            "id": tag_id(name), "name": name, "url": f"{base}/tags/{name}",
            "history": [{"day": str(int(day.start.timestamp())), "uses": str(day.uses),
                         "accounts": str(day.accounts)} for day in history[name]],
        }
        if me is not None:
            entity.update(following=name in following, featuring=name in featuring)
        entities.append(entity)
    return entities


async def _tag_response(request: web.Request, name: str, me: Actor | None) -> web.Response:
    async with request.app[DATABASE].sessions() as session:
        return json_response((await tag_entities(request, session, [name], me))[0])


@api
async def show(request: web.Request) -> web.Response:
    me = await optional_viewer(request, "read:statuses")
    try:
        name = domain.valid_name(request.match_info["hashtag"])
    except domain.TagError:
        raise ApiError(404, "Record not found") from None
    return await _tag_response(request, name, me)


def _tag_action(scopes: tuple[str, ...], act):
    """POST /api/v1/tags/:name/<act>: `act(session, me, name)` in one transaction, then the Tag."""
    @api
    async def handler(request: web.Request) -> web.Response:
        _, me = await viewer(request, *scopes)
        try:
            async with request.app[FEDERATION].transaction() as session:
                name = await act(session, me, request.match_info["hashtag"])
        except domain.TagError as exc:
            raise ApiError(422, str(exc)) from None
        return await _tag_response(request, name, me)
    return handler


async def _feature(session: AsyncSession, me: Actor, raw: str) -> str:
    return (await domain.feature(session, me, raw)).name


async def _unfeature(session: AsyncSession, me: Actor, raw: str) -> str:
    await domain.unfeature(session, me, raw=raw)
    return domain.valid_name(raw)


@api
async def followed_tags(request: web.Request) -> web.Response:
    _, me = await viewer(request, "read:follows", "follow")
    cursor = page_args(request, default=100, maximum=200)
    async with request.app[DATABASE].sessions() as session:
        rows = await queries.followed_page(session, me.id, cursor)
        entities = await tag_entities(request, session, [row.name for row in rows], me)
    return paged(request, entities, [row.id for row in rows])


# --- featured tags ---------------------------------------------------------------------------------

def featured_entity(row: FeaturedTag, use: queries.FeaturedUse | None, base: str) -> dict[str, Any]:
    return {
        "id": str(row.id), "name": row.name, "url": f"{base}/tags/{row.name}",
        "statuses_count": str(use.statuses if use else 0),  # a string, as Mastodon sends it
        "last_status_at": use.last.date().isoformat() if use and use.last else None,
    }


async def featured_entities(request: web.Request, actor_id: int) -> list[dict[str, Any]]:
    async with request.app[DATABASE].sessions() as session:
        rows = await queries.featured_of(session, actor_id)
        uses = await queries.featured_uses(session, actor_id, [row.name for row in rows])
    return [featured_entity(row, uses.get(row.name), request.app[URLS].base) for row in rows]


@api
async def featured_tags(request: web.Request) -> web.Response:
    _, me = await viewer(request, "read:accounts")
    return json_response(await featured_entities(request, me.id))


@api
async def account_featured_tags(request: web.Request) -> web.Response:
    await optional_viewer(request, "read:accounts")
    account = await target_account(request)
    return json_response(await featured_entities(request, account.id) if account.local else [])


@api
async def create_featured_tag(request: web.Request) -> web.Response:
    _, me = await viewer(request, "write:accounts")
    raw = text_param(await params(request), "name", required=True)
    try:
        async with request.app[FEDERATION].transaction() as session:
            row = await domain.feature(session, me, raw)
            uses = await queries.featured_uses(session, me.id, [row.name])
    except domain.TagError as exc:
        raise ApiError(422, str(exc)) from None
    return json_response(featured_entity(row, uses.get(row.name), request.app[URLS].base))


@api
async def delete_featured_tag(request: web.Request) -> web.Response:
    _, me = await viewer(request, "write:accounts")
    raw = request.match_info["id"]
    if not raw.isdigit() or len(raw) > 19 or int(raw) >= 1 << 63:
        raise ApiError(404, "Record not found")
    async with request.app[FEDERATION].transaction() as session:
        removed = await domain.unfeature(session, me, featured_id=int(raw))
    if not removed:
        raise ApiError(404, "Record not found")
    return json_response({})


@api
async def featured_suggestions(request: web.Request) -> web.Response:
    _, me = await viewer(request, "read:accounts")
    async with request.app[DATABASE].sessions() as session:
        names = await queries.suggestions(session, me.id, SUGGESTIONS)
        return json_response(await tag_entities(request, session, names, me))


def setup(app: web.Application) -> None:
    one = "/api/v1/tags/{hashtag}"
    add_route(app, "GET", one, show)
    add_route(app, "POST", f"{one}/follow", _tag_action(("write:follows", "follow"), domain.follow))
    add_route(app, "POST", f"{one}/unfollow", _tag_action(("write:follows", "follow"), domain.unfollow))
    add_route(app, "POST", f"{one}/feature", _tag_action(("write:accounts",), _feature))
    add_route(app, "POST", f"{one}/unfeature", _tag_action(("write:accounts",), _unfeature))
    add_route(app, "GET", "/api/v1/followed_tags", followed_tags)
    add_route(app, "GET", "/api/v1/featured_tags", featured_tags)
    add_route(app, "POST", "/api/v1/featured_tags", create_featured_tag)
    add_route(app, "GET", "/api/v1/featured_tags/suggestions", featured_suggestions)
    add_route(app, "DELETE", r"/api/v1/featured_tags/{id}", delete_featured_tag)
    add_route(app, "GET", r"/api/v1/accounts/{id:\d+}/featured_tags", account_featured_tags)
