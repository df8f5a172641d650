"""Mastodon client API: POST /api/v1/reports, a practitioner's report of an account and some of
its posts to the moderators (federation.admin.reports), forwarded to the account's server when
she asks; the Report entity."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from federation.admin import reports
from federation.social.posts import visible_post
from server.api.accounts import account_named
from server.api.auth import ApiError
from server.api.common import add_route, api, viewer
from server.api.entities import iso, render
from server.api.params import bool_param, list_param, params, text_param
from server.appkeys import CLOCK, FEDERATION
from server.profile import profile
from server.responses import json_response
from storage.models import Report


def report_entity(report: Report, target: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": str(report.id), "action_taken": report.resolved_at is not None, "action_taken_at": iso(report.resolved_at),
        "category": report.category, "comment": report.comment, "forwarded": report.forwarded,
        "created_at": iso(report.created_at), "status_ids": [str(i) for i in report.post_ids] or None,
        "rule_ids": [str(i) for i in report.rule_ids] or None, "target_account": target,
    }


@api
async def create(request: web.Request) -> web.Response:
    _, me = await viewer(request, "write:reports")
    values = await params(request)
    account_id = str(values.get("account_id") or "")
    if not account_id:
        raise ApiError(422, "Validation failed: account_id is required")
    target = await account_named(request, account_id)
    rules = len((await profile(request)).rules)
    raw_rules = [str(value) for value in list_param(values, "rule_ids")]
    if not all(value.isdigit() and 1 <= int(value) <= rules for value in raw_rules):
        raise ApiError(422, "Validation failed: rule_ids must name this instance's rules")
    # a report naming rules is of a rule broken, whatever category it gives (as Mastodon files it)
    category = "violation" if raw_rules else text_param(values, "category") or "other"
    fed = request.app[FEDERATION]
    async with fed.transaction() as session:
        posts = []
        for status_id in dict.fromkeys(str(value) for value in list_param(values, "status_ids")):
            post = await visible_post(session, status_id, me)
            if post is None:
                raise ApiError(404, "Record not found")
            posts.append(post)
        try:
            report = await reports.file(fed, session, me, target, posts, comment=text_param(values, "comment"),
                                        category=category, rule_ids=[int(value) for value in raw_rules],
                                        forward=bool_param(values, "forward"), now=request.app[CLOCK].now())
        except reports.ReportError as exc:
            raise ApiError(422, f"Validation failed: {exc}") from exc
        account = await render(request, me, lambda renderer: renderer.account(target), session)
    return json_response(report_entity(report, account))


def setup(app: web.Application) -> None:
    add_route(app, "POST", "/api/v1/reports", create)
