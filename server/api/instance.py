"""Mastodon client API: what a client asks a server before anything else. The instance
(`/api/v1/instance`, `/api/v2/instance`), its peers and rules, and a user's
preferences and read markers.

The instance documents are public, in every mode (an app reads them before anyone logs in), and
built from settings and a few counts. The peers list goes through the federation policy, so it
never names a blocked domain. Who may read it is the read rule's (federation.social.access.may_read):
anyone, but only admins in allowlist mode, where the list names the consortium. The v1
document's domain count is that list's length, so it is shown exactly where anyone may read the
list (elsewhere it is 0). The contact account is shown as Mastodon shows it, in every mode
(limited federation mode included): an app shows who runs the server before anyone logs in; it
is an account entity, never its posts.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from federation.social import polls
from federation.social.media import DESCRIPTION_MAX
from server.api.push import server_key
from server.api.auth import ApiError
from federation.social.access import Reader, Reads
from server.access import allows
from server.api.common import add_route, api, viewer
from server.api.entities import iso, render
from server.api.params import params
from federation.outbox.actions import MAX_PINS
from federation.social.tags import MAX_FEATURED_TAGS
from server.api.statuses import MAX_MEDIA
from server.appkeys import CLOCK, DATABASE, FEDERATION, SETTINGS
from server.config import Settings
from server.profile import profile
from federation.admin.instance import INVITE_ONLY, OPEN, Profile
from server.responses import json_response
from server.version import VERSION
from storage import actors as actor_queries
from storage import instance_api as queries
from storage import objects as object_queries
from storage.models import Marker

MASTODON_VERSION = "4.3.0"  # the Mastodon release whose client API this one follows
# api_versions.mastodon: Mastodon numbers its client API's capabilities (docs: entities/Instance,
# "api_versions"): 2 = 4.3's grouped notifications (/api/v2/notifications, the notification
# policy and requests); 3 = account attribution_domains (in `source`); 4 = DELETE
# /statuses/:id?delete_media; 5 = filter_action `blur`; 7 = 4.5's quote posts (FEP-044f), the
# level clients look for before they offer quoting. All of these are served (issue 17).
API_VERSION = 7
CHARACTERS_RESERVED_PER_URL = 23
LANGUAGES = ["en"]
REGISTRATIONS_MESSAGE = "Accounts on this server are created by its administrators."
INVITES_MESSAGE = "Accounts on this server are opened by invitation."
MARKER_TIMELINES = ("home", "notifications")


def version_string() -> str:
    return f"{MASTODON_VERSION} (compatible; Rounds {VERSION})"


def streaming_url(settings: Settings) -> str:
    scheme = "wss" if urlsplit(settings.public_url).scheme == "https" else "ws"
    return f"{scheme}://{settings.authority}"


def _media_configuration(settings: Settings) -> dict[str, Any]:
    return {
        "supported_mime_types": settings.api.media_types.split(),
        "description_limit": DESCRIPTION_MAX,
        "image_size_limit": settings.api.media_max_bytes,
        "image_matrix_limit": settings.api.media_max_pixels,
        # no video or audio is accepted; the limits say so to clients that read them
        "video_size_limit": 0, "video_frame_rate_limit": 0, "video_matrix_limit": 0,
    }


def _statuses_configuration(settings: Settings) -> dict[str, Any]:
    return {
        "max_characters": settings.api.status_max_characters,
        "max_media_attachments": MAX_MEDIA,
        "characters_reserved_per_url": CHARACTERS_RESERVED_PER_URL,
    }


async def _peers(request: web.Request, session: AsyncSession) -> list[str]:
    fed = request.app[FEDERATION]
    await fed.ensure_ready()
    own = request.app[SETTINGS].authority
    domains = await queries.known_domains(session)
    return sorted(d for d in domains if d != own and not d.startswith("*.") and fed.policy.allows(d))


def _rules(shown: Profile) -> list[dict[str, str]]:
    return [{"id": str(number), "text": text, "hint": ""} for number, text in enumerate(shown.rules, start=1)]


async def _contact(request: web.Request, session: AsyncSession) -> dict[str, Any] | None:
    actor = await queries.contact_actor(session)
    return None if actor is None else await render(request, None, lambda renderer: renderer.account(actor), session)


@api
async def instance_v1(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    shown = await profile(request)
    async with request.app[DATABASE].sessions() as session:
        users = await actor_queries.count_local_users(session)
        statuses = await object_queries.count_local_posts(session)
        # the count is the peers list's: shown where anyone may read that list
        domains = len(await _peers(request, session)) if allows(request, Reads.peers, Reader.anonymous) else 0
        contact = await _contact(request, session)
    return json_response({
        "uri": settings.authority,
        "title": shown.name,
        "short_description": shown.description,
        "description": shown.description,
        "email": shown.contact_email,
        "version": version_string(),
        "urls": {"streaming_api": streaming_url(settings)},
        "stats": {"user_count": users, "status_count": statuses, "domain_count": domains},
        "thumbnail": f"{settings.public_url}/static/header.png",
        "languages": LANGUAGES,
        "registrations": shown.registrations == OPEN,
        "approval_required": False,
        "invites_enabled": shown.registrations == INVITE_ONLY,
        "configuration": {
            "accounts": {"max_featured_tags": MAX_FEATURED_TAGS},
            "statuses": _statuses_configuration(settings),
            "media_attachments": _media_configuration(settings),
            "polls": polls.LIMITS.as_dict(),
        },
        "contact_account": contact,
        "rules": _rules(shown),
    })


@api
async def instance_v2(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    since = request.app[CLOCK].now() - timedelta(days=30)
    shown = await profile(request)
    async with request.app[DATABASE].sessions() as session:
        active = await actor_queries.count_local_users(session, active_since=since)
        contact = await _contact(request, session)
    return json_response({
        "domain": settings.authority,
        "title": shown.name,
        "version": version_string(),
        "source_url": "",
        "description": shown.description,
        "usage": {"users": {"active_month": active}},
        "thumbnail": {"url": f"{settings.public_url}/static/header.png", "blurhash": None, "versions": {}},
        "icon": [],
        "languages": LANGUAGES,
        "configuration": {
            "urls": {"streaming": streaming_url(settings), "status": None},
            "vapid": {"public_key": await server_key(request)},
            "accounts": {"max_featured_tags": MAX_FEATURED_TAGS, "max_pinned_statuses": MAX_PINS},
            "statuses": _statuses_configuration(settings),
            "media_attachments": _media_configuration(settings),
            "polls": polls.LIMITS.as_dict(),
            "translation": {"enabled": False},
        },
        "registrations": {"enabled": shown.registrations == OPEN, "approval_required": False,
                          "message": None if shown.registrations == OPEN else
                          INVITES_MESSAGE if shown.registrations == INVITE_ONLY else REGISTRATIONS_MESSAGE,
                          "url": None},
        "api_versions": {"mastodon": API_VERSION},
        "contact": {"email": shown.contact_email, "account": contact},
        "rules": _rules(shown),
    })


async def peers(request: web.Request) -> web.Response:
    async with request.app[DATABASE].sessions() as session:
        return json_response(await _peers(request, session))


async def rules(request: web.Request) -> web.Response:
    return json_response(_rules(await profile(request)))


async def extended_description(request: web.Request) -> web.Response:
    return json_response({"updated_at": None, "content": (await profile(request)).description})


@api
async def preferences(request: web.Request) -> web.Response:
    caller, _ = await viewer(request, "read:accounts")
    stored = caller.account.preferences or {}
    return json_response({
        "posting:default:visibility": stored.get("posting:default:visibility", "public"),
        "posting:default:sensitive": bool(stored.get("posting:default:sensitive", False)),
        "posting:default:language": stored.get("posting:default:language"),
        "reading:expand:media": stored.get("reading:expand:media", "default"),
        "reading:expand:spoilers": bool(stored.get("reading:expand:spoilers", False)),
    })


# --- markers ---------------------------------------------------------------------------------

def _marker_entity(marker: Marker) -> dict[str, Any]:
    return {"last_read_id": marker.last_read_id, "version": marker.version, "updated_at": iso(marker.updated_at)}


def _marker_updates(values: dict[str, Any]) -> dict[str, str]:
    """{timeline: last_read_id} from `home[last_read_id]=...` fields or `{"home": {...}}` JSON."""
    updates: dict[str, str] = {}
    for timeline in MARKER_TIMELINES:
        nested = values.get(timeline)
        value = nested.get("last_read_id") if isinstance(nested, dict) else values.get(f"{timeline}[last_read_id]")
        if value is None:
            continue
        value = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
        if not isinstance(value, str) or not value.isdigit() or len(value) > 32:
            raise ApiError(422, f"Validation failed: {timeline} last_read_id must be an id")
        updates[timeline] = value
    if not updates:
        raise ApiError(422, "Validation failed: give home[last_read_id] or notifications[last_read_id]")
    return updates


@api
async def get_markers(request: web.Request) -> web.Response:
    _, actor = await viewer(request, "read:statuses")
    asked = request.query.getall("timeline[]", []) + request.query.getall("timeline", [])
    wanted = [t for t in asked if t in MARKER_TIMELINES] if asked else None
    async with request.app[DATABASE].sessions() as session:
        rows = await queries.markers(session, actor.id, wanted)
    return json_response({marker.timeline: _marker_entity(marker) for marker in rows})


@api
async def save_markers(request: web.Request) -> web.Response:
    _, actor = await viewer(request, "write:statuses")
    updates = _marker_updates(await params(request))
    now = request.app[CLOCK].now()
    try:
        async with request.app[DATABASE].sessions.begin() as session:
            saved = [await queries.save_marker(session, actor.id, timeline, last_read_id, now)
                     for timeline, last_read_id in updates.items()]
            result = {marker.timeline: _marker_entity(marker) for marker in saved}
    except IntegrityError:
        raise ApiError(409, "Conflict during update, please try again") from None
    return json_response(result)


def setup(app: web.Application) -> None:
    add_route(app, "GET", "/api/v1/instance", instance_v1)
    add_route(app, "GET", "/api/v2/instance", instance_v2)
    add_route(app, "GET", "/api/v1/instance/peers", peers)
    add_route(app, "GET", "/api/v1/instance/rules", rules)
    add_route(app, "GET", "/api/v1/instance/extended_description", extended_description)
    add_route(app, "GET", "/api/v1/preferences", preferences)
    add_route(app, "GET", "/api/v1/markers", get_markers)
    add_route(app, "POST", "/api/v1/markers", save_markers)
