"""Web Push subscriptions: /api/v1/push/subscription, one per access token, as in Mastodon.

POST subscribes (replacing the token's subscription): `subscription[endpoint]`,
`subscription[keys][p256dh]`, `subscription[keys][auth]`, `subscription[standard]`, and
`data[alerts][<type>]`, `data[policy]`, as a form or as nested JSON. GET shows it, PUT changes
its alerts and policy, DELETE removes it. Each needs the `push` scope and a user's token. The
pushes themselves go out from `federation.social.push_worker`, signed with VAPID by the key
`server_key`: as RFC 8291 and 8292 say for a subscription with `standard` true, else (the
default, as on Mastodon) in the draft form apps read before Mastodon 4.4 (`push.sealed`).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from federation.protocol.http import FetchError, check_url
from federation.social import push
from server.api.auth import ApiError
from server.api.common import add_route, api, viewer
from server.api.params import bool_param, params
from server.appkeys import DATABASE, FEDERATION
from server.responses import json_response
from storage import push as push_queries
from storage.models import PushSubscription

SCOPE = "push"
ENDPOINT_CHARS = 2048


def _nested(values: dict[str, Any], *path: str) -> Any:
    """`a[b][c]` from a form, or values["a"]["b"]["c"] from JSON; None when absent."""
    flat = path[0] + "".join(f"[{key}]" for key in path[1:])
    if flat in values:
        return values[flat]
    node: Any = values
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def _alert_values(values: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name in push.ALERTS if (value := _nested(values, "data", "alerts", name)) is not None}


def _policy(values: dict[str, Any], default: str) -> str:
    policy = _nested(values, "data", "policy")
    if policy is None:  # some clients send it outside data[]
        policy = values.get("policy")
    if policy is None:
        return default
    if policy not in push.POLICIES:
        raise ApiError(422, f"Validation failed: data[policy] must be one of {', '.join(push.POLICIES)}")
    return policy


def _entity(subscription: PushSubscription, server_key: str) -> dict[str, Any]:
    return {
        "id": str(subscription.id),
        "endpoint": subscription.endpoint,
        "standard": subscription.standard,
        "alerts": {name: bool(subscription.alerts.get(name)) for name in push.ALERTS},
        "policy": subscription.policy,
        "server_key": server_key,
    }


_SERVER_KEY = web.AppKey("push_server_key", dict)


async def server_key(request: web.Request) -> str:
    """The instance's VAPID public key (base64url), made on first use, then kept in memory (it
    never changes)."""
    known = request.app[_SERVER_KEY]
    if "public" not in known:
        async with request.app[FEDERATION].transaction() as session:
            known["public"] = (await push.load_or_make_keys(session)).public
    return known["public"]


@api
async def subscribe(request: web.Request) -> web.Response:
    caller, actor = await viewer(request, SCOPE)
    values = await params(request)
    endpoint = _nested(values, "subscription", "endpoint")
    p256dh = _nested(values, "subscription", "keys", "p256dh")
    auth = _nested(values, "subscription", "keys", "auth")
    for name, value in (("subscription[endpoint]", endpoint), ("subscription[keys][p256dh]", p256dh),
                        ("subscription[keys][auth]", auth)):
        if not isinstance(value, str) or not value:
            raise ApiError(422, f"Validation failed: {name} can't be blank")
    if len(endpoint) > ENDPOINT_CHARS:
        raise ApiError(422, "Validation failed: subscription[endpoint] is too long")
    settings = request.app[FEDERATION].settings
    try:
        check_url(endpoint, allow_http=settings.allow_http, allow_private_addresses=settings.allow_private_addresses)
    except FetchError as exc:
        raise ApiError(422, f"Validation failed: subscription[endpoint] {exc}") from exc
    if problem := push.client_key_problem(p256dh, auth):
        raise ApiError(422, f"Validation failed: {problem}")
    subscription = PushSubscription(
        token_id=caller.token.id, actor_id=actor.id, endpoint=endpoint, p256dh=p256dh, auth=auth,
        alerts=push.alerts_from(_alert_values(values)), policy=_policy(values, "all"),
        standard=bool_param({"standard": _nested(values, "subscription", "standard")}, "standard"),
    )
    async with request.app[FEDERATION].transaction() as session:
        subscription = await push_queries.subscribe(session, subscription)
    return json_response(_entity(subscription, await server_key(request)))


@api
async def show(request: web.Request) -> web.Response:
    caller, _ = await viewer(request, SCOPE)
    async with request.app[DATABASE].sessions() as session:
        subscription = await push_queries.subscription_for_token(session, caller.token.id)
    if subscription is None:
        raise ApiError(404, "Record not found")
    return json_response(_entity(subscription, await server_key(request)))


@api
async def update(request: web.Request) -> web.Response:
    caller, _ = await viewer(request, SCOPE)
    values = await params(request)
    async with request.app[FEDERATION].transaction() as session:
        subscription = await push_queries.subscription_for_token(session, caller.token.id)
        if subscription is None:
            raise ApiError(404, "Record not found")
        subscription.alerts = push.alerts_from(_alert_values(values), subscription.alerts)
        subscription.policy = _policy(values, subscription.policy)
    return json_response(_entity(subscription, await server_key(request)))


@api
async def unsubscribe(request: web.Request) -> web.Response:
    caller, _ = await viewer(request, SCOPE)
    async with request.app[FEDERATION].transaction() as session:
        await push_queries.unsubscribe(session, caller.token.id)
    return json_response({})


def setup(app: web.Application) -> None:
    app[_SERVER_KEY] = {}
    add_route(app, "POST", "/api/v1/push/subscription", subscribe)
    add_route(app, "GET", "/api/v1/push/subscription", show)
    add_route(app, "PUT", "/api/v1/push/subscription", update)
    add_route(app, "DELETE", "/api/v1/push/subscription", unsubscribe)
