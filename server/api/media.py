"""Mastodon client API: media uploads (POST /api/v2/media, the older POST /api/v1/media),
GET/PUT /api/v1/media/:id, and the files themselves at GET /media/{name}.

An upload is larger than the app's `client_max_size`, so the upload route streams the multipart
body itself with `read_chunk`, counting bytes against `api.media_max_bytes`; nothing touches
the disk until the whole file is in and `federation.social.media` has decoded it. Images are processed
synchronously, so both POST versions answer 200 with `url` set (Mastodon's 202 is for video).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from collections.abc import Callable
from typing import Any

from aiohttp import BodyPartReader, MultipartReader, web
from multidict import MultiDict

from federation.social.media import (
    CONTENT_TYPES,
    InvalidMedia,
    MediaError,
    MediaLimits,
    MediaStore,
    MediaTooLarge,
    check_description,
    media_url,
    new_media,
    owned_media,
    parse_focus,
    small_size,
    update_media,
)
from server.api.auth import ApiError
from server.api.common import add_route, api, viewer
from server.api.params import params
from server.appkeys import CLOCK, DATABASE, SETTINGS, URLS
from server.config import Settings
from server.responses import json_response
from storage.models import Actor, Media

log = logging.getLogger(__name__)

MEDIA_STORE = web.AppKey("media_store", MediaStore)
FIELD_MAX_BYTES = 64 * 1024     # any multipart part other than the file
CHUNK = 64 * 1024


def _meta(width: int, height: int) -> dict[str, Any]:
    return {"width": width, "height": height, "size": f"{width}x{height}", "aspect": width / height}


def media_entity(media: Media, base_url: str) -> dict[str, Any]:
    """A local upload as Mastodon's MediaAttachment."""
    url = media_url(base_url, media.file_name)
    meta: dict[str, Any] = {}
    if media.width and media.height:
        meta = {"original": _meta(media.width, media.height), "small": _meta(*small_size(media.width, media.height))}
    meta["focus"] = {"x": media.focus_x, "y": media.focus_y}
    return {
        "id": str(media.id), "type": media.type, "url": url,
        "preview_url": media_url(base_url, media.thumbnail_name) if media.thumbnail_name else url,
        "remote_url": None, "preview_remote_url": None, "text_url": None, "meta": meta,
        "description": media.description or None, "blurhash": media.blurhash,
    }


@dataclass(frozen=True)
class Upload:
    data: bytes
    description: str
    focus: tuple[float, float]


async def _read_part(part: BodyPartReader, cap: int, what: str) -> bytes:
    data = bytearray()
    while chunk := await part.read_chunk(CHUNK):
        data += chunk
        if len(data) > cap:
            raise MediaTooLarge(f"{what} is larger than {cap} bytes")
    return bytes(data)


async def read_multipart(reader: MultipartReader, max_bytes: int, keep: Callable[[str], bool]
                         ) -> tuple[MultiDict[str], bytes | None]:
    """A multipart form read as a stream with our own caps (client_max_size does not apply): the
    text fields `keep` names, and the field `file` (None if absent). Every other part is read
    under its cap and dropped. Also the web pages' compose form (server/web/compose.py)."""
    fields: MultiDict[str] = MultiDict()
    data: bytes | None = None
    total = 0
    try:
        async for part in reader:
            if not isinstance(part, BodyPartReader):
                raise ApiError(422, "Validation failed: nested multipart bodies are not supported")
            if part.name == "file":
                raw = data = await _read_part(part, max_bytes, "the file")
            else:  # a `thumbnail` (Mastodon's custom preview, for audio and video) is read and ignored
                cap = max_bytes if part.name == "thumbnail" else FIELD_MAX_BYTES
                raw = await _read_part(part, cap, f"the field {part.name!r}")
                if part.name and keep(part.name):
                    fields.add(part.name, raw.decode("utf-8"))
            total += len(raw)
            if total > max_bytes + FIELD_MAX_BYTES:
                raise MediaTooLarge(f"the upload is larger than {max_bytes + FIELD_MAX_BYTES} bytes")
    except (ValueError, UnicodeDecodeError) as exc:  # a malformed body or a field not in UTF-8
        raise ApiError(400, f"the multipart body could not be read: {exc}") from None
    return fields, data


def check_multipart(request: web.Request, max_bytes: int) -> None:
    """Refuse, before reading it, a body that is not multipart or says it is too large."""
    if request.content_type != "multipart/form-data":
        raise ApiError(422, "Validation failed: send the file as multipart/form-data in the field 'file'")
    if request.content_length is not None and request.content_length > max_bytes + FIELD_MAX_BYTES:
        raise MediaTooLarge(f"the file is larger than {max_bytes} bytes")


