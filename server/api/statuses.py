"""Statuses: create (with Idempotency-Key), read, edit, delete, history, source, context, and
favourite/reblog/bookmark/pin. Every write goes through `federation.outbox.actions`."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy import func, select

from federation.social import media as media_logic
from federation.outbox import actions
from federation.social import polls
from federation.social.access import can_see
from federation.social.compose import hashtags_in, mentions_in, text_to_html
from federation.outbox.actions import OutboxError
from federation.remote.resolve import RemoteError, resolve_account
from federation.protocol.vocab.parse import Attachment
from server.api.auth import ApiError
from server.api.common import add_route, api, optional_viewer, page_args, paged, viewer
from server.api.entities import iso, remote_attachment_entity, render
from server.api.params import bool_param, list_param, params, text_param
from server.appkeys import DATABASE, FEDERATION, SETTINGS, URLS
from server.responses import json_response
from storage import timelines
from storage.media import attached_media
from storage.models import (
    Actor,
    Announce,
    Bookmark,
    IdempotencyKey,
    Like,
    Media,
    Object,
    ObjectEdit,
    Pin,
    Visibility,
)

MAX_MEDIA = 4
MAX_PINS = 5


async def visible(request: web.Request, session, status_id: str, viewer_actor: Actor | None) -> Object:
    """The post `status_id` if the viewer may see it; else 404, as if it did not exist."""
    if not status_id.isdigit() or len(status_id) > 19:
        raise ApiError(404, "Record not found")
    post = await session.get(Object, int(status_id))
    if post is None or not await can_see(session, post, viewer_actor):
        raise ApiError(404, "Record not found")
    return post


async def _mentioned(request: web.Request, text: str) -> dict[tuple[str, str | None], Actor]:
    """Resolve every @mention (remote ones over the network, before any transaction)."""
    fed = request.app[FEDERATION]
    found: dict[tuple[str, str | None], Actor] = {}
    for username, host in mentions_in(text):
        try:
            found[(username, host)] = await resolve_account(fed, f"{username}@{host or fed.urls.authority}")
        except RemoteError:
            continue  # an unknown handle stays plain text, as on Mastodon
    return found


async def _compose(request: web.Request, values: dict[str, Any], author: Actor) -> dict[str, Any]:
    settings = request.app[SETTINGS]
    text = text_param(values, "status")
    media_ids = [str(v) for v in list_param(values, "media_ids")]
    if not text.strip() and not media_ids:
        raise ApiError(422, "Validation failed: Text can't be blank")
    if len(text) > settings.api.status_max_characters:
        raise ApiError(422, f"Validation failed: Text character limit of {settings.api.status_max_characters} exceeded")
    if len(media_ids) > MAX_MEDIA:
        raise ApiError(422, f"Validation failed: at most {MAX_MEDIA} attachments")
    mentions = await _mentioned(request, text)
    return {
        "text": text, "media_ids": media_ids, "mentions": mentions,
        "content": text_to_html(text, mentions, f"{request.app[URLS].base}/tags"),
        "tags": hashtags_in(text),
        "summary": text_param(values, "spoiler_text"),
        "sensitive": bool_param(values, "sensitive"),
        "language": text_param(values, "language") or None,
    }


def _poll(values: dict[str, Any]) -> polls.NewPoll | None:
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


async def _attach(session, author: Actor, media_ids: list[str], post: Object | None) -> list[Media]:
    """The author's uploads to attach to `post` (or to a new post): unattached, already on
    `post`, or left on a post she deleted ("delete and redraft")."""
    rows = []
    for media_id in media_ids:
        media = await session.get(Media, int(media_id)) if media_id.isdigit() else None
        if media is None or media.actor_id != author.id or not (
                media.object_id in (None, post.id if post else None)
                or (await session.get(Object, media.object_id)).deleted_at is not None):
            raise ApiError(422, f"Validation failed: media {media_id} cannot be attached")
        rows.append(media)
    return rows


def _stored(media: Media, base_url: str) -> dict[str, Any]:
    """An upload in the shape posts keep their attachments in (see federation.protocol.vocab.parse.Attachment)."""
    return Attachment(type="Document", url=media_logic.media_url(base_url, media.file_name), media_type=media.mime_type,
                      name=media.description or None, blurhash=media.blurhash, width=media.width,
                      height=media.height).as_dict()


@api
async def create(request: web.Request) -> web.Response:
    caller, author = await viewer(request, "write:statuses")
    values = await params(request)
    key = request.headers.get("Idempotency-Key", "")[:255]
    fed = request.app[FEDERATION]
    if key:
        async with request.app[DATABASE].sessions() as session:
            earlier = await session.scalar(select(Object).join(IdempotencyKey, IdempotencyKey.object_id == Object.id)
                                           .where(IdempotencyKey.actor_id == author.id, IdempotencyKey.key == key))
        if earlier is not None:
            return json_response(await render(request, author, lambda renderer: renderer.status(earlier)))
    composed = await _compose(request, values, author)
    poll = _poll(values)
    if poll is not None and composed["media_ids"]:
        raise ApiError(422, "Validation failed: a post can have media or a poll, not both")
    preferences = caller.account.preferences or {}
    visibility_name = text_param(values, "visibility", default=preferences.get("posting:default:visibility", "public"))
    try:
        visibility = Visibility(visibility_name)
    except ValueError:
        raise ApiError(422, f"Validation failed: visibility {visibility_name!r} is not one of "
                            "public, unlisted, private, direct") from None
    async with fed.transaction() as session:
        in_reply_to = None
        if values.get("in_reply_to_id"):
            in_reply_to = await visible(request, session, str(values["in_reply_to_id"]), author)
        media = await _attach(session, author, composed["media_ids"], None)
        post = await actions.post(
            fed, session, author, content=composed["content"], visibility=visibility,
            summary=composed["summary"], sensitive=composed["sensitive"], in_reply_to=in_reply_to,
            mentions=list(composed["mentions"].values()), tags=composed["tags"], language=composed["language"],
            attachments=[_stored(m, fed.urls.base) for m in media] or None, poll=poll,
        )
        post.source_text = composed["text"]
        for row in media:
            row.object_id = post.id
        if key:
            session.add(IdempotencyKey(actor_id=author.id, key=key, object_id=post.id))
        await session.flush()
        entity = await render(request, author, lambda renderer: renderer.status(post), session)
    return json_response(entity)


@api
async def show(request: web.Request) -> web.Response:
    viewer_actor = await optional_viewer(request, "read:statuses")
    async with request.app[DATABASE].sessions() as session:
        post = await visible(request, session, request.match_info["id"], viewer_actor)
    return json_response(await render(request, viewer_actor, lambda renderer: renderer.status(post)))


async def _own(request: web.Request, session, author: Actor) -> Object:
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
        post = await _own(request, session, author)
        entity = await render(request, author, lambda renderer: renderer.status(post), session)
        await actions.delete(fed, session, author, post)
        if delete_media:
            await media_logic.remove_attached(session, request.app[SETTINGS].media_dir, post.id)
    return json_response({**entity, "text": post.source_text or ""})


@api
async def edit(request: web.Request) -> web.Response:
    _, author = await viewer(request, "write:statuses")
    values = await params(request)
    composed = await _compose(request, values, author)
    fed = request.app[FEDERATION]
    async with fed.transaction() as session:
        post = await _own(request, session, author)
        media = await _attach(session, author, composed["media_ids"], post)
        try:
            await actions.edit(fed, session, author, post, content=composed["content"],
                              summary=composed["summary"], sensitive=composed["sensitive"],
                              attachments=[_stored(m, fed.urls.base) for m in media] or None)
        except OutboxError as exc:
            raise ApiError(422, str(exc)) from exc
        for row in await attached_media(session, post.id):
            if row not in media:
                row.object_id = None  # replaced: the post shows what its author chose now
        for row in media:
            row.object_id = post.id
        post.source_text = composed["text"]
        entity = await render(request, author, lambda renderer: renderer.status(post), session)
    return json_response(entity)


@api
async def history(request: web.Request) -> web.Response:
    viewer_actor = await optional_viewer(request, "read:statuses")
    async with request.app[DATABASE].sessions() as session:
        post = await visible(request, session, request.match_info["id"], viewer_actor)
        current = await render(request, viewer_actor, lambda renderer: renderer.status(post), session)
        edits = list(await session.scalars(select(ObjectEdit).where(ObjectEdit.object_id == post.id).order_by(ObjectEdit.id)))
    versions = [
        {"content": e.content, "spoiler_text": e.summary, "sensitive": e.sensitive, "created_at": iso(e.edited_at),
         "account": current["account"], "emojis": [],
         "media_attachments": [remote_attachment_entity(a, n, post.id) for n, a in enumerate(e.attachments or [])]}
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
        post = await _own(request, session, author)
    return json_response({"id": str(post.id), "text": post.source_text or "", "spoiler_text": post.summary})


@api
async def context(request: web.Request) -> web.Response:
    viewer_actor = await optional_viewer(request, "read:statuses")
    async with request.app[DATABASE].sessions() as session:
        post = await visible(request, session, request.match_info["id"], viewer_actor)
        ancestors, descendants = await session.run_sync(lambda sync: timelines.thread(sync, post))
        visible_ancestors = [a for a in ancestors if await can_see(session, a, viewer_actor)]
        visible_descendants = [d for d in descendants if await can_see(session, d, viewer_actor)]
    return json_response(await render(request, viewer_actor, lambda renderer: {
        "ancestors": renderer.statuses(visible_ancestors), "descendants": renderer.statuses(visible_descendants)}))


def _toggle(action: str):
    """favourite, unfavourite, reblog, unreblog, bookmark, unbookmark, pin, unpin."""
    scope = {"favourite": "write:favourites", "reblog": "write:statuses", "bookmark": "write:bookmarks",
             "pin": "write:accounts"}[action.removeprefix("un")]

    @api
    async def handler(request: web.Request) -> web.Response:
        _, actor = await viewer(request, scope)
        fed = request.app[FEDERATION]
        async with fed.transaction() as session:
            post = await visible(request, session, request.match_info["id"], actor)
            try:
                await _apply(fed, session, actor, post, action)
            except OutboxError as exc:
                raise ApiError(422, str(exc)) from exc
            await session.flush()
            entity = await render(request, actor, lambda renderer: renderer.status(post), session)
        return json_response(entity)
    return handler


async def _apply(fed, session, actor: Actor, post: Object, action: str) -> None:
    if action in ("favourite", "unfavourite", "reblog", "unreblog"):
        function = {"favourite": actions.like, "unfavourite": actions.unlike,
                    "reblog": actions.boost, "unreblog": actions.unboost}[action]
        await function(fed, session, actor, post)
        return
    model = Bookmark if action.endswith("bookmark") else Pin
    if model is Pin and post.actor_id != actor.id:
        raise ApiError(422, "Validation failed: you can only pin your own posts")
    existing = await session.scalar(select(model).where(model.actor_id == actor.id, model.object_id == post.id))
    if model is Pin and existing is None and not action.startswith("un"):
        pins = await session.scalar(select(func.count()).select_from(Pin).where(Pin.actor_id == actor.id))
        if pins >= MAX_PINS:
            raise ApiError(422, f"Validation failed: you can pin at most {MAX_PINS} posts")
    if action.startswith("un"):
        if existing is not None:
            await session.delete(existing)
    elif existing is None:
        session.add(model(actor_id=actor.id, object_id=post.id))


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
    for action in ("favourite", "unfavourite", "reblog", "unreblog", "bookmark", "unbookmark", "pin", "unpin"):
        add_route(app, "POST", f"{base}/{{id}}/{action}", _toggle(action))
    add_route(app, "GET", base + "/{id}/favourited_by", _who(Like))
    add_route(app, "GET", base + "/{id}/reblogged_by", _who(Announce))
