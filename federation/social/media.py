"""Uploaded media: sniff, validate, re-encode without metadata, thumbnail, blurhash, store.

The one decision to know: every stored image is *re-encoded* from decoded pixels, never copied.
That is what strips EXIF/XMP/comments (a hospital photo may carry GPS or a device serial) and
what guarantees that a file served from our origin is the image type we say it is. The type is
sniffed from the content, never from the client's file name or Content-Type. Orientation is
applied to the pixels before the EXIF goes; the ICC colour profile is kept so colours stay right.

Files live flat under `data_dir/media` with random names (`<token>.<ext>`, thumbnail
`<token>.small.<ext>`). A name is a capability, as on Mastodon: whoever has the URL may fetch
the file, in every mode (peers fetch attachments unsigned), so the token carries NAME_BYTES
(144) random bits and nothing ever lists the directory. `path_of` is the only way from a URL
name back to a file, and it accepts only names of the minted length. Decoding runs
in a thread, at most `concurrency` at a time, so a large upload cannot stall the event loop.

`sweep` removes what no post shows any more, a day on: uploads never attached, and the media of
deleted posts (kept that long so that "delete and redraft" can attach them again, as Mastodon
does; a client asks for `delete_media` to have them gone at once, see `remove_attached`).
"""

from __future__ import annotations

import asyncio
import io
import math
import os
import re
import secrets
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import blurhash
from PIL import Image, ImageOps, ImageSequence
from sqlalchemy.ext.asyncio import AsyncSession

from federation.protocol.vocab.parse import Attachment
from federation.protocol.vocab.render import media_to_ap
from storage.ids import parse_id
from storage.media import add_media, attached_media, delete_media, owned_media, stale_media
from storage.models import Actor, Media, Object
from storage.posts import post_by_id

DESCRIPTION_MAX = 1500          # characters, as Mastodon
SMALL_PIXELS = 640 * 360        # the preview's area bound, as Mastodon's "small"
BLURHASH_COMPONENTS = (4, 3)
AP_CONTEXT_TERMS = {"toot": "http://joinmastodon.org/ns#", "blurhash": "toot:blurhash",
                    "focalPoint": {"@container": "@list", "@id": "toot:focalPoint"}}

# magic prefix -> (Pillow format, MIME type, extension)
_SIGNATURES = (
    (b"\xff\xd8\xff", ("JPEG", "image/jpeg", "jpg")),
    (b"\x89PNG\r\n\x1a\n", ("PNG", "image/png", "png")),
    (b"GIF87a", ("GIF", "image/gif", "gif")),
    (b"GIF89a", ("GIF", "image/gif", "gif")),
)
CONTENT_TYPES = {"jpg": "image/jpeg", "png": "image/png", "gif": "image/gif", "webp": "image/webp"}
NAME_BYTES = 18  # 144 random bits: a media URL is unguessable
NAME_CHARS = math.ceil(NAME_BYTES * 8 / 6)  # 24: NAME_BYTES in unpadded base64url
_NAME_RE = re.compile(rf"[A-Za-z0-9_-]{{{NAME_CHARS}}}(?:\.small)?\.(jpg|png|gif|webp)")


class MediaError(Exception):
    """An upload or edit we refuse; the message is for the person who sent it."""


class MediaTooLarge(MediaError):
    pass


class UnsupportedMedia(MediaError):
    pass


class InvalidMedia(MediaError):
    pass


@dataclass(frozen=True)
class MediaLimits:
    max_bytes: int
    types: frozenset[str]       # accepted MIME types
    max_pixels: int             # width x height (x frames, for an animation)


@dataclass(frozen=True)
class StoredImage:
    mime_type: str
    file_name: str
    thumbnail_name: str
    size: int                   # bytes of the stored (re-encoded) original
    width: int
    height: int
    blurhash: str


