"""Statuses: create (with Idempotency-Key), read, edit, delete, history, source, context, and
favourite/reblog/bookmark/pin. Every write goes through `federation.outbox.actions`."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from aiohttp import web

from federation.outbox import actions, drafts
from federation.outbox.actions import OutboxError
from federation.social import media, polls, quotes
from federation.social.compose import Draft
from federation.social.posts import visible_post, visible_status, visible_thread
from server.api.auth import ApiError
from server.api.common import add_route, api, optional_viewer, page_args, paged, viewer
from server.api.entities import iso, remote_attachment_entity, render
from server.api import scheduled
from server.api.filtering import shown
from server.api.params import bool_param, list_param, objects_param, params, text_param
from server.appkeys import DATABASE, FEDERATION, SETTINGS
from server.responses import json_response
from storage import timelines
from storage.models import Actor, Announce, Like, Object, Visibility
from storage.posts import edits_of

MAX_MEDIA = 4


async def visible(request: web.Request, session, status_id: str, viewer_actor: Actor | None) -> Object:
    """The post `status_id` if the viewer may see it; else 404, as if it did not exist."""
    post = await visible_post(session, status_id, viewer_actor)
    if post is None:
        raise ApiError(404, "Record not found")
    return post


async def visible_or_boosted(session, status_id: str, viewer_actor: Actor | None) -> tuple[Object, Announce | None]:
    """(the post, None) for a post's id; (the post it boosts, the boost) for a boost's id, which
    apps take from timelines as they take a post's: 404 if neither is there for the viewer."""
    found = await visible_status(session, status_id, viewer_actor)
    if found is None:
        raise ApiError(404, "Record not found")
    return found


def parse_draft(request: web.Request, values: dict[str, Any]) -> Draft:
    settings = request.app[SETTINGS]
    text = text_param(values, "status")
    media_ids = [str(v) for v in list_param(values, "media_ids")]
    if not text.strip() and not media_ids:
        raise ApiError(422, "Validation failed: Text can't be blank")
    if len(text) > settings.api.status_max_characters:
        raise ApiError(422, f"Validation failed: Text character limit of {settings.api.status_max_characters} exceeded")
    if len(media_ids) > MAX_MEDIA:
        raise ApiError(422, f"Validation failed: at most {MAX_MEDIA} attachments")
    return Draft(
        text=text, media_ids=tuple(media_ids), summary=text_param(values, "spoiler_text"),
        sensitive=bool_param(values, "sensitive"), language=text_param(values, "language") or None,
        in_reply_to_id=str(values["in_reply_to_id"]) if values.get("in_reply_to_id") else None,
    )


def parse_visibility(values: dict[str, Any], preferences: dict[str, Any]) -> Visibility:
    name = text_param(values, "visibility", default=preferences.get("posting:default:visibility", "public"))
    try:
        return Visibility(name)
    except ValueError:
        raise ApiError(422, f"Validation failed: visibility {name!r} is not one of "
                            "public, unlisted, private, direct") from None


def parse_poll(values: dict[str, Any]) -> polls.NewPoll | None:
    """`poll[options][]`, `poll[expires_in]`, `poll[multiple]` and `poll[hide_totals]` as form
    fields, or a `poll` object in JSON; None without options."""
    nested = values.get("poll")
    fields = nested if isinstance(nested, dict) else {
        key[len("poll["):].replace("]", "", 1): value for key, value in values.items() if key.startswith("poll[")}
    options = list_param(fields, "options")
    if not options:
        return None
    expires_in = fields.get("expires_in")
    if not isinstance(expires_in, (int, str)) or isinstance(expires_in, bool) or not str(expires_in).isdigit():
        raise ApiError(422, "Validation failed: poll expires_in must be a number of seconds")
    if not all(isinstance(option, str) for option in options):
        raise ApiError(422, "Validation failed: poll options must be text")
    try:
        return polls.new_poll(options, int(expires_in), multiple=bool_param(fields, "multiple"),
                              hide_totals=bool_param(fields, "hide_totals"))
    except polls.PollError as exc:
        raise ApiError(422, f"Validation failed: {exc}") from exc


def _media_edits(values: dict[str, Any]) -> tuple[tuple[str, str | None, tuple[float, float] | None], ...]:
    """An edit's `media_attributes`: (id, description, focal point) of each upload it changes."""
    edits = []
    for attributes in objects_param(values, "media_attributes", ("id", "description", "focus")):
        description, focus = attributes.get("description"), attributes.get("focus")
        if "id" not in attributes or not isinstance(description, str | None) or not isinstance(focus, str | None):
            raise ApiError(422, "Validation failed: media_attributes take an id, a description and a focus as text")
        try:
            edits.append((str(attributes["id"]), description, media.parse_focus(focus) if focus else None))
        except media.InvalidMedia as exc:
            raise ApiError(422, f"Validation failed: {exc}") from None
    return tuple(edits)