async def _read_upload(request: web.Request, max_bytes: int) -> Upload:
    check_multipart(request, max_bytes)
    fields, data = await read_multipart(await request.multipart(), max_bytes, {"description", "focus"}.__contains__)
    if not data:
        raise ApiError(422, "Validation failed: File can't be blank (send it in the field 'file')")
    description = check_description(fields.get("description", request.query.get("description", "")))
    focus_text = fields.get("focus", request.query.get("focus", ""))
    return Upload(data, description, parse_focus(focus_text) if focus_text else (0.0, 0.0))


async def store_upload(request: web.Request, actor: Actor, upload: Upload) -> Media:
    """Decode and store an uploaded file, and its row; the files are removed again if the row
    cannot be committed. Raises MediaError."""
    async with (request.app[MEDIA_STORE].ingest(upload.data) as stored,
                request.app[DATABASE].sessions.begin() as session):
        return new_media(session, actor.id, stored, description=upload.description, focus=upload.focus,
                         now=request.app[CLOCK].now())


def _refusal(who: str, exc: MediaError) -> web.Response:
    status = 413 if isinstance(exc, MediaTooLarge) else 422
    log.info("media upload by %s refused (%d): %s", who, status, exc)
    return ApiError(status, f"Validation failed: {exc}" if status == 422 else str(exc)).response()


@api
async def upload(request: web.Request) -> web.Response:
    caller, actor = await viewer(request, "write:media")
    try:
        media = await store_upload(request, actor, await _read_upload(request, request.app[SETTINGS].api.media_max_bytes))
    except MediaError as exc:
        return _refusal(caller.account.username, exc)
    return json_response(media_entity(media, request.app[URLS].base))


def _media_id(request: web.Request) -> int:
    media_id = request.match_info["id"]
    if not media_id.isdigit() or len(media_id) > 19:
        raise ApiError(404, "Record not found")
    return int(media_id)


@api
async def show(request: web.Request) -> web.Response:
    _, actor = await viewer(request, "write:media")  # Mastodon asks for write:media here too
    async with request.app[DATABASE].sessions() as session:
        media = await owned_media(session, actor.id, _media_id(request))
    if media is None:
        raise ApiError(404, "Record not found")
    return json_response(media_entity(media, request.app[URLS].base))


@api
async def update(request: web.Request) -> web.Response:
    _, actor = await viewer(request, "write:media")
    media_id = _media_id(request)
    values = await params(request)
    description, focus = values.get("description"), values.get("focus")
    if not isinstance(description, str | None) or not isinstance(focus, str | None):
        raise ApiError(422, "Validation failed: description and focus must be text")
    try:
        focal_point = parse_focus(focus) if focus else None
        async with request.app[DATABASE].sessions.begin() as session:
            media = await owned_media(session, actor.id, media_id)
            if media is not None:  # an attached one raises InvalidMedia before any change
                update_media(media, description=description, focus=focal_point)
    except InvalidMedia as exc:
        raise ApiError(422, f"Validation failed: {exc}") from None
    if media is None:
        raise ApiError(404, "Record not found")
    return json_response(media_entity(media, request.app[URLS].base))


async def serve_file(request: web.Request) -> web.StreamResponse:
    """A stored file. Names are unguessable capabilities; only names we mint resolve, so no
    traversal is possible, and the type is fixed by the extension we chose."""
    name = request.match_info["name"]
    path = request.app[MEDIA_STORE].path_of(name)
    if path is None:
        raise web.HTTPNotFound()
    return web.FileResponse(path, headers={
        "Content-Type": CONTENT_TYPES[name.rsplit(".", 1)[1]],
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": "public, max-age=604800, immutable",
    })


def media_store(settings: Settings) -> MediaStore:
    """The media directory and its limits, as the settings say (the app's, and the CLI's)."""
    return MediaStore(settings.media_dir, MediaLimits(
        max_bytes=settings.api.media_max_bytes, types=frozenset(settings.api.media_types.split()),
        max_pixels=settings.api.media_max_pixels,
    ))


def setup(app: web.Application) -> None:
    """Register this module's routes."""
    app[MEDIA_STORE] = media_store(app[SETTINGS])
    add_route(app, "POST", "/api/v2/media", upload)
    add_route(app, "POST", "/api/v1/media", upload)  # deprecated in Mastodon, still used by clients
    add_route(app, "GET", "/api/v1/media/{id}", show)
    add_route(app, "PUT", "/api/v1/media/{id}", update)
    app.router.add_get("/media/{name}", serve_file)