def sniff(data: bytes) -> tuple[str, str, str] | None:
    """(Pillow format, MIME type, extension) from the first bytes, or None."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP", "image/webp", "webp"
    return next((kind for magic, kind in _SIGNATURES if data.startswith(magic)), None)


def small_size(width: int, height: int) -> tuple[int, int]:
    """The preview's dimensions: the original scaled down to at most SMALL_PIXELS."""
    if width * height <= SMALL_PIXELS:
        return width, height
    scale = math.sqrt(SMALL_PIXELS / (width * height))
    return max(1, int(width * scale)), max(1, int(height * scale))


def media_url(base_url: str, name: str) -> str:
    return f"{base_url}/media/{name}"


def media_to_ap_attachment(media: Media, base_url: str) -> dict[str, Any]:
    """A local upload as the `attachment` item of a Note (its terms are in AP_CONTEXT_TERMS)."""
    return media_to_ap(media, media_url(base_url, media.file_name))


def parse_focus(value: str) -> tuple[float, float]:
    """Mastodon's focal point "x,y", each from -1.0 to 1.0 (x right, y up)."""
    try:
        x, y = (float(part) for part in value.split(","))
    except ValueError:
        raise InvalidMedia(f"focus must be two numbers 'x,y', not {value[:40]!r}") from None
    if not (-1.0 <= x <= 1.0 and -1.0 <= y <= 1.0):
        raise InvalidMedia("focus x and y must each be between -1.0 and 1.0")
    return x, y


def check_description(value: str) -> str:
    if len(value) > DESCRIPTION_MAX:
        raise InvalidMedia(f"the description is longer than {DESCRIPTION_MAX} characters")
    return value


class MediaStore:
    """The media directory and the limits that apply to what goes into it."""

    def __init__(self, root: Path, limits: MediaLimits, *, concurrency: int = 2) -> None:
        self.root = root
        self.limits = limits
        self._slots = asyncio.Semaphore(concurrency)

    def path_of(self, name: str) -> Path | None:
        """The file behind a /media/ URL name, or None: only names we mint can match."""
        if not _NAME_RE.fullmatch(name):
            return None
        path = self.root / name
        return path if path.is_file() else None

    @asynccontextmanager
    async def ingest(self, data: bytes) -> AsyncIterator[StoredImage]:
        """Validate and store `data`; if the body of the `async with` fails (say the row cannot
        be committed), the files are removed again."""
        if len(data) > self.limits.max_bytes:
            raise MediaTooLarge(f"the file is larger than {self.limits.max_bytes} bytes")
        async with self._slots:
            work = asyncio.ensure_future(asyncio.to_thread(self._store, data))
            try:
                stored = await asyncio.shield(work)
            except asyncio.CancelledError:
                # the thread runs on; whatever it stores, nobody will know its name
                work.add_done_callback(self._discard_result)
                raise
        try:
            yield stored
        except BaseException:
            self.discard(stored)
            raise

    def _discard_result(self, work: asyncio.Future) -> None:
        if not work.cancelled() and work.exception() is None:
            self.discard(work.result())

    def discard(self, stored: StoredImage) -> None:
        for name in (stored.file_name, stored.thumbnail_name):
            with suppress(FileNotFoundError):
                (self.root / name).unlink()

    def _store(self, data: bytes) -> StoredImage:
        kind = sniff(data)
        accepted = ", ".join(sorted(self.limits.types))
        if kind is None:
            raise UnsupportedMedia(f"the file is not an image of a supported type ({accepted})")
        fmt, mime, ext = kind
        if mime not in self.limits.types:
            raise UnsupportedMedia(f"{mime} is not accepted here ({accepted})")
        original, (thumbnail, small_ext), width, height, hash_ = _process(data, fmt, self.limits.max_pixels)
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        token = secrets.token_urlsafe(NAME_BYTES)
        names = (f"{token}.{ext}", f"{token}.small.{small_ext}")
        written: list[Path] = []
        try:
            for name, content in zip(names, (original, thumbnail)):
                path = self.root / name
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                written.append(path)
                with os.fdopen(fd, "wb") as out:
                    out.write(content)
        except BaseException:
            for path in written:
                with suppress(FileNotFoundError):
                    path.unlink()
            raise
        return StoredImage(mime, names[0], names[1], len(original), width, height, hash_)


