"""The compose form's POST: the same parameters as POST /api/v1/statuses (`status`,
`spoiler_text`, `visibility`, `local_only`, `in_reply_to_id`, `media_ids[]`, `poll[options][]`,
`poll[expires_in]`, `poll[multiple]`), parsed by the same functions and posted by the same
outbox call (`federation.outbox.drafts.publish`); only the answer differs: a redirect, or the
form again with the refusal and what was typed.

The form is multipart when it carries a file (`file`, with its alt text in `description`, as
POST /api/v2/media names them): the body is read as a stream under the media API's caps
(server.api.media.read_multipart), past the form token the guard read, and the file is stored
by the same call as an API upload before the post is parsed, so a refused post keeps its image
(its id comes back in the form)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from federation.outbox import drafts
from federation.social.media import MediaError, check_description
from federation.social.web_sessions import SignedIn
from server.api.auth import ApiError
from server.api.media import Upload, check_multipart, read_multipart, store_upload
from server.api.statuses import outbox_refusals, parse_new_post
from server.appkeys import FEDERATION, SETTINGS
from server.web.forms import multipart_rest
from server.web.sessions import me, redirect
from server.web.timelines import composer, timeline_page

FIELDS = ("status", "spoiler_text", "visibility", "in_reply_to_id", "poll[expires_in]", "poll[multiple]",
          "local_only", "description", "idempotency_key")
LISTS = ("media_ids[]", "poll[options][]")  # empty entries (an option left blank) are dropped


async def _read_form(request: web.Request) -> tuple[dict[str, Any], bytes | None]:
    """The form's fields as the client API's parameters, and the file if one was chosen."""
    reader = multipart_rest(request)
    data: bytes | None = None
    if reader is None:
        form: Any = await request.post()
    else:
        max_bytes = request.app[SETTINGS].api.media_max_bytes
        check_multipart(request, max_bytes)
        form, data = await read_multipart(reader, max_bytes, lambda name: name in FIELDS or name in LISTS)
    values: dict[str, Any] = {name: form[name] for name in FIELDS if isinstance(form.get(name), str)}
    for name in LISTS:
        values[name] = [value for value in form.getall(name, []) if isinstance(value, str) and value.strip()]
    return values, data or None  # a file input left empty sends an empty part


async def publish(request: web.Request) -> web.Response:
    signed = await me(request)
    values: dict[str, Any] = {}
    try:
        values, data = await _read_form(request)
        if data is not None:
            upload = Upload(data, check_description(values.get("description", "")), (0.0, 0.0))
            media = await store_upload(request, signed.actor, upload)
            values["media_ids[]"] = [*values["media_ids[]"], str(media.id)]
        draft = parse_new_post(request, values, signed.account.preferences or {})
        key = values.get("idempotency_key", "")
        with outbox_refusals():
            await drafts.publish(request.app[FEDERATION], signed.actor, draft, idempotency_key=key[:255])
    except MediaError as exc:
        return await _refused(request, signed, values, str(exc))
    except ApiError as exc:
        return await _refused(request, signed, values, str(exc))
    if draft.in_reply_to_id:
        return redirect(f"/posts/{draft.in_reply_to_id}")
    return redirect("/home")


async def _refused(request: web.Request, signed: SignedIn, values: dict[str, Any], error: str) -> web.Response:
    """The home page again, 422, with the refusal and the text as typed (a reply's target and an
    image already stored kept)."""
    return await timeline_page(request, "home", status=422, compose=composer(signed, typed=values, error=error))


def setup(app: web.Application) -> None:
    app.router.add_post("/posts", publish)
