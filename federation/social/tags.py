"""Hashtags a practitioner follows or features, and a tag's daily use.

A followed tag brings public posts carrying it into her home as they arrive, from here or from
peers (fan-out on write: `streams.post_homes` asks `storage.tags.tag_followers`); nothing is
copied in when she starts following, and what the tag alone brought leaves when she stops.
Featured tags are shown on her profile and published in her actor's `featuredTags` collection,
at most MAX_FEATURED_TAGS of them. Names are kept as posts' tags are (`#Tag` -> `tag`); a name
that is not a valid hashtag is refused with TagError, before anything is written.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy.ext.asyncio import AsyncSession

from federation.protocol.vocab.values import hashtag_name
from storage import tags as queries
from storage.models import Actor, FeaturedTag

MAX_FEATURED_TAGS = 10
HISTORY_DAYS = 7


class TagError(Exception):
    """The tag cannot be followed or featured; one line for the practitioner."""


def valid_name(raw: str) -> str:
    """The stored form of a hashtag given as `#Name` or `Name`; TagError if it is not one."""
    name = hashtag_name(raw.strip()) if isinstance(raw, str) else None
    if name is None:
        raise TagError(f"{raw!r} is not a valid hashtag: letters, digits and underscores, with a letter")
    return name


async def follow(session: AsyncSession, actor: Actor, raw: str) -> str:
    name = valid_name(raw)
    await queries.follow(session, actor.id, name)
    return name


async def unfollow(session: AsyncSession, actor: Actor, raw: str) -> str:
    """Stop following; the posts the tag alone brought leave her home."""
    name = valid_name(raw)
    if await queries.unfollow(session, actor.id, name):
        await queries.unmerge(session, actor.id, name)
    return name


async def feature(session: AsyncSession, actor: Actor, raw: str) -> FeaturedTag:
    """Feature a tag on her profile (featuring it again returns the same row)."""
    name = valid_name(raw)
    featured = {row.name for row in await queries.featured_of(session, actor.id)}
    if name not in featured and len(featured) >= MAX_FEATURED_TAGS:
        raise TagError(f"Validation failed: you can feature at most {MAX_FEATURED_TAGS} hashtags")
    return await queries.feature(session, actor.id, name)


async def unfeature(session: AsyncSession, actor: Actor, *, featured_id: int | None = None,
                    raw: str | None = None) -> bool:
    """Stop featuring a tag, by its featured id or by name; False if it was not featured."""
    if featured_id is not None:
        return await queries.unfeature(session, actor.id, featured_id=featured_id)
    return await queries.unfeature(session, actor.id, name=valid_name(raw or ""))


@dataclass(frozen=True)
class Day:
    start: datetime  # midnight UTC
    uses: int
    accounts: int


async def history(session: AsyncSession, names: list[str], now: datetime, *, users: bool) -> dict[str, list[Day]]:
    """For each tag, its use on each of the last HISTORY_DAYS days (UTC), today first: the
    public and unlisted posts carrying it, and how many accounts wrote them; institution-only
    posts counted only for the instance's `users`."""
    today = now.astimezone(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    days = [today - timedelta(days=n) for n in range(HISTORY_DAYS)]
    posts: dict[tuple[str, datetime], int] = defaultdict(int)
    authors: dict[tuple[str, datetime], set[int]] = defaultdict(set)
    for name, published, author in await queries.uses_since(session, names, days[-1], include_local_only=users):
        day = published.astimezone(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
        posts[name, day] += 1
        authors[name, day].add(author)
    return {name: [Day(day, posts[name, day], len(authors[name, day])) for day in days] for name in names}