def _process(data: bytes, fmt: str, max_pixels: int) -> tuple[bytes, tuple[bytes, str], int, int, str]:
    """(original re-encoded, (thumbnail, its extension), width, height, blurhash) of an image."""
    try:
        image = Image.open(io.BytesIO(data), formats=[fmt])
        # a phone's JPEG may hold more pictures (MPO); the first is the photo, the rest are dropped
        frames = 1 if fmt == "JPEG" else getattr(image, "n_frames", 1)
        if image.width * image.height * frames > max_pixels:
            raise InvalidMedia(f"the image has more than {max_pixels} pixels"
                               + (" over all its frames" if frames > 1 else ""))
        image.load()
        if frames > 1:
            original, first = _reencode_animation(image, fmt)
        else:
            first = ImageOps.exif_transpose(image)
            original = _reencode(first, fmt, image.info.get("icc_profile"))
        thumbnail = _thumbnail(first)
        hash_ = _blurhash(first)
    except MediaError:
        raise
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError) as exc:
        raise UnsupportedMedia(f"the file could not be read as an image ({exc.__class__.__name__})") from None
    return original, thumbnail, first.width, first.height, hash_


def _reencode(image: Image.Image, fmt: str, icc: bytes | None) -> bytes:
    # Only pixels, transparency and the colour profile survive; EXIF, XMP, text chunks and
    # comments are dropped with the rest of `info`.
    image.info = {k: v for k, v in image.info.items() if k == "transparency"}
    options: dict[str, Any] = {"icc_profile": icc} if icc and fmt != "GIF" else {}
    if fmt == "JPEG":
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        options |= {"quality": 90, "optimize": True}
    elif fmt == "WEBP":
        options |= {"quality": 90}
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


def _reencode_animation(image: Image.Image, fmt: str) -> tuple[bytes, Image.Image]:
    frames, durations = [], []
    for frame in ImageSequence.Iterator(image):
        durations.append(frame.info.get("duration", 100))
        rgba = frame.convert("RGBA")
        rgba.info = {}
        frames.append(rgba)
    out = io.BytesIO()
    options: dict[str, Any] = {"disposal": 2} if fmt == "GIF" else {"quality": 90} if fmt == "WEBP" else {}
    frames[0].save(out, format=fmt, save_all=True, append_images=frames[1:], duration=durations,
                   loop=image.info.get("loop", 0), **options)
    return out.getvalue(), frames[0]


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info


def _thumbnail(image: Image.Image) -> tuple[bytes, str]:
    """A PNG if the image has transparency, else a JPEG."""
    alpha = _has_alpha(image)
    small = image.convert("RGBA" if alpha else "RGB").resize(
        small_size(image.width, image.height), Image.Resampling.LANCZOS, reducing_gap=3.0)
    out = io.BytesIO()
    if alpha:
        small.save(out, format="PNG", optimize=True)
        return out.getvalue(), "png"
    small.save(out, format="JPEG", quality=85, optimize=True)
    return out.getvalue(), "jpg"


def _blurhash(image: Image.Image) -> str:
    tiny = image.convert("RGBA")
    tiny.thumbnail((32, 32), Image.Resampling.BOX)
    flat = Image.new("RGBA", tiny.size, "white")
    flat.alpha_composite(tiny)
    width, raw = flat.width, flat.convert("RGB").tobytes()
    rows = [[raw[i:i + 3] for i in range(start, start + 3 * width, 3)]
            for start in range(0, len(raw), 3 * width)]
    return blurhash.encode(rows, *BLURHASH_COMPONENTS)


