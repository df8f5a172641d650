"""Mastodon entities (Account, Status, Notification, Relationship) rendered from rows.

`Renderer` renders many at once for one viewer: it loads counts, flags, mentions, tags, media
and the accounts involved in a fixed number of queries, whatever the page size. A status's
`reblog` is the boosted status; a boost's own id is its Announce row's id, so boosts and posts
share one id space and page together.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from federation.urls import LocalUrls
from server.api import media as media_api
from storage import statuses as q
from storage.models import Actor, ActorType, Announce, Notification, Object, Visibility

BOT_TYPES = frozenset({ActorType.Service, ActorType.Application})


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:  # a naive value is UTC here (SQLite stores no zone)
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def remote_attachment_entity(attachment: dict[str, Any], index: int, object_id: int) -> dict[str, Any]:
    mime = attachment.get("media_type") or ""
    kind = mime.split("/")[0] if mime.split("/")[0] in ("image", "video", "audio") else "unknown"
    meta: dict[str, Any] = {}
    if attachment.get("width") and attachment.get("height"):
        w, h = attachment["width"], attachment["height"]
        meta["original"] = {"width": w, "height": h, "size": f"{w}x{h}", "aspect": w / h}
    return {
        "id": f"{object_id}{index:02d}", "type": kind, "url": attachment["url"], "preview_url": attachment["url"],
        "remote_url": attachment["url"], "text_url": None, "meta": meta,
        "description": attachment.get("name"), "blurhash": attachment.get("blurhash"),
    }


class Renderer:
    def __init__(self, session: AsyncSession, urls: LocalUrls, viewer: Actor | None) -> None:
        self.session = session
        self.urls = urls
        self.viewer = viewer

    # --- accounts ---------------------------------------------------------------------------

    async def accounts(self, actors: list[Actor]) -> list[dict[str, Any]]:
        counts = await q.actor_counts(self.session, {a.id for a in actors})
        return [self._account(a, counts[a.id]) for a in actors]

    async def account(self, actor: Actor) -> dict[str, Any]:
        return (await self.accounts([actor]))[0]

    def _account(self, actor: Actor, counts: tuple) -> dict[str, Any]:
        followers, following, statuses, last_status = counts
        avatar = actor.avatar_url or f"{self.urls.base}/static/avatar.png"
        header = actor.header_url or f"{self.urls.base}/static/header.png"
        return {
            "id": str(actor.id),
            "username": actor.username,
            "acct": actor.username if actor.local else f"{actor.username}@{actor.domain}",
            "display_name": actor.display_name,
            "locked": actor.manually_approves_followers,
            "bot": actor.type in BOT_TYPES,
            "group": actor.type is ActorType.Group,
            "discoverable": actor.discoverable,
            "indexable": actor.discoverable,
            "noindex": not actor.discoverable,
            "created_at": iso(actor.published.replace(hour=0, minute=0, second=0, microsecond=0)),
            "note": actor.summary,
            "url": actor.url or actor.uri,
            "uri": actor.uri,
            "avatar": avatar, "avatar_static": avatar,
            "header": header, "header_static": header,
            "followers_count": followers,
            "following_count": following,
            "statuses_count": statuses,
            "last_status_at": last_status.date().isoformat() if last_status else None,
            "emojis": [],
            "fields": [{"name": f.get("name", ""), "value": f.get("value", ""), "verified_at": None}
                       for f in actor.fields or []],
        }

    # --- statuses ---------------------------------------------------------------------------

    async def statuses(self, items: list[Object | Announce]) -> list[dict[str, Any]]:
        """Posts and boosts, in the order given."""
        boosts = [i for i in items if isinstance(i, Announce)]
        objects = {o.id: o for o in items if isinstance(o, Object)}
        boosted = await q.objects_by_id(self.session, {b.object_id for b in boosts})
        # only public and unlisted posts can be boosted; anything else is never shown as one
        objects.update({i: o for i, o in boosted.items() if o.visibility in (Visibility.public, Visibility.unlisted)})
        rendered = await self._posts([o for o in objects.values() if o.deleted_at is None])
        boosters = await q.actors_by_id(self.session, {b.actor_id for b in boosts})
        booster_entities = dict(zip(boosters.keys(), await self.accounts(list(boosters.values()))))
        out = []
        for item in items:
            if isinstance(item, Object):
                if item.id in rendered:
                    out.append(rendered[item.id])
            elif item.object_id in rendered:
                inner = rendered[item.object_id]
                out.append({
                    **inner, "id": str(item.id), "uri": item.uri, "url": item.uri, "created_at": iso(item.created_at),
                    "account": booster_entities[item.actor_id], "reblog": inner, "content": "", "spoiler_text": "",
                    "media_attachments": [], "mentions": [], "tags": [], "in_reply_to_id": None,
                    "in_reply_to_account_id": None, "edited_at": None, "visibility": "public" if item.public else "unlisted",
                })
        return out

    async def status(self, item: Object) -> dict[str, Any]:
        return (await self.statuses([item]))[0]

    async def _posts(self, objects: list[Object]) -> dict[int, dict[str, Any]]:
        ids = {o.id for o in objects}
        authors = await q.actors_by_id(self.session, {o.actor_id for o in objects})
        author_entities = dict(zip(authors.keys(), await self.accounts(list(authors.values()))))
        counts = await q.object_counts(self.session, objects)
        flags = await q.viewer_flags(self.session, self.viewer.id if self.viewer else None, ids)
        mentions = await q.mentions_of(self.session, ids)
        tags = await q.tags_of(self.session, ids)
        media = await q.media_of(self.session, ids)
        parents = await q.objects_by_uri(self.session, {o.in_reply_to_uri for o in objects if o.in_reply_to_uri})
        result = {}
        for o in objects:
            replies, reblogs, favourites = counts[o.id]
            parent = parents.get(o.in_reply_to_uri) if o.in_reply_to_uri else None
            attachments = [media_api.media_entity(m, self.urls.base) for m in media.get(o.id, [])]
            if not o.local:
                attachments = [remote_attachment_entity(a, n, o.id) for n, a in enumerate(o.attachments or [])]
            result[o.id] = {
                "id": str(o.id),
                "created_at": iso(o.published),
                "in_reply_to_id": str(parent.id) if parent else None,
                "in_reply_to_account_id": str(parent.actor_id) if parent else None,
                "sensitive": o.sensitive,
                "spoiler_text": o.summary,
                "visibility": o.visibility.value,
                "language": o.language,
                "uri": o.uri,
                "url": o.url or o.uri,
                "replies_count": replies,
                "reblogs_count": reblogs,
                "favourites_count": favourites,
                "edited_at": iso(o.updated),
                "favourited": o.id in flags["favourited"],
                "reblogged": o.id in flags["reblogged"],
                "muted": False,
                "bookmarked": o.id in flags["bookmarked"],
                "pinned": o.id in flags["pinned"],
                "content": o.content,
                "filtered": [],
                "reblog": None,
                "application": None,
                "account": author_entities[o.actor_id],
                "media_attachments": attachments,
                "mentions": [
                    {"id": str(a.id), "username": a.username, "url": a.url or a.uri,
                     "acct": a.username if a.local else f"{a.username}@{a.domain}"}
                    for a in mentions.get(o.id, [])
                ],
                "tags": [{"name": t, "url": f"{self.urls.base}/tags/{t}"} for t in tags.get(o.id, [])],
                "emojis": [],
                "card": None,
                "poll": None,
            }
        return result

    # --- notifications ----------------------------------------------------------------------

    async def notifications(self, rows: list[Notification]) -> list[dict[str, Any]]:
        senders = await q.actors_by_id(self.session, {n.from_actor_id for n in rows})
        sender_entities = dict(zip(senders.keys(), await self.accounts(list(senders.values()))))
        objects = await q.objects_by_id(self.session, {n.object_id for n in rows if n.object_id})
        live = [o for o in objects.values() if o.deleted_at is None]
        statuses = dict(zip([o.id for o in live], await self.statuses(live)))
        kinds = {"follow_request": "follow_request"}
        return [
            {
                "id": str(n.id), "type": kinds.get(n.type.value, n.type.value), "created_at": iso(n.created_at),
                "account": sender_entities[n.from_actor_id],
                "status": statuses.get(n.object_id) if n.object_id else None,
            }
            for n in rows if n.from_actor_id in sender_entities
        ]
