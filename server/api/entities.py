"""Mastodon entities (Account, Status, Notification, Relationship) rendered from rows.

`Renderer` renders many at once for one viewer: it loads counts, flags, mentions, tags, media
and the accounts involved in a fixed number of queries, whatever the page size. It is
synchronous, so that a rendering runs whole inside `Database.read`; handlers reach it through
`render`. A status's `reblog` is the boosted status; a boost's own id is its Announce row's id,
so boosts and posts share one id space and page together. A poll's id is its post's id; whether
it has expired is decided at `now`, the injected clock's time.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any, TypeVar

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from federation.social.access import is_ours
from federation.social.emojis import shortcodes_in
from federation.social.media import media_url
from federation.social import quotes
from federation.social.polls import expired
from federation.protocol.urls import LocalUrls
from server.api import media as media_api
from server.api.auth import read_as, user_of
from server.api.filtering import FilterResults, hidden
from server.api.times import iso
from server.appkeys import CLOCK, DATABASE, URLS
from storage import polls as poll_queries
from storage import quotes as quote_queries
from storage import statuses as q
from storage.emojis import emojis_named
from storage.models import Actor, ActorType, Announce, CustomEmoji, Notification, Object, Visibility

T = TypeVar("T")
# Mastodon's Role entities for our roles (federation.admin.users). `permissions` are Mastodon's
# bit flags: administrator (1) for an admin; for a moderator view_audit_log, view_dashboard,
# manage_reports, manage_blocks, manage_users, manage_invites and invite_users; nothing for a user
# (only staff make invitations here). A user's is Mastodon's everyone role, id -99.
ROLES = {
    "admin": {"id": "3", "name": "Admin", "permissions": "1", "color": "", "highlighted": True},
    "moderator": {"id": "2", "name": "Moderator", "permissions": str(4 | 8 | 16 | 128 | 1024 | 2048 | 65536),
                  "color": "", "highlighted": True},
    "user": {"id": "-99", "name": "", "permissions": "0", "color": "", "highlighted": False},
}
BOT_TYPES = frozenset({ActorType.Service, ActorType.Application})


def remote_attachment_entity(attachment: dict[str, Any], index: int, object_id: int) -> dict[str, Any]:
    mime = attachment.get("media_type") or ""
    kind = mime.split("/")[0] if mime.split("/")[0] in ("image", "video", "audio") else "unknown"
    meta: dict[str, Any] = {}
    if attachment.get("width") and attachment.get("height"):
        w, h = attachment["width"], attachment["height"]
        meta["original"] = {"width": w, "height": h, "size": f"{w}x{h}", "aspect": w / h}
    return {
        # a preview is an image: a peer's image is its own; a video's or a sound's is not one
        "id": f"{object_id}{index:02d}", "type": kind, "url": attachment["url"],
        "preview_url": attachment["url"] if kind == "image" else None,
        "remote_url": attachment["url"], "text_url": None, "meta": meta,
        "description": attachment.get("name"), "blurhash": attachment.get("blurhash"),
    }


class Renderer:
    def __init__(self, session: Session, urls: LocalUrls, viewer: Actor | None, now: datetime) -> None:
        self.session = session
        self.urls = urls
        self.viewer = viewer
        self.now = now
        self.filters = FilterResults(session, viewer.id if viewer else None, now)  # each post's `filtered`

    # --- accounts ---------------------------------------------------------------------------

    def accounts(self, actors: list[Actor]) -> list[dict[str, Any]]:
        entities = self._accounts_by_id({a.id for a in actors})
        return [entities.get(a.id) or self._account(a, q.AccountCounts(0, 0, 0, None)) for a in actors]

    def _accounts_by_id(self, ids: set[int], *, moves: bool = True) -> dict[int, dict[str, Any]]:
        """Account entities by id; each one that moved with its `moved`, the account it moved to
        (whose own `moved` is not followed further)."""
        rows = q.accounts(self.session, ids)
        entities = {i: self._account(actor, counts) for i, (actor, counts) in rows.items()}
        self._add_emojis([(entities[i], actor.domain if not actor.local else "",
                           (actor.display_name, actor.summary,
                            *(str(value) for field in actor.fields or [] for value in field.values())))
                          for i, (actor, _) in rows.items()])
        moved = {i: actor.moved_to_id for i, (actor, _) in rows.items() if actor.moved_to_id}
        if moves and moved:
            targets = self._accounts_by_id(set(moved.values()), moves=False)
            for i, target in moved.items():
                entities[i]["moved"] = targets.get(target)
        return entities

    def _add_emojis(self, items: list[tuple[dict[str, Any], str, tuple[str | None, ...]]]) -> None:
        """Set each entity's `emojis`: the custom emojis of its author's server (`domain`, empty
        for ours) that its texts name, all looked up in one query."""
        wanted = [(entity, domain, shortcodes_in(*texts)) for entity, domain, texts in items]
        found = emojis_named(self.session, {(code, domain) for _, domain, codes in wanted for code in codes})
        for entity, domain, codes in wanted:
            entity["emojis"] = [self.emoji(found[key]) for code in sorted(codes) if (key := (code, domain)) in found]

    def emoji(self, emoji: CustomEmoji) -> dict[str, Any]:
        """Mastodon's CustomEmoji entity."""
        url = emoji.url or media_url(self.urls.base, emoji.file_name or "")
        still = emoji.url or media_url(self.urls.base, emoji.static_file_name or emoji.file_name or "")
        return {"shortcode": emoji.shortcode, "url": url, "static_url": still,
                "visible_in_picker": emoji.visible_in_picker, "category": emoji.category}

    def accounts_by_id(self, ids: set[int]) -> dict[int, dict[str, Any]]:
        """Account entities of the actors with these ids that exist, by id."""
        return self._accounts_by_id(ids)

    def account(self, actor: Actor) -> dict[str, Any]:
        return self.accounts([actor])[0]

    def _account(self, actor: Actor | q.AccountRow, counts: q.AccountCounts) -> dict[str, Any]:
        followers, following, statuses, last_status, _ = counts
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
            "created_at": actor.published.astimezone(timezone.utc).date().isoformat() + "T00:00:00.000Z",  # the day
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
            # a staff member's role, shown on her profile (Mastodon: the highlighted roles)
            "roles": [{key: ROLES[counts.staff][key] for key in ("id", "name", "color")}] if counts.staff else [],
            "moved": None,  # the account it moved to (`_accounts_by_id`)
        }

    # --- statuses ---------------------------------------------------------------------------

    def statuses(self, items: list[Object | Announce | q.PostRow | q.BoostRow]) -> list[dict[str, Any]]:
        """Posts and boosts, in the order given."""
        boosts = [i for i in items if q.is_boost(i)]
        objects = {o.id: o for o in items if not q.is_boost(o)}
        boosted = q.objects_by_id(self.session, {b.object_id for b in boosts})
        # only public and unlisted posts can be boosted; anything else is never shown as one, nor
        # an institution-only post to an anonymous reader (federation.social.access.can_see)
        objects.update({i: o for i, o in boosted.items() if o.visibility in (Visibility.public, Visibility.unlisted)
                        and (not o.local_only or is_ours(self.viewer))})
        rendered = self._posts([o for o in objects.values() if o.deleted_at is None])
        booster_entities = self._accounts_by_id({b.actor_id for b in boosts})
        out = []
        for item in items:
            if not q.is_boost(item):
                if item.id in rendered:
                    out.append(rendered[item.id])
            elif item.object_id in rendered:
                inner = rendered[item.object_id]
                out.append({
                    **inner, "id": str(item.id), "uri": item.uri, "url": item.uri, "created_at": iso(item.created_at),
                    "account": booster_entities[item.actor_id], "reblog": inner, "content": "", "spoiler_text": "",
                    "media_attachments": [], "mentions": [], "tags": [], "emojis": [], "poll": None, "quote": None, "in_reply_to_id": None,
                    "in_reply_to_account_id": None, "edited_at": None, "visibility": "public" if item.public else "unlisted",
                })
        return out

    def status(self, item: Object) -> dict[str, Any]:
        return self.statuses([item])[0]

    def _posts(self, objects: list[Object | q.PostRow], *, nested: bool = False) -> dict[int, dict[str, Any]]:
        ids = {o.id for o in objects}
        author_entities = self._accounts_by_id({o.actor_id for o in objects})
        extras = q.post_extras(self.session, self.viewer.id if self.viewer else None, ids)
        mentions = q.mentions_of(self.session, ids)
        tags = q.tags_of(self.session, ids)
        media = q.media_of(self.session, {o.id for o in objects if o.local})  # remote media are links
        polls = poll_queries.polls_of(self.session, self.viewer.id if self.viewer else None,
                                      {o.id for o in objects if o.type == "Question"})
        apps = q.applications(self.session, {o.application_id for o in objects if o.local and o.application_id})
        result = {}
        for o in objects:
            more = extras.get(o.id, q.NO_POST_EXTRAS)
            if o.local:
                attachments = [media_api.media_entity(m, self.urls.base) for m in media.get(o.id, [])]
            else:
                attachments = [remote_attachment_entity(a, n, o.id) for n, a in enumerate(o.attachments or [])]
            result[o.id] = {
                "id": str(o.id),
                "created_at": iso(o.published),
                "in_reply_to_id": str(more.parent_id) if more.parent_id else None,
                "in_reply_to_account_id": str(more.parent_actor_id) if more.parent_actor_id else None,
                "sensitive": o.sensitive,
                "spoiler_text": o.summary,
                "visibility": o.visibility.value,
                "local_only": o.local_only,  # institution-only (as glitch-soc and Hometown show it)
                "language": o.language,
                "uri": o.uri,
                "url": o.url or o.uri,
                "replies_count": more.replies,
                "reblogs_count": more.reblogs,
                "favourites_count": more.favourites,
                "edited_at": iso(o.updated),
                "favourited": more.favourited,
                "reblogged": more.reblogged,
                "muted": False,
                "bookmarked": more.bookmarked,
                "pinned": more.pinned,
                "content": o.content,
                "filtered": self.filters.of(o.id, o.actor_id, o.content, o.summary,
                                            [title for title, _ in polls[o.id].options] if o.id in polls else [],
                                            [a["description"] for a in attachments]),
                "reblog": None,
                "application": apps.get(o.application_id) if o.local else None,
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
                "poll": self._poll(o, polls[o.id]) if o.id in polls else None,
            }
        self._add_emojis([(result[o.id], self._domain_of(author_entities[o.actor_id]), (o.content, o.summary))
                          for o in objects])
        self._quotes(objects, extras, result, nested=nested)
        return result

    @staticmethod
    def _domain_of(account: dict[str, Any]) -> str:
        """The server of an account entity's actor: empty for ours."""
        return account["acct"].partition("@")[2]

    def _quotes(self, objects: list[Object | q.PostRow], extras: dict[int, q.PostExtras],
                result: dict[int, dict[str, Any]], *, nested: bool) -> None:
        """Each status's `quote` (FEP-044f, as Mastodon 4.5 shows it: its state, and the quoted
        status once accepted, as a ShallowQuote inside a quoted one), `quote_approval` for the
        viewer, and `quotes_count` (the quote made and the count come with the post's extras)."""
        viewer = self.viewer.id if self.viewer else None
        more = {o.id: extras.get(o.id, q.NO_POST_EXTRAS) for o in objects}
        # whether she follows an author matters only where its post lets followers quote it
        follows = quote_queries.followed_among(self.session, viewer, {
            o.actor_id for o in objects if o.actor_id != viewer and quotes.policy_of(o) == "followers"}) if viewer else set()
        quoted = q.objects_by_id(self.session, {m.quoted_id for m in more.values() if m.quoted_id})
        hidden = quote_queries.hidden_among(self.session, viewer, {o.actor_id for o in quoted.values()}) if viewer else {}
        shown = [o for o in quoted.values() if o.deleted_at is None and o.actor_id not in hidden
                 and (o.visibility in (Visibility.public, Visibility.unlisted) or o.actor_id == viewer)
                 and (not o.local_only or is_ours(self.viewer))]
        rendered = self._posts(shown, nested=True) if shown and not nested else {}
        for o in objects:
            policy, made = quotes.policy_of(o), more[o.id]
            result[o.id]["quotes_count"] = made.quotes
            result[o.id]["quote_approval"] = {
                "automatic": [policy] if policy in ("public", "followers") else [], "manual": [],
                "current_user": quotes.UNKNOWN if viewer is None else quotes.approval(
                    policy, own=o.actor_id == viewer, follows=o.actor_id in follows, blocked=False),
            }
            target = quoted.get(made.quoted_id) if made.quoted_id else None
            state = None if made.quote_state is None else (
                "deleted" if target is not None and target.deleted_at is not None
                else hidden.get(target.actor_id, made.quote_state.value) if target is not None else made.quote_state.value)
            if state is None:
                result[o.id]["quote"] = None
            elif nested:
                result[o.id]["quote"] = {"state": state, "quoted_status_id": str(target.id) if target else None}
            else:
                result[o.id]["quote"] = {"state": state, "quoted_status": rendered.get(target.id) if (
                    state == "accepted" and target is not None) else None}

    def poll(self, item: Object) -> dict[str, Any] | None:
        """The Poll entity of a post, or None if it has no poll."""
        view = poll_queries.polls_of(self.session, self.viewer.id if self.viewer else None, [item.id]).get(item.id)
        return self._poll(item, view) if view is not None else None

    def _poll(self, item: Object | q.PostRow, view: poll_queries.PollView) -> dict[str, Any]:
        ended = expired(view, self.now)
        own = self.viewer is not None and self.viewer.id == item.actor_id
        hidden = view.hide_totals and not ended and not own  # hide_totals: counts show once it ends
        return {
            "id": str(item.id),
            "expires_at": iso(view.expires_at),
            "expired": ended,
            "multiple": view.multiple,
            "votes_count": sum(votes for _, votes in view.options),
            "voters_count": view.voters_count,
            "options": [{"title": title, "votes_count": None if hidden else votes} for title, votes in view.options],
            "emojis": [],
            "voted": own or bool(view.own_votes),  # as on Mastodon, an author sees their poll's results
            "own_votes": view.own_votes,
        }

    # --- notifications ----------------------------------------------------------------------

    def notifications(self, rows: list[Notification]) -> list[dict[str, Any]]:
        """Notifications, leaving out those about a post a `hide` filter of the notifications
        context matches."""
        sender_entities = self._accounts_by_id({n.from_actor_id for n in rows})
        objects = q.objects_by_id(self.session, {n.object_id for n in rows if n.object_id})
        live = [o for o in objects.values() if o.deleted_at is None]
        statuses = dict(zip([o.id for o in live], self.statuses(live)))
        rows = [n for n in rows if not (n.object_id in statuses and hidden(statuses[n.object_id], "notifications"))]
        kinds = {"follow_request": "follow_request"}
        return [
            {
                "id": str(n.id), "type": kinds.get(n.type.value, n.type.value), "created_at": iso(n.created_at),
                "group_key": n.group_key or f"ungrouped-{n.id}",
                "account": sender_entities[n.from_actor_id],
                "status": statuses.get(n.object_id) if n.object_id else None,
            }
            for n in rows if n.from_actor_id in sender_entities
        ]


async def render_as_user(request: web.Request, needed: str, fn: Callable[[Renderer], T]) -> T:
    """`fn(renderer)`, rendering for the user the request's token acts for, in the same read that
    checks the token (see server.api.auth.read_as)."""
    urls, now = request.app[URLS], request.app[CLOCK].now()
    _, result = await read_as(request, needed, lambda sync, caller: fn(Renderer(sync, urls, user_of(caller), now)))
    return result


async def render(request: web.Request, viewer_actor: Actor | None, fn: Callable[[Renderer], T],
                 session: AsyncSession | None = None) -> T:
    """`fn(renderer)`, rendering for `viewer_actor` in one read; or inside `session`'s
    transaction, when the entities must show what it has written and not yet committed."""
    urls, now = request.app[URLS], request.app[CLOCK].now()
    if session is not None:
        return await session.run_sync(lambda sync: fn(Renderer(sync, urls, viewer_actor, now)))
    return await request.app[DATABASE].read(lambda sync: fn(Renderer(sync, urls, viewer_actor, now)))
