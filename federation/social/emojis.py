"""Custom emojis: the admin's (added from the CLI or the admin API, an image stored like an
upload) and those peers use (kept from the Emoji tags of the posts and actors they send, so that
`:shortcode:` in their text shows as they wrote it). Ours go out as Emoji tags of the posts and
actors that use them (`tags_for`), so peers show them too.

The decision to know: a `:shortcode:` in a text is only ever looked up among the emojis of its
author's own server (ours for a local author, the peer's for a remote one), never another's, so
a peer cannot make its shortcode show in someone else's post.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from contextlib import suppress
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from federation.admin.audit import audit
from federation.protocol.urls import LocalUrls
from federation.protocol.vocab.emojis import SHORTCODE, emoji_tags, emoji_to_ap
from federation.social.media import MediaError, MediaStore, media_url
from storage import emojis as queries
from storage.db import after_commit
from storage.models import Actor, CustomEmoji

IN_TEXT = re.compile(r":([A-Za-z0-9_]{2,64}):")
CATEGORY_MAX = 64


class EmojiError(Exception):
    """An emoji refused: a bad shortcode, one taken, an image that is not one, or none to remove."""


def shortcodes_in(*texts: str | None) -> set[str]:
    return {code for text in texts if text for code in IN_TEXT.findall(text)}


def domain_of(author: Actor) -> str:
    """Whose emojis an author's text uses: ours (local), or her server's."""
    return queries.LOCAL if author.local else author.domain or ""


async def add(session: AsyncSession, store: MediaStore, shortcode: str, data: bytes, *, category: str | None,
              by: str, at: datetime) -> CustomEmoji:
    """Add one of our emojis: the image is checked and stored as an upload is; audited."""
    shortcode = shortcode.strip(":")
    if not SHORTCODE.fullmatch(shortcode):
        raise EmojiError(f"{shortcode!r} is not a shortcode: 2 to 64 letters, digits or underscores")
    if category is not None and len(category) > CATEGORY_MAX:
        raise EmojiError(f"the category is longer than {CATEGORY_MAX} characters")
    if await queries.local_emoji(session, shortcode) is not None:
        raise EmojiError(f"there is already an emoji :{shortcode}:")
    try:
        async with store.ingest(data) as stored:
            emoji = await queries.add_emoji(session, CustomEmoji(
                shortcode=shortcode, domain=queries.LOCAL, file_name=stored.file_name,
                static_file_name=stored.thumbnail_name, mime_type=stored.mime_type, category=category or None,
                visible_in_picker=True, size=stored.size, created_at=at, updated_at=at))
    except MediaError as exc:
        raise EmojiError(str(exc)) from exc
    await audit(session, by=by, action="emoji.add", subject=f":{shortcode}:", before=None,
                after={"category": category}, reason="", at=at)
    return emoji


async def remove(session: AsyncSession, store: MediaStore, shortcode: str, *, by: str, at: datetime) -> None:
    """Remove one of our emojis and its files; audited. Posts that used it show the shortcode."""
    shortcode = shortcode.strip(":")
    emoji = await queries.local_emoji(session, shortcode)
    if emoji is None:
        raise EmojiError(f"there is no emoji :{shortcode}:")
    await queries.delete_emoji(session, emoji)

    def unlink() -> None:
        for name in (emoji.file_name, emoji.static_file_name):
            path = store.path_of(name) if name else None
            if path is not None:
                with suppress(FileNotFoundError):
                    path.unlink()
    after_commit(session, unlink)  # the files go once the row has gone
    await audit(session, by=by, action="emoji.remove", subject=f":{shortcode}:", before={"category": emoji.category},
                after=None, reason="", at=at)


def emoji_document(emoji: CustomEmoji, urls: LocalUrls) -> dict[str, Any]:
    """One of ours, as its tag in a document that uses it (without the @context) or, with it,
    as its own document."""
    return emoji_to_ap(urls.emoji(emoji.id), emoji.shortcode, media_url(urls.base, emoji.file_name or ""),
                       emoji.mime_type or "image/png", emoji.updated_at)


async def tags_for(session: AsyncSession, author: Actor, urls: LocalUrls, *texts: str | None) -> list[dict[str, Any]]:
    """The Emoji tags of ours a local author's texts use, for the documents peers get (a post,
    its edit, her actor), so their servers show the images; none for a peer's author."""
    if not author.local:
        return []
    return [emoji_document(emoji, urls)
            for emoji in await queries.local_emojis_named(session, shortcodes_in(*texts)) if emoji.file_name]


async def actor_tags(session: AsyncSession, actor: Actor, urls: LocalUrls, *more: str) -> list[dict[str, Any]]:
    """`tags_for` a local actor's name, summary and profile fields (and `more`: a community's rules)."""
    fields = [text for field in actor.fields or [] for text in (field.get("name"), field.get("value"))]
    return await tags_for(session, actor, urls, actor.display_name, actor.summary, *fields, *more)


async def local(session: AsyncSession) -> list[CustomEmoji]:
    return await queries.local_emojis(session)


async def keep_remote(session: AsyncSession, author: Actor, documents: Iterable[dict], now: datetime) -> None:
    """Keep the Emoji tags of documents a remote `author` sent (a post, an edit), as her
    server's emojis. (Her actor's are kept where it is stored: federation.remote.actors.)"""
    if author.local or not author.domain:
        return
    found = [(tag.shortcode, tag.url) for document in documents for tag in emoji_tags(document or {})]
    await queries.keep_remote_emojis(session, author.domain, found, now)
