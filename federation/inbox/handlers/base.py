"""What every handler gets, and how it says "understood, nothing to do"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from federation.runtime.context import Federation
from federation.protocol.vocab.parse import APActivity
from storage import actors as actor_queries
from storage.posts import post_by_uri
from storage.models import Actor, Object


class Ignore(Exception):
    """The activity is understood but changes nothing (recorded as `ignored` with this reason)."""


@dataclass
class HandlerContext:
    fed: Federation
    session: AsyncSession
    activity: APActivity
    actor: Actor  # the activity's actor; the signature check stored it
    now: datetime
    prepared: Any = None  # what the handler's prefetch returned


async def local_actor(ctx: HandlerContext, uri: str | None) -> Actor:
    if uri is None or not uri.startswith(ctx.fed.urls.base + "/"):
        raise Ignore(f"{uri} is not an actor on this server")
    actor = await actor_queries.actor_by_uri(ctx.session, uri)
    if actor is None or not actor.local:
        raise Ignore(f"no local actor {uri}")
    return actor


async def known_object(ctx: HandlerContext, uri: str | None) -> Object:
    found = await post_by_uri(ctx.session, uri) if uri else None
    if found is None or found.deleted_at is not None:
        raise Ignore(f"unknown or deleted object {uri}")
    return found
