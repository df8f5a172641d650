"""The notification policy (/api/v2/notifications/policy) and the requests of senders it held
back (/api/v1/notifications/requests), as Mastodon 4.3 serves them.

What the policy decides, and when, is federation.social.notifications' (`verdict`); accepting
and dismissing requests is federation.social.notification_requests'. Accepting takes effect at
once, so `merged` is always true.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from federation.social import notification_requests as answers
from federation.social.notifications import policy_default
from server.api.auth import ApiError
from server.api.common import add_route, api, page_args, paged, viewer
from server.api.entities import Renderer, iso, render
from server.api.params import list_param, params
from server.appkeys import CLOCK, DATABASE
from server.responses import json_response
from storage import notification_requests as requests_of
from storage import notifications as stored
from storage import statuses as q
from storage.models import NotificationPolicy, NotificationRequest, PolicyAction
from storage.notification_requests import Held

ACTIONS = frozenset(a.value for a in PolicyAction)


def _policy_entity(policy: NotificationPolicy | None, summary: tuple[int, int]) -> dict[str, Any]:
    entity: dict[str, Any] = {name: (getattr(policy, name) if policy is not None else policy_default(name)).value
                              for name in NotificationPolicy.FIELDS}
    entity["summary"] = {"pending_requests_count": summary[0], "pending_notifications_count": summary[1]}
    return entity


@api
async def show_policy(request: web.Request) -> web.Response:
    _, actor = await viewer(request, "read:notifications")
    async with request.app[DATABASE].sessions() as session:
        policy = await stored.policy_of(session, actor.id)
        summary = await requests_of.summary(session, actor.id)
    return json_response(_policy_entity(policy, summary))


@api
async def update_policy(request: web.Request) -> web.Response:
    _, actor = await viewer(request, "write:notifications")
    values = await params(request)
    changes = {}
    for name in NotificationPolicy.FIELDS:
        if values.get(name) not in (None, ""):
            if values[name] not in ACTIONS:
                raise ApiError(422, f"Validation failed: {name} must be accept, filter or drop")
            changes[name] = PolicyAction(values[name])
    async with request.app[DATABASE].sessions.begin() as session:
        policy = await answers.set_policy(session, actor.id, changes, request.app[CLOCK].now())
        summary = await requests_of.summary(session, actor.id)
        entity = _policy_entity(policy, summary)
    return json_response(entity)


def _entities(renderer: Renderer, rows: list[NotificationRequest], held: dict[int, Held]) -> list[dict[str, Any]]:
    accounts = renderer.accounts_by_id({r.from_actor_id for r in rows})
    objects = q.objects_by_id(renderer.session, {h.last_object_id for h in held.values() if h.last_object_id})
    live = [o for o in objects.values() if o.deleted_at is None]
    statuses = dict(zip([o.id for o in live], renderer.statuses(live)))
    out = []
    for row in rows:
        if row.from_actor_id not in accounts or row.from_actor_id not in held:
            continue
        entity = {"id": str(row.id), "created_at": iso(row.created_at), "updated_at": iso(row.updated_at),
                  "account": accounts[row.from_actor_id], "notifications_count": str(held[row.from_actor_id].count)}
        last = held[row.from_actor_id].last_object_id
        if last in statuses:
            entity["last_status"] = statuses[last]
        out.append(entity)
    return out


@api
async def index(request: web.Request) -> web.Response:
    _, actor = await viewer(request, "read:notifications")
    cursor = page_args(request, default=40, maximum=80)
    async with request.app[DATABASE].sessions() as session:
        rows = await requests_of.pending(session, actor.id, cursor)
        held = await requests_of.held_from(session, actor.id, {r.from_actor_id for r in rows})
    entities = await render(request, actor, lambda renderer: _entities(renderer, rows, held))
    return paged(request, entities, [r.id for r in rows])


def _ids(values: list[Any]) -> set[int]:
    ids = {int(v) for v in map(str, values) if v.isdigit() and len(v) <= 19}
    if len(ids) != len(set(map(str, values))):
        raise ApiError(404, "Record not found")
    return ids


async def _requests(session, actor_id: int, ids: set[int]) -> list[NotificationRequest]:
    rows = await requests_of.request_of(session, actor_id, ids)
    if not ids or len(rows) != len(ids):
        raise ApiError(404, "Record not found")
    return rows


@api
async def show(request: web.Request) -> web.Response:
    _, actor = await viewer(request, "read:notifications")
    async with request.app[DATABASE].sessions() as session:
        rows = await _requests(session, actor.id, _ids([request.match_info["id"]]))
        held = await requests_of.held_from(session, actor.id, {rows[0].from_actor_id})
    entities = await render(request, actor, lambda renderer: _entities(renderer, rows, held))
    if not entities:
        raise ApiError(404, "Record not found")
    return json_response(entities[0])


def _answer(accepting: bool, many: bool):
    @api
    async def handler(request: web.Request) -> web.Response:
        _, actor = await viewer(request, "write:notifications")
        given = list_param(await params(request), "id") if many else [request.match_info["id"]]
        ids, now = _ids(given), request.app[CLOCK].now()
        async with request.app[DATABASE].sessions.begin() as session:
            rows = await _requests(session, actor.id, ids)
            if accepting:
                await answers.accept(session, rows, now)
            else:
                answers.dismiss(rows, now)
        return json_response({})
    return handler


@api
async def merged(request: web.Request) -> web.Response:
    await viewer(request, "read:notifications")
    return json_response({"merged": True})


def setup(app: web.Application) -> None:
    # before /api/v2/notifications/{group_key} and /api/v1/notifications/{id}: the first match wins
    add_route(app, "GET", "/api/v2/notifications/policy", show_policy)
    add_route(app, "PATCH", "/api/v2/notifications/policy", update_policy)
    base = "/api/v1/notifications/requests"
    add_route(app, "GET", base, index)
    add_route(app, "GET", f"{base}/merged", merged)
    add_route(app, "POST", f"{base}/accept", _answer(True, True))
    add_route(app, "POST", f"{base}/dismiss", _answer(False, True))
    add_route(app, "GET", f"{base}/{{id}}", show)
    add_route(app, "POST", f"{base}/{{id}}/accept", _answer(True, False))
    add_route(app, "POST", f"{base}/{{id}}/dismiss", _answer(False, False))
