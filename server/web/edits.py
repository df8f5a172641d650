"""Editing and deleting one's own post from the web pages: the edit form (PUT
/api/v1/statuses/:id's parameters, parsed by the same `parse_draft`, saved by the same
`drafts.revise`) and a confirmation page before a delete (DELETE /api/v1/statuses/:id's call,
`actions.delete`, its uploads kept a day for a redraft as there).

Whose post it is is asked by the client API's `own_post` for every one of these, GET or POST:
someone else's post is refused, 403, and one she may not see is not found."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from federation.outbox import actions, drafts
from server.api.auth import ApiError
from server.api.entities import render as render_entities
from server.api.statuses import outbox_refusals, own_post, parse_draft
from server.appkeys import DATABASE, FEDERATION, SETTINGS
from server.web.actions import refused
from server.web.sessions import HOME, me, redirect
from server.web.templates import render

FIELDS = ("status", "spoiler_text")


async def _page(request: web.Request, *, status: int = 200, **context: Any) -> web.Response:
    return await render(request, "edit.html", status=status, post_id=request.match_info["id"],
                            max_characters=request.app[SETTINGS].api.status_max_characters, **context)


async def _own_status(request: web.Request):
    """The practitioner's own post named in the path, and its entity; ApiError if it is not hers."""
    signed = await me(request)
    async with request.app[DATABASE].sessions() as session:
        post = await own_post(request, session, signed.actor)
    return post, await render_entities(request, signed.actor, lambda renderer: renderer.status(post))


async def edit_page(request: web.Request) -> web.Response:
    try:
        post, entry = await _own_status(request)
    except ApiError as exc:
        return await refused(request, exc)
    return await _page(request, text=post.source_text or "", spoiler_text=post.summary or "",
                       media_ids=[media["id"] for media in entry["media_attachments"]])


async def edit(request: web.Request) -> web.Response:
    signed = await me(request)
    form = await request.post()
    values: dict[str, Any] = {name: form[name] for name in FIELDS if isinstance(form.get(name), str)}
    values["media_ids[]"] = [value for value in form.getall("media_ids[]", []) if isinstance(value, str)]
    try:
        draft = parse_draft(request, values)
        with outbox_refusals():
            await drafts.revise(request.app[FEDERATION], signed.actor, request.match_info["id"], draft)
    except ApiError as exc:
        if exc.status != 422:
            return await refused(request, exc)
        return await _page(request, status=422, error=str(exc), text=values.get("status", ""),
                           spoiler_text=values.get("spoiler_text", ""), media_ids=values["media_ids[]"])
    return redirect(f"/posts/{request.match_info['id']}")


async def delete_page(request: web.Request) -> web.Response:
    try:
        _, entry = await _own_status(request)
    except ApiError as exc:
        return await refused(request, exc)
    return await render(request, "delete.html", entry=entry)


async def delete(request: web.Request) -> web.Response:
    signed = await me(request)
    fed = request.app[FEDERATION]
    try:
        async with fed.transaction() as session:
            post = await own_post(request, session, signed.actor)
            await actions.delete(fed, session, signed.actor, post)
    except ApiError as exc:
        return await refused(request, exc)
    return redirect(HOME)


def setup(app: web.Application) -> None:
    app.router.add_get("/posts/{id}/edit", edit_page)
    app.router.add_post("/posts/{id}/edit", edit)
    app.router.add_get("/posts/{id}/delete", delete_page)
    app.router.add_post("/posts/{id}/delete", delete)
