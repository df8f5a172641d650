"""Delete of a post (it becomes a tombstone) or of the actor itself (its content, follows, likes
and boosts go, and its boosts leave home timelines), or of a quote authorisation (FEP-044f: the
quoted author revokes a quote).

The inbox already refused deletes of other hosts' objects and of known posts by someone else,
except in a community hosted here (its `audience`), where one of its moderators elsewhere may
remove another's post (`communities.remote_moderators`).
"""

from __future__ import annotations

from federation.communities import remote_moderators, threads
from federation.inbox.handlers.base import HandlerContext, Ignore
from federation.outbox import quotes
from federation.social.streams import record_post
from storage.posts import post_by_uri, tombstone_post
from storage.quotes import quote_by_approval
from storage.remote_actors import erase_actor_content


async def handle(ctx: HandlerContext) -> None:
    target = ctx.activity.object_id
    if target == ctx.actor.uri:
        await erase_actor_content(ctx.session, ctx.actor.id)
        ctx.actor.deleted_at = ctx.now
        ctx.fed.keys.forget(ctx.actor.key_id)
        return
    authorisation = await quote_by_approval(ctx.session, target)
    if authorisation is not None:
        if not await quotes.revoked_by_peer(ctx.fed, ctx.session, authorisation, ctx.actor):
            raise Ignore(f"{ctx.actor.uri} cannot revoke the quote {authorisation.uri}, or it is not in force")
        return
    item = await post_by_uri(ctx.session, target)
    if item is None or item.deleted_at is not None:
        raise Ignore(f"unknown or already deleted object {target}")
    if item.actor_id != ctx.actor.id:
        if not ctx.activity.groups:  # in no community: only its author deletes a post
            raise Ignore(f"{ctx.actor.uri} cannot delete {target}")
        reason = await remote_moderators.remove_post(ctx.fed, ctx.session, ctx.actor, item, ctx.activity)
        if reason is not None:
            raise Ignore(f"{ctx.actor.uri} cannot delete {target}: {reason}")
        return
    await record_post(ctx.session, item, ctx.actor, "delete")
    await tombstone_post(ctx.session, item.id, ctx.now)
    await threads.relay_activity(ctx.fed, ctx.session, item, ctx.activity.raw)  # to a community's members
