"""The compose form's POST: the same parameters as POST /api/v1/statuses (`status`,
`spoiler_text`, `visibility`, `in_reply_to_id`), parsed by the same functions and posted by the
same outbox call (`federation.outbox.drafts.publish`); only the answer differs: a redirect, or
the form again with the refusal and what was typed."""

from __future__ import annotations

from dataclasses import replace

from aiohttp import web

from federation.outbox import drafts
from federation.social.web_sessions import SignedIn
from server.api.auth import ApiError
from server.api.statuses import outbox_refusals, parse_draft, parse_visibility
from server.appkeys import FEDERATION
from server.web.sessions import me, redirect
from server.web.timelines import composer, timeline_page

FIELDS = ("status", "spoiler_text", "visibility", "in_reply_to_id")


async def publish(request: web.Request) -> web.Response:
    signed = await me(request)
    form = await request.post()
    values = {name: form[name] for name in FIELDS if isinstance(form.get(name), str)}
    key = form.get("idempotency_key")
    try:
        draft = parse_draft(request, values)
        draft = replace(draft, visibility=parse_visibility(values, signed.account.preferences or {}))
        with outbox_refusals():
            await drafts.publish(request.app[FEDERATION], signed.actor, draft,
                                 idempotency_key=key[:255] if isinstance(key, str) else "")
    except ApiError as exc:
        return await _refused(request, signed, values, str(exc))
    if draft.in_reply_to_id:
        return redirect(f"/posts/{draft.in_reply_to_id}")
    return redirect("/home")


async def _refused(request: web.Request, signed: SignedIn, values: dict[str, str], error: str) -> web.Response:
    """The home page again, 422, with the refusal and the text as typed (a reply's target kept)."""
    return await timeline_page(request, "home", status=422, compose=composer(signed, typed=values, error=error))


def setup(app: web.Application) -> None:
    app.router.add_post("/posts", publish)