def new_media(session: AsyncSession, actor_id: int, stored: StoredImage, *, description: str,
              focus: tuple[float, float], now: datetime) -> Media:
    """The row for a stored upload, added to the caller's session (unattached)."""
    return add_media(session, Media(actor_id=actor_id, object_id=None, type="image", mime_type=stored.mime_type,
                  file_name=stored.file_name, thumbnail_name=stored.thumbnail_name, size=stored.size,
                  width=stored.width, height=stored.height, blurhash=stored.blurhash,
                  description=check_description(description), focus_x=focus[0], focus_y=focus[1],
                  created_at=now))


async def attachable(session: AsyncSession, author: Actor, media_ids: Iterable[str], post: Object | None) -> list[Media]:
    """The author's uploads to attach to `post` (or to a new post), in the order asked: each
    unattached, already on `post`, or left on a post she deleted ("delete and redraft"), and none
    a scheduled post holds. InvalidMedia names the first that is none of these."""
    rows = []
    for media_id in media_ids:
        media = await owned_media(session, author.id, parsed) if (parsed := parse_id(media_id)) is not None else None
        if media is None or media.scheduled_id is not None or not (media.object_id in (None, post.id if post else None)
                                 or (await post_by_id(session, media.object_id)).deleted_at is not None):
            raise InvalidMedia(f"media {media_id} cannot be attached")
        rows.append(media)
    return rows


async def attach(session: AsyncSession, post: Object, media: list[Media]) -> None:
    """Make `media` the uploads of `post`; any it had before and lost are detached, so the post
    shows what its author chose (its edit history keeps what they were)."""
    for row in await attached_media(session, post.id):
        if row not in media:
            row.object_id = None
    for row in media:
        row.object_id = post.id


def stored_attachment(media: Media, base_url: str) -> dict[str, Any]:
    """An upload in the shape posts keep their attachments in (see
    federation.protocol.vocab.parse.Attachment)."""
    return Attachment(type="Document", url=media_url(base_url, media.file_name), media_type=media.mime_type,
                      name=media.description or None, blurhash=media.blurhash, width=media.width,
                      height=media.height).as_dict()


def update_media(media: Media, *, description: str | None, focus: tuple[float, float] | None) -> None:
    """Change the description or focal point of an upload that is not attached to a post yet."""
    if media.object_id is not None:
        raise InvalidMedia("this media is attached to a post; edit the post to change it")
    describe(media, description=description, focus=focus)


def describe(media: Media, *, description: str | None, focus: tuple[float, float] | None) -> None:
    """Change the description or focal point of an upload (an attached one: by its post's edit)."""
    if description is not None:
        media.description = check_description(description)
    if focus is not None:
        media.focus_x, media.focus_y = focus


UNATTACHED_FOR = timedelta(days=1)  # as long as a client may take between upload and post


async def sweep(session: AsyncSession, root: Path, now: datetime, limit: int = 100) -> int:
    """Remove up to `limit` media unattached, or attached to a deleted post, for longer than
    UNATTACHED_FOR; how many. The caller commits."""
    before = now - UNATTACHED_FOR
    return await _remove(session, root, await stale_media(session, before, limit))


async def remove_attached(session: AsyncSession, root: Path, object_id: int) -> None:
    """Remove a deleted post's media now, rather than at the next sweep. The caller commits."""
    await _remove(session, root, await attached_media(session, object_id))


async def _remove(session: AsyncSession, root: Path, gone: list[Media]) -> int:
    """Files first: if the transaction then fails, the rows are found again and the files are
    already gone, so nothing stays reachable."""
    for media in gone:
        for name in (media.file_name, media.thumbnail_name):
            if name and _NAME_RE.fullmatch(name):
                with suppress(FileNotFoundError):
                    (root / name).unlink()
    if gone:
        await delete_media(session, [m.id for m in gone])
    return len(gone)
