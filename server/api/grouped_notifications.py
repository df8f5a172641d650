"""Grouped notifications (/api/v2/notifications), in Mastodon's 4.3 shape: a page of groups with
the accounts and statuses they name at the root, a group by its key, its accounts, its
dismissal, and the unread count of groups.

Which notifications group is decided as each is written (federation.social.notifications); a
client narrows it with `grouped_types[]`, and a notification of a type it leaves out shows as
a group of its own, `ungrouped-{id}`. A group is about a post when its notifications name one
(a mention, a favourite, a quote, a peer's article awaiting review...), as in v1: it carries
the post's `status_id`. A group about a post that is gone, or that a `hide` filter of the
notifications context matches, is left out.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from federation.social.notifications import GROUPED_TYPES
from server.api.auth import ApiError
from server.api.common import add_route, api, link_header, page_args, viewer
from server.api.entities import Renderer, iso, render, render_as_user
from server.api.filtering import hidden
from server.api.notifications import list_scope, requested_types, unread_cap
from server.appkeys import DATABASE
from server.responses import json_response
from storage import notification_groups as groups_of
from storage import notifications as stored
from storage import statuses as q
from storage.notification_groups import Group

GROUP_ACCOUNTS = 80


def _partial(account: dict[str, Any]) -> dict[str, Any]:
    """An account as `expand_accounts=partial_avatars` lists it (PartialAccountWithAvatar)."""
    return {name: account[name] for name in ("id", "acct", "url", "avatar", "avatar_static", "locked", "bot")}


def results(renderer: Renderer, groups: list[Group], *, paging: bool, partial: bool = False) -> dict[str, Any]:
    """A GroupedNotificationsResults of `groups`."""
    objects = q.objects_by_id(renderer.session, {g.object_id for g in groups if g.object_id})
    live = [o for o in objects.values() if o.deleted_at is None]
    statuses = dict(zip([o.id for o in live], renderer.statuses(live)))
    shown = [g for g in groups if not g.object_id
             or (g.object_id in statuses and not hidden(statuses[g.object_id], "notifications"))]
    accounts = renderer.accounts_by_id({i for g in shown for i in g.sample_account_ids})
    shown = [g for g in shown if any(i in accounts for i in g.sample_account_ids)]
    full = {g.sample_account_ids[0] for g in shown} if partial else set(accounts)
    entities = []
    for g in shown:
        entity: dict[str, Any] = {
            "group_key": g.key, "notifications_count": g.count, "type": g.type.value,
            "most_recent_notification_id": str(g.most_recent_id),
            "sample_account_ids": [str(i) for i in g.sample_account_ids if i in accounts],
        }
        if g.object_id:
            entity["status_id"] = str(g.object_id)
        if paging:
            entity.update(page_min_id=str(g.page_min_id), page_max_id=str(g.page_max_id),
                          latest_page_notification_at=iso(g.latest_page_at))
        entities.append(entity)
    used_statuses = {g.object_id for g in shown if g.object_id}
    out: dict[str, Any] = {
        "accounts": [accounts[i] for i in accounts if i in full],
        "statuses": [statuses[i] for i in statuses if i in used_statuses],
        "notification_groups": entities,
    }
    if partial:
        out["partial_accounts"] = [_partial(accounts[i]) for i in accounts if i not in full]
    return out


def grouped_types(request: web.Request) -> frozenset[str]:
    """The types a client lets group (`grouped_types[]`; all we group when not given)."""
    asked = requested_types(request, "grouped_types")
    return GROUPED_TYPES if asked is None else GROUPED_TYPES & asked


@api
async def index(request: web.Request) -> web.Response:
    scope, kinds = list_scope(request), grouped_types(request)
    expand = request.query.get("expand_accounts", "full")
    if expand not in ("full", "partial_avatars"):
        raise ApiError(400, "expand_accounts must be full or partial_avatars")

    def page(renderer):
        found, read = groups_of.page(renderer.session, renderer.viewer.id, page_args(request, default=40, maximum=80),
                                     scope, kinds)
        return results(renderer, found, paging=True, partial=expand == "partial_avatars"), read
    body, read = await render_as_user(request, "read:notifications", page)
    return json_response(body, headers=link_header(request, read))


@api
async def show(request: web.Request) -> web.Response:
    _, actor = await viewer(request, "read:notifications")
    key = request.match_info["group_key"]

    def one(renderer):
        found = groups_of.one(renderer.session, actor.id, key)
        return results(renderer, [found], paging=False) if found is not None else None
    body = await render(request, actor, one)
    if body is None or not body["notification_groups"]:
        raise ApiError(404, "Record not found")
    return json_response(body)


@api
async def accounts(request: web.Request) -> web.Response:
    _, actor = await viewer(request, "read:notifications")
    key = request.match_info["group_key"]

    def senders(renderer):
        ids = groups_of.senders(renderer.session, actor.id, key, GROUP_ACCOUNTS)
        entities = renderer.accounts_by_id(set(ids))
        return [entities[i] for i in ids if i in entities]
    found = await render(request, actor, senders)
    if not found:
        raise ApiError(404, "Record not found")
    return json_response(found)


@api
async def dismiss(request: web.Request) -> web.Response:
    _, actor = await viewer(request, "write:notifications")
    async with request.app[DATABASE].sessions.begin() as session:
        dismissed = await stored.dismiss_group(session, actor.id, request.match_info["group_key"])
    if not dismissed:
        raise ApiError(404, "Record not found")
    return json_response({})


@api
async def unread_count(request: web.Request) -> web.Response:
    _, actor = await viewer(request, "read:notifications")
    cap, scope, kinds = unread_cap(request), list_scope(request), grouped_types(request)
    async with request.app[DATABASE].sessions() as session:
        count = await stored.count_unread(session, actor.id, cap=cap, scope=scope, grouped_types=kinds)
    return json_response({"count": count})


def setup(app: web.Application) -> None:
    add_route(app, "GET", "/api/v2/notifications", index)
    add_route(app, "GET", "/api/v2/notifications/unread_count", unread_count)
    add_route(app, "GET", "/api/v2/notifications/{group_key}", show)
    add_route(app, "GET", "/api/v2/notifications/{group_key}/accounts", accounts)
    add_route(app, "POST", "/api/v2/notifications/{group_key}/dismiss", dismiss)
