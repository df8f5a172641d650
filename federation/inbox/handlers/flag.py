"""Flag: a peer reports one of our accounts, and posts of it, to our moderators
(federation.admin.reports.received)."""

from __future__ import annotations

from federation.admin import reports
from federation.inbox.handlers.base import HandlerContext, Ignore
from federation.protocol.vocab.values import as_list, id_of, is_uri


async def handle(ctx: HandlerContext) -> None:
    raw = ctx.activity.raw
    named = [uri for uri in map(id_of, as_list(raw.get("object"))) if is_uri(uri)]
    comment = raw.get("content") if isinstance(raw.get("content"), str) else ""
    if await reports.received(ctx.session, ctx.actor, ctx.activity.id, named, comment, ctx.now) is None:
        raise Ignore("the Flag names no account of ours, came before, or its reporter has too many open reports")