@contextmanager
def outbox_refusals():
    """The outbox's refusals as the client API answers them."""
    try:
        yield
    except actions.NoSuchPost as exc:
        raise ApiError(404, "Record not found") from exc
    except actions.NotYours as exc:
        raise ApiError(403, "This action is not allowed") from exc
    except OutboxError as exc:
        raise ApiError(422, str(exc)) from exc


def parse_new_post(request: web.Request, values: dict[str, Any], preferences: dict[str, Any]) -> Draft:
    """A new post's parameters (POST /api/v1/statuses, and the web pages' compose form): its
    text and uploads, its poll, its visibility (the author's default when not given), and whether
    it is institution-only (`local_only`: read by the instance's users alone, never federated)."""
    draft = parse_draft(request, values)
    poll = parse_poll(values)
    if poll is not None and draft.media_ids:
        raise ApiError(422, "Validation failed: a post can have media or a poll, not both")
    policy = text_param(values, "quote_approval_policy") or None
    if policy is not None and policy not in quotes.POLICIES:
        raise ApiError(422, f"Validation failed: quote_approval_policy {policy!r} is not one of "
                            f"{', '.join(quotes.POLICIES)}")
    quoted = values.get("quoted_status_id")
    return replace(draft, poll=poll, visibility=parse_visibility(values, preferences),
                   quoted_status_id=str(quoted) if quoted else None, quote_policy=policy,
                   local_only=bool_param(values, "local_only"))


@api
async def create(request: web.Request) -> web.Response:
    caller, author = await viewer(request, "write:statuses")
    values = await params(request)
    key = request.headers.get("Idempotency-Key", "")[:255]
    fed = request.app[FEDERATION]
    draft = replace(parse_new_post(request, values, caller.account.preferences or {}),
                    application_id=caller.token.app_id)  # the status's `application`
    if values.get("scheduled_at"):  # to be published later: a ScheduledStatus now (its own key)
        return await scheduled.schedule(request, author, draft, values)
    with outbox_refusals():
        post = await drafts.publish(fed, author, draft, idempotency_key=key)
    return json_response(await render(request, author, lambda renderer: renderer.status(post)))


@api
async def show(request: web.Request) -> web.Response:
    viewer_actor = await optional_viewer(request, "read:statuses")
    async with request.app[DATABASE].sessions() as session:
        post, boost = await visible_or_boosted(session, request.match_info["id"], viewer_actor)
    return json_response(await render(request, viewer_actor, lambda renderer: renderer.status(boost or post)))


async def own_post(request: web.Request, session, author: Actor) -> Object:
    post = await visible(request, session, request.match_info["id"], author)
    if post.actor_id != author.id:
        raise ApiError(403, "This action is not allowed")
    return post


@api
async def remove(request: web.Request) -> web.Response:
    _, author = await viewer(request, "write:statuses")
    delete_media = bool_param(await params(request), "delete_media")  # else kept a day, for a redraft
    fed = request.app[FEDERATION]
    async with fed.transaction() as session:
        post = await own_post(request, session, author)
        entity = await render(request, author, lambda renderer: renderer.status(post), session)
        await actions.delete(fed, session, author, post,
                             media_root=request.app[SETTINGS].media_dir if delete_media else None)
    return json_response({**entity, "text": post.source_text or ""})


@api
async def edit(request: web.Request) -> web.Response:
    _, author = await viewer(request, "write:statuses")
    values = await params(request)
    draft = replace(parse_draft(request, values), media_edits=_media_edits(values))
    with outbox_refusals():
        post = await drafts.revise(request.app[FEDERATION], author, request.match_info["id"], draft)
    return json_response(await render(request, author, lambda renderer: renderer.status(post)))


@api
async def history(request: web.Request) -> web.Response:
    viewer_actor = await optional_viewer(request, "read:statuses")
    async with request.app[DATABASE].sessions() as session:
        post = await visible(request, session, request.match_info["id"], viewer_actor)
        current = await render(request, viewer_actor, lambda renderer: renderer.status(post), session)
        edits = await edits_of(session, post.id)
    versions = [
        {"content": e.content, "spoiler_text": e.summary, "sensitive": e.sensitive, "created_at": iso(e.edited_at),
         "account": current["account"],
         "media_attachments": [remote_attachment_entity(a, n, post.id) for n, a in enumerate(e.attachments or [])],
         "emojis": []}
        for e in edits
    ]
    versions.append({key: current[key] for key in ("content", "spoiler_text", "sensitive", "account",
                                                  "media_attachments", "emojis")}
                    | {"created_at": current["edited_at"] or current["created_at"]})
    return json_response(versions)


