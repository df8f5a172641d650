"""Mastodon client API: quote posts (Mastodon 4.5). The quotes of one's post (GET
/api/v1/statuses/:id/quotes), revoking one (POST /api/v1/statuses/:id/quotes/:quoting_id/revoke)
and changing who may quote a post (PUT /api/v1/statuses/:id/interaction_policy). Quoting itself
is a new status's `quoted_status_id` and `quote_approval_policy` (server.api.statuses); the rules
are federation.social.quotes'. Only a post's author reads or changes these.
"""

from __future__ import annotations

from aiohttp import web

from federation.outbox import actions
from federation.outbox import quotes as outbox_quotes
from federation.social import quotes
from federation.social.access import can_see
from server.api.auth import ApiError
from server.api.common import add_route, api, page_args, paged, viewer
from server.api.entities import render
from server.api.params import params, text_param
from server.api.statuses import own_post
from server.appkeys import DATABASE, FEDERATION
from server.responses import json_response
from storage import quotes as queries
from storage.actors import actor_by_id
from storage.posts import post_by_id


@api
async def quotes_of(request: web.Request) -> web.Response:
    _, me = await viewer(request, "read:statuses")
    cursor = page_args(request)
    async with request.app[DATABASE].sessions() as session:
        post = await own_post(request, session, me)
        rows = await queries.quoting_posts(session, post.id, cursor)
        seen = [item for _, item in rows if await can_see(session, item, me)]  # not a direct post to others
        entities = await render(request, me, lambda renderer: renderer.statuses(seen), session)
    return paged(request, entities, [quote_id for quote_id, _ in rows])


@api
async def revoke(request: web.Request) -> web.Response:
    _, me = await viewer(request, "write:statuses")
    raw = request.match_info["quoting_id"]
    async with request.app[DATABASE].sessions() as session:
        post = await own_post(request, session, me)
        quote = await queries.quote_of_post(session, int(raw)) if raw.isdigit() and len(raw) <= 18 else None
    if quote is None or quote.quoted_id != post.id:
        raise ApiError(404, "Record not found")
    async with request.app[FEDERATION].transaction() as session:
        await outbox_quotes.revoke(request.app[FEDERATION], session, await actor_by_id(session, me.id),
                                   await queries.quote_by_id(session, quote.id))
        quoting = await post_by_id(session, quote.object_id)
    return json_response(await render(request, me, lambda renderer: renderer.status(quoting)))


@api
async def interaction_policy(request: web.Request) -> web.Response:
    _, me = await viewer(request, "write:statuses")
    policy = text_param(await params(request), "quote_approval_policy", required=True)
    if policy not in quotes.POLICIES:
        raise ApiError(422, f"Validation failed: quote_approval_policy {policy!r} is not one of "
                            f"{', '.join(quotes.POLICIES)}")
    async with request.app[DATABASE].sessions() as session:
        post = await own_post(request, session, me)
    async with request.app[FEDERATION].transaction() as session:
        post = await post_by_id(session, post.id)
        if post.quote_policy != policy:
            post.quote_policy = policy
            await actions.republish(request.app[FEDERATION], session, post)
    return json_response(await render(request, me, lambda renderer: renderer.status(post)))


def setup(app: web.Application) -> None:
    base = r"/api/v1/statuses/{id}"
    add_route(app, "GET", f"{base}/quotes", quotes_of)
    add_route(app, "POST", f"{base}/quotes/{{quoting_id}}/revoke", revoke)
    add_route(app, "PUT", f"{base}/interaction_policy", interaction_policy)
