"""Making and changing communities, and their moderators. Every change is audited, in the
caller's transaction; the caller (the CLI, the JSON API) owns it."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from federation.admin.audit import audit
from federation.outbox import sending
from federation.protocol.urls import LocalUrls
from federation.protocol.vocab.community import group_to_ap, group_update_to_ap
from federation.runtime.context import Federation
from federation.social import emojis
from federation.social.accounts import RESERVED_USERNAMES, new_local_actor
from storage import actors as actor_queries
from storage import communities as queries
from storage.local_accounts import add_local_actor
from storage.models import Actor, ActorType, Community, JoinPolicy, PostingPolicy

NAME_RE = re.compile(r"^[a-z0-9_](?:[a-z0-9_-]{0,28}[a-z0-9_])?$")
MAX_RULES = 20


class CommunityError(Exception):
    """A community change that cannot be made; the message says why. Nothing was written."""


class NoSuchCommunity(CommunityError):
    pass


@dataclass(frozen=True)
class Settings:
    """What a community is: every field but the name may change later."""

    title: str = ""
    summary: str = ""
    join_policy: JoinPolicy = JoinPolicy.open
    posting: PostingPolicy = PostingPolicy.members
    local_only: bool = False
    rules: tuple[str, ...] = field(default_factory=tuple)
    icon: str = ""  # the URL of its picture (the Group's `icon`); empty: none


def normalise_name(name: str) -> str:
    value = name.strip().lower().lstrip("@")
    if not NAME_RE.match(value):
        raise CommunityError(f"invalid community name {name!r}: use 1 to 30 letters, digits, underscores or "
                             "inner hyphens (wound-care)")
    if value in RESERVED_USERNAMES:
        raise CommunityError(f"the name {value!r} is reserved")
    return value


def _summary_html(text: str) -> str:
    return "".join(f"<p>{html.escape(block.strip())}</p>" for block in text.split("\n\n") if block.strip())


def _rules(rules: tuple[str, ...]) -> list[str]:
    kept = [rule.strip()[:500] for rule in rules if rule.strip()]
    if len(kept) > MAX_RULES:
        raise CommunityError(f"a community has at most {MAX_RULES} rules")
    return kept


def _icon(url: str) -> str | None:
    value = url.strip()
    if not value:
        return None
    if not value.startswith(("https://", "http://")) or len(value) > 2048 or any(c.isspace() for c in value):
        raise CommunityError(f"the icon must be an http(s) URL, not {url!r}")
    return value


def snapshot(community: Community, actor: Actor) -> dict[str, Any]:
    """What the audit log keeps of a community before and after a change."""
    return {"title": actor.display_name, "join_policy": community.join_policy.value,
            "posting": community.posting.value, "local_only": community.local_only,
            "rules": list(community.rules or []), "icon": actor.avatar_url}


async def local_user(session: AsyncSession, username: str) -> Actor:
    account = await actor_queries.account_by_username(session, username.strip().lstrip("@"))
    if account is None:
        raise CommunityError(f"no user named {username!r} on this server")
    actor = await actor_queries.actor_by_id(session, account.actor_id)
    assert actor is not None
    return actor


async def find(session: AsyncSession, name: str) -> tuple[Community, Actor]:
    """The community hosted here called `name` (NoSuchCommunity if none)."""
    actor = await actor_queries.local_actor_by_username(session, name.strip().lstrip("@"))
    community = await queries.community_of(session, actor.id) if actor is not None else None
    if community is None or actor is None:
        raise NoSuchCommunity(f"no community named {name!r} on this server")
    return community, actor


async def create(session: AsyncSession, urls: LocalUrls, name: str, settings: Settings, *,
                 moderators: list[Actor], by: str, now: datetime) -> tuple[Community, Actor]:
    """A new community: its Group actor (with its keys), its policy and its first moderators."""
    name = normalise_name(name)
    if await actor_queries.local_actor_by_username(session, name) is not None:
        raise CommunityError(f"the name {name!r} is taken (a user or a community has it)")
    rules = _rules(settings.rules)
    actor = await add_local_actor(session, new_local_actor(
        urls, name, ActorType.Group, url=urls.community_page(name), display_name=settings.title.strip() or name,
        summary=_summary_html(settings.summary), avatar_url=_icon(settings.icon),
        manually_approves_followers=settings.join_policy is not JoinPolicy.open,
        discoverable=not settings.local_only, published=now, updated=now,
    ))
    community = await queries.add_community(session, Community(
        actor_id=actor.id, join_policy=settings.join_policy, posting=settings.posting,
        local_only=settings.local_only, rules=rules, created_by=by[:255], created_at=now))
    for moderator in moderators:
        await queries.add_moderator(session, actor.id, moderator.id, now)
    await audit(session, by=by, action="community.create", subject=actor.uri, before=None,
                after=snapshot(community, actor) | {"moderators": [m.uri for m in moderators]}, reason="", at=now)
    return community, actor


async def update(session: AsyncSession, name: str, *, by: str, now: datetime, title: str | None = None,
                 summary: str | None = None, join_policy: JoinPolicy | None = None,
                 posting: PostingPolicy | None = None, local_only: bool | None = None,
                 rules: tuple[str, ...] | None = None, icon: str | None = None) -> tuple[Community, Actor]:
    """Change what is given of a community; None leaves a field as it is."""
    community, actor = await find(session, name)
    before = snapshot(community, actor)
    if title is not None:
        actor.display_name = title.strip() or actor.username
    if summary is not None:
        actor.summary = _summary_html(summary)
    if join_policy is not None:
        community.join_policy = join_policy
        actor.manually_approves_followers = join_policy is not JoinPolicy.open
    if posting is not None:
        community.posting = posting
    if local_only is not None:
        community.local_only = local_only
        actor.discoverable = not local_only
    if rules is not None:
        community.rules = _rules(rules)
    if icon is not None:
        actor.avatar_url = _icon(icon)
    actor.updated = now
    after = snapshot(community, actor)
    if after != before or summary is not None:
        await audit(session, by=by, action="community.update", subject=actor.uri, before=before, after=after,
                    reason="", at=now)
    return community, actor


async def tell_members(fed: Federation, session: AsyncSession, community: Community, actor: Actor) -> int:
    """Send the community's Group document as it is now (an Update) to its members' servers,
    which refresh what they show of it; how many inboxes. An institution-only community's goes
    nowhere (`sending.deliver`)."""
    document = group_to_ap(actor, community, fed.urls.moderators(actor.username),
                           await emojis.actor_tags(session, actor, fed.urls, *community.rules or []))
    update_document = group_update_to_ap(sending.activity_uri(actor, "Update"), document)
    activity = await sending.record(fed, session, actor, update_document)
    return await sending.deliver(fed, session, activity, actor, [], followers_of=actor)


async def add_moderator(session: AsyncSession, name: str, moderator: Actor, *, by: str, now: datetime) -> bool:
    _, actor = await find(session, name)
    added = await queries.add_moderator(session, actor.id, moderator.id, now)
    if added:
        await audit(session, by=by, action="community.moderator.add", subject=actor.uri, before=None,
                    after={"moderator": moderator.uri}, reason="", at=now)
    return added


async def remove_moderator(session: AsyncSession, name: str, moderator: Actor, *, by: str, now: datetime) -> bool:
    _, actor = await find(session, name)
    if not await queries.is_moderator(session, actor.id, moderator.id):
        return False
    if len(await queries.moderators(session, actor.id)) == 1:
        raise CommunityError(f"{moderator.username} is the last moderator of {actor.username}; add another first")
    await queries.remove_moderator(session, actor.id, moderator.id)
    await audit(session, by=by, action="community.moderator.remove", subject=actor.uri,
                before={"moderator": moderator.uri}, after=None, reason="", at=now)
    return True