@api
async def source(request: web.Request) -> web.Response:
    _, author = await viewer(request, "read:statuses")
    async with request.app[DATABASE].sessions() as session:
        post = await own_post(request, session, author)
    return json_response({"id": str(post.id), "text": post.source_text or "", "spoiler_text": post.summary})


@api
async def context(request: web.Request) -> web.Response:
    viewer_actor = await optional_viewer(request, "read:statuses")
    async with request.app[DATABASE].sessions() as session:
        post, _ = await visible_or_boosted(session, request.match_info["id"], viewer_actor)  # a boost's: its post's
        visible_ancestors, visible_descendants = await visible_thread(session, post, viewer_actor)
    return json_response(await render(request, viewer_actor, lambda renderer: {
        "ancestors": shown(renderer.statuses(visible_ancestors), "thread"),
        "descendants": shown(renderer.statuses(visible_descendants), "thread")}))


def _toggle(action: str):
    """favourite, unfavourite, reblog, unreblog, bookmark, unbookmark, pin, unpin."""
    scope = {"favourite": "write:favourites", "reblog": "write:statuses", "bookmark": "write:bookmarks",
             "pin": "write:accounts"}[action.removeprefix("un")]

    @api
    async def handler(request: web.Request) -> web.Response:
        _, actor = await viewer(request, scope)
        async with request.app[FEDERATION].transaction() as session:
            shown = await toggle(request, session, actor, action)
            entity = await render(request, actor, lambda renderer: renderer.status(shown), session)
        return json_response(entity)
    return handler


async def toggle(request: web.Request, session, actor: Actor, action: str) -> Object | Announce:
    """`action` (favourite, unreblog, ...) by `actor` on the post the route's `id` names, if she
    may see it, or on the post a boost with that id boosts. What Mastodon answers with: for a
    reblog, her boost (`reblog` set); for an unreblog, the post; else what the id names, the
    post or the boost (whose `reblog` shows the change). Also the web pages' action buttons."""
    post, boost = await visible_or_boosted(session, request.match_info["id"], actor)
    try:
        done = await _ACTIONS[action](request.app[FEDERATION], session, actor, post)
    except OutboxError as exc:
        raise ApiError(422, str(exc)) from exc
    if action == "reblog":
        return done
    return post if action == "unreblog" else boost or post


TOGGLES = ("favourite", "unfavourite", "reblog", "unreblog", "bookmark", "unbookmark", "pin", "unpin")
_ACTIONS = {"favourite": actions.like, "unfavourite": actions.unlike, "reblog": actions.boost,
            "unreblog": actions.unboost, "bookmark": actions.bookmark, "unbookmark": actions.unbookmark,
            "pin": actions.pin, "unpin": actions.unpin}


def _who(model):
    @api
    async def handler(request: web.Request) -> web.Response:
        viewer_actor = await optional_viewer(request, "read:accounts")
        cursor = page_args(request)
        async with request.app[DATABASE].sessions() as session:
            post = await visible(request, session, request.match_info["id"], viewer_actor)

        def page(renderer):
            rows = timelines.likers(renderer.session, post.id, model, cursor)
            return rows, renderer.accounts([actor for _, actor in rows])
        rows, entities = await render(request, viewer_actor, page)
        return paged(request, entities, [row_id for row_id, _ in rows])
    return handler


def setup(app: web.Application) -> None:
    base = "/api/v1/statuses"
    add_route(app, "POST", base, create)
    add_route(app, "GET", base + "/{id}", show)
    add_route(app, "DELETE", base + "/{id}", remove)
    add_route(app, "PUT", base + "/{id}", edit)
    add_route(app, "GET", base + "/{id}/history", history)
    add_route(app, "GET", base + "/{id}/source", source)
    add_route(app, "GET", base + "/{id}/context", context)
    for action in TOGGLES:
        add_route(app, "POST", f"{base}/{{id}}/{action}", _toggle(action))
    add_route(app, "GET", base + "/{id}/favourited_by", _who(Like))
    add_route(app, "GET", base + "/{id}/reblogged_by", _who(Announce))
