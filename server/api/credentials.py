"""The caller's own account: verify_credentials and update_credentials (profile, fields,
posting defaults, avatar and header images), federated as an Update of the actor."""

from __future__ import annotations

import html
import re
from contextlib import AsyncExitStack
from typing import Any

from aiohttp import web
from aiohttp.web_request import FileField

from federation.admin.users import role_of
from federation.outbox import relations
from federation.social.media import MediaError, MediaTooLarge, media_url
from federation.protocol.sanitize import plain_to_html
from server.activitypub.actor_documents import ACTOR_DOCUMENTS
from server.api.auth import ApiError
from server.api.common import add_route, api, viewer
from server.api.entities import ROLES, render
from server.api.media import MEDIA_STORE
from server.api.params import bool_param, params, text_param
from server.api.preferences import PREFERENCE, parse_preferences
from server.appkeys import DATABASE, FEDERATION
from server.responses import json_response
from storage import accounts_api as q
from storage import actors as actor_queries
from storage.models import Actor

MAX_FIELDS = 4
DISPLAY_NAME_MAX, NOTE_MAX = 30, 500
FIELD_KEY = re.compile(r"fields_attributes\[(\d+)\]\[(name|value)\]")


async def _credential(request: web.Request, actor_id: int) -> dict[str, Any]:
    async with request.app[DATABASE].sessions() as session:
        actor = await actor_queries.actor_by_id(session, actor_id)
        account = await q.account_of(session, actor_id)
        entity = await render(request, actor, lambda renderer: renderer.account(actor), session)
        requests = await q.count_follow_requests(session, actor_id)
    prefs = account.preferences or {}
    entity["source"] = {
        "privacy": prefs.get(PREFERENCE.format("visibility"), "public"),
        "sensitive": bool(prefs.get(PREFERENCE.format("sensitive"), False)),
        "language": prefs.get(PREFERENCE.format("language")),
        "note": account.note_source,
        "fields": [{"name": html.unescape(f.get("name", "")), "value": html.unescape(f.get("value", "")),
                    "verified_at": None} for f in actor.fields or []],
        "follow_requests_count": requests,
        "discoverable": actor.discoverable,
        "indexable": actor.discoverable,  # one setting here: a discoverable account's posts are searchable
        "hide_collections": False,
        "attribution_domains": [],
    }
    entity["role"] = ROLES[role_of(account)]
    return entity


@api
async def verify_credentials(request: web.Request) -> web.Response:
    _caller, me = await viewer(request, "read:accounts", "profile")
    return json_response(await _credential(request, me.id))


def _text(values: dict[str, Any], name: str, limit: int) -> str | None:
    if values.get(name) is None:
        return None
    value = text_param(values, name)
    if len(value) > limit:
        raise ApiError(422, f"Validation failed: {name} is too long (maximum is {limit} characters)")
    return value


def _fields(values: dict[str, Any]) -> list[dict[str, str]] | None:
    """fields_attributes as form keys (`fields_attributes[0][name]`), a JSON list, or a JSON
    object keyed by position. Blank rows are dropped; names and values are stored as HTML."""
    raw = values.get("fields_attributes")
    if raw is None:
        found: dict[int, dict[str, Any]] = {}
        for key, value in values.items():
            if match := FIELD_KEY.fullmatch(key):
                found.setdefault(int(match[1]), {})[match[2]] = value
        if not found:
            return None
        raw = [found[i] for i in sorted(found)]
    elif isinstance(raw, dict):
        raw = [raw[k] for k in sorted(raw, key=lambda k: int(k) if str(k).isdigit() else 0)]
    if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
        raise ApiError(422, "Validation failed: fields_attributes must be a list of {name, value}")
    fields = []
    for item in raw:
        name, value = item.get("name") or "", item.get("value") or ""
        if not isinstance(name, str) or not isinstance(value, str):
            raise ApiError(422, "Validation failed: field names and values must be text")
        if not name.strip() and not value.strip():
            continue
        if len(name) > 255 or len(value) > 255:
            raise ApiError(422, "Validation failed: a field name or value is longer than 255 characters")
        fields.append({"name": html.escape(name.strip()), "value": html.escape(value.strip())})
    if len(fields) > MAX_FIELDS:
        raise ApiError(422, f"Validation failed: Fields is too long (maximum is {MAX_FIELDS} fields)")
    return fields


def _profile_change(values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(actor attributes, account attributes) to set, all validated before anything is written."""
    actor: dict[str, Any] = {}
    account: dict[str, Any] = {}
    if (name := _text(values, "display_name", DISPLAY_NAME_MAX)) is not None:
        actor["display_name"] = name.strip()
    if (note := _text(values, "note", NOTE_MAX)) is not None:
        account["note_source"], actor["summary"] = note, plain_to_html(note)
    for key, attribute in (("locked", "manually_approves_followers"), ("discoverable", "discoverable")):
        if values.get(key) not in (None, ""):
            actor[attribute] = bool_param(values, key)
    if (fields := _fields(values)) is not None:
        actor["fields"] = fields
    if prefs := parse_preferences(values):
        account["preferences"] = prefs
    return actor, account


@api
async def update_credentials(request: web.Request) -> web.Response:
    caller, me = await viewer(request, "write:accounts")
    await update_profile(request, caller.account.id, me, await params(request))
    return json_response(await _credential(request, me.id))


async def update_profile(request: web.Request, account_id: int, me: Actor, values: dict[str, Any]) -> None:
    """Apply update_credentials' parameters (text, fields_attributes, source[...], avatar and
    header files) to the account and its actor, and send the actor's Update to its followers:
    for the client API and the web's profile form alike. ApiError (nothing written) if a value
    is refused. An empty `avatar` or `header` (a form's file input left blank) changes nothing."""
    images = {name: values.pop(name) for name in ("avatar", "header") if name in values}
    actor_changes, account_changes = _profile_change(values)
    fed = request.app[FEDERATION]
    async with AsyncExitStack() as uploads:  # stored images are removed again if the update fails
        for name, field in images.items():
            if isinstance(field, (str, bytes, bytearray)) and not field:  # a file input left blank: no file part
                continue
            if not isinstance(field, FileField):
                raise ApiError(422, f"Validation failed: {name} must be an image file (multipart)")
            data = field.file.read()
            try:
                stored = await uploads.enter_async_context(request.app[MEDIA_STORE].ingest(data))
            except MediaError as exc:
                raise ApiError(413 if isinstance(exc, MediaTooLarge) else 422, f"Validation failed: {name}: {exc}") from exc
            actor_changes[f"{name}_url"] = media_url(fed.urls.base, stored.file_name)
        await _save_profile(fed, account_id, me, actor_changes, account_changes)
    request.app[ACTOR_DOCUMENTS].invalidate(me.username)


async def _save_profile(fed, account_id: int, me: Actor, actor_changes: dict[str, Any],
                        account_changes: dict[str, Any]) -> None:
    async with fed.transaction() as session:
        actor = await actor_queries.actor_by_id(session, me.id)
        account = await actor_queries.account_by_id(session, account_id)
        for name, value in actor_changes.items():
            setattr(actor, name, value)
        if "preferences" in account_changes:
            account_changes["preferences"] = {**(account.preferences or {}), **account_changes["preferences"]}
        for name, value in account_changes.items():
            setattr(account, name, value)
        await relations.update_profile(fed, session, actor)


def setup(app: web.Application) -> None:
    add_route(app, "GET", "/api/v1/accounts/verify_credentials", verify_credentials)
    add_route(app, "PATCH", "/api/v1/accounts/update_credentials", update_credentials)
