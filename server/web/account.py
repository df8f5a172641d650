"""The practitioner's account settings: her profile, the apps she authorised, her data export.

The profile form posts update_credentials' own parameters (`display_name`, `note`, `avatar`,
`header`, `fields_attributes[i][name|value]`) to `server.api.credentials.update_profile`, the
function the client API's PATCH calls: the same parsing, limits and Update of the actor to her
followers. Revoking an app revokes every token of hers it holds, so the client API refuses it on
its next request. The export is her own: every post whatever its audience, her follows both
ways in Mastodon's CSV shapes, her bookmarks as one post id a line.
"""

from __future__ import annotations

import csv
import html
import io

from aiohttp import web

from federation.protocol.vocab import outbox_export_to_ap
from server.api.auth import ApiError
from server.api.credentials import DISPLAY_NAME_MAX, MAX_FIELDS, NOTE_MAX, update_profile
from server.api.params import params
from server.appkeys import CLOCK, DATABASE
from server.responses import json_response
from server.web.sessions import me, redirect
from server.web.templates import render
from storage import account_data
from storage import actors as actor_queries

EXPORTS = {
    "outbox.json": "outbox",
    "following_accounts.csv": "following",
    "followers.csv": "followers",
    "bookmarks.csv": "bookmarks",
}


async def profile_page(request: web.Request, *, status: int = 200, error: str = "") -> web.Response:
    signed = await me(request)
    async with request.app[DATABASE].sessions() as session:
        actor = await actor_queries.actor_by_id(session, signed.actor.id)
        account = await actor_queries.account_by_id(session, signed.account.id)
    fields = [{"name": html.unescape(f.get("name", "")), "value": html.unescape(f.get("value", ""))}
              for f in actor.fields or []]
    fields += [{"name": "", "value": ""}] * (MAX_FIELDS - len(fields))
    return await render(request, "settings_profile.html", status=status, error=error, actor=actor,
                            note=account.note_source, fields=fields, saved="saved" in request.query,
                            display_name_max=DISPLAY_NAME_MAX, note_max=NOTE_MAX)


async def save_profile(request: web.Request) -> web.Response:
    signed = await me(request)
    try:
        values = await params(request)
        values.pop("csrf_token", None)
        await update_profile(request, signed.account.id, signed.actor, values)
    except ApiError as exc:
        return await profile_page(request, status=exc.status if exc.status in (413, 422) else 422, error=str(exc))
    return redirect("/settings/profile?saved")


async def apps_page(request: web.Request) -> web.Response:
    signed = await me(request)
    async with request.app[DATABASE].sessions() as session:
        apps = await account_data.authorised_apps(session, signed.account.id)
    return await render(request, "settings_apps.html", apps=apps, revoked="revoked" in request.query)


async def revoke_app(request: web.Request) -> web.Response:
    """Revoke every token of hers the app holds (another account's are left alone)."""
    signed = await me(request)
    app_id = request.match_info["id"]
    if app_id.isdigit() and len(app_id) <= 19:
        async with request.app[DATABASE].sessions.begin() as session:
            await account_data.revoke_app_tokens(session, signed.account.id, int(app_id), request.app[CLOCK].now())
    return redirect("/settings/apps?revoked")


async def export_page(request: web.Request) -> web.Response:
    return await render(request, "settings_export.html", exports=EXPORTS)


def _csv(rows: list[list[str]]) -> str:
    """CSV text; a cell a spreadsheet would take for a formula is quoted with a leading '."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(
        [[f"'{cell}" if cell[:1] in ("=", "+", "-", "@") else cell for cell in row] for row in rows])
    return out.getvalue()


async def export_file(request: web.Request) -> web.StreamResponse:
    signed = await me(request)
    name = request.path.rsplit("/", 1)[-1]
    what = EXPORTS[name]
    async with request.app[DATABASE].sessions() as session:
        if what == "outbox":
            activities = await account_data.own_activities(session, signed.actor.id)
        elif what == "bookmarks":
            uris = await account_data.bookmarked_uris(session, signed.actor.id)
        else:
            addresses = await account_data.follow_addresses(session, signed.actor.id, followers=what == "followers")
    headers = {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}
    if what == "outbox":
        return json_response(outbox_export_to_ap(signed.actor.outbox or signed.actor.uri, activities),
                             content_type="application/activity+json", headers=headers)
    if what == "bookmarks":
        text = _csv([[uri] for uri in uris])
    elif what == "following":  # Mastodon's following_accounts.csv
        text = _csv([["Account address", "Show boosts", "Notify on new posts", "Languages"]]
                    + [[f"{user}@{domain}", "true", "false", ""] for user, domain in addresses])
    else:
        text = _csv([["Account address"]] + [[f"{user}@{domain}"] for user, domain in addresses])
    return web.Response(text=text, content_type="text/csv", charset="utf-8", headers=headers)


def setup(app: web.Application) -> None:
    app.router.add_get("/settings/profile", profile_page)
    app.router.add_post("/settings/profile", save_profile)
    app.router.add_get("/settings/apps", apps_page)
    app.router.add_post("/settings/apps/{id}/revoke", revoke_app)
    app.router.add_get("/settings/export", export_page)
    for name in EXPORTS:
        app.router.add_get(f"/settings/export/{name}", export_file)
