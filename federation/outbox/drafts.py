"""A client's post and edit, each one unit of work: remote @mentions are resolved over the
network first, then one transaction checks what the draft refers to (the post it answers, its
uploads) and writes everything through `actions.post` or `actions.edit`, source text and
Idempotency-Key included; a post to a community hosted here is relayed (`communities.relay`) in the
same transaction. The client API's handler parses the request and makes one call here."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from federation.communities import relay, threads
from federation.outbox import actions
from federation.outbox.actions import NoSuchPost, NotYours, OutboxError
from federation.remote.resolve import RemoteError, resolve_account
from federation.runtime.context import Federation
from federation.social import media
from federation.social.compose import Draft, hashtags_in, mentions_in, text_to_html
from federation.social.media import stored_attachment
from federation.social.posts import visible_post
from storage.models import Actor, Media, Object
from storage.posts import post_by_idempotency_key, remember_idempotency_key


class Withdrawn(Exception):
    """`publish`'s `first` said no: nothing was posted."""


async def publish(fed: Federation, author: Actor, draft: Draft, *, idempotency_key: str = "",
                  first: Callable[[AsyncSession], Awaitable[bool]] | None = None) -> Object:
    """Post `draft`; the same `idempotency_key` from the same author gives the post it made the
    first time, and nothing else happens. `first` runs first in the post's transaction: if it
    says no, nothing is posted (Withdrawn) and what it wrote is rolled back; if the post fails,
    so is what it wrote (a scheduled post is taken so: federation.outbox.scheduled)."""
    if idempotency_key:
        async with fed.db.sessions() as session:
            earlier = await post_by_idempotency_key(session, author.id, idempotency_key)
        if earlier is not None:
            return earlier
    content, mentions, tags = await _linked(fed, draft.text)
    async with fed.transaction() as session:
        if first is not None and not await first(session):
            raise Withdrawn()
        in_reply_to = None
        if draft.in_reply_to_id:
            in_reply_to = await visible_post(session, draft.in_reply_to_id, author)
            if in_reply_to is None:
                raise NoSuchPost(draft.in_reply_to_id)
        quoted = None
        if draft.quoted_status_id:
            quoted = await visible_post(session, draft.quoted_status_id, author)
            if quoted is None:
                raise NoSuchPost(draft.quoted_status_id)
        uploads = await _uploads(session, author, draft, None)
        mentions = [*mentions, *await threads.thread_groups(session, in_reply_to)]  # a reply stays in its community
        item = await actions.post(
            fed, session, author, content=content, visibility=draft.visibility, summary=draft.summary,
            sensitive=draft.sensitive, in_reply_to=in_reply_to, mentions=mentions, tags=tags,
            language=draft.language, attachments=[stored_attachment(m, fed.urls.base) for m in uploads] or None,
            poll=draft.poll, quote=quoted, quote_policy=draft.quote_policy, local_only=draft.local_only,
        )
        item.source_text = draft.text
        item.application_id = draft.application_id
        await media.attach(session, item, uploads)
        await relay.relay_ours(fed, session, item, author, [actor.uri for actor in mentions])
        if idempotency_key:
            await remember_idempotency_key(session, author.id, idempotency_key, item.id)
    return item


async def revise(fed: Federation, author: Actor, post_id: str, draft: Draft) -> Object:
    """Edit the author's post `post_id` to say what `draft` says (text, content warning, uploads
    and their descriptions and focal points); the version it replaces goes into its history."""
    content, _, _ = await _linked(fed, draft.text)
    async with fed.transaction() as session:
        item = await _own_post(session, author, post_id)
        uploads = await _uploads(session, author, draft, item)
        edits = {media_id: (description, focus) for media_id, description, focus in draft.media_edits}
        for upload in uploads:
            if str(upload.id) in edits:
                description, focus = edits[str(upload.id)]
                try:
                    media.describe(upload, description=description, focus=focus)
                except media.InvalidMedia as exc:
                    raise OutboxError(f"Validation failed: {exc}") from exc
        await actions.edit(fed, session, author, item, content=content, summary=draft.summary, sensitive=draft.sensitive,
                   attachments=[stored_attachment(m, fed.urls.base) for m in uploads] or None)
        await media.attach(session, item, uploads)
        item.source_text = draft.text
    return item


async def _linked(fed: Federation, text: str) -> tuple[str, list[Actor], list[str]]:
    """The HTML of a typed text, the actors it mentions and its hashtags. Remote mentions are
    resolved over the network, so this runs before any transaction; an unknown handle stays
    plain text, as on Mastodon."""
    found: dict[tuple[str, str | None], Actor] = {}
    for username, host in mentions_in(text):
        try:
            found[(username, host)] = await resolve_account(fed, f"{username}@{host or fed.urls.authority}")
        except RemoteError:
            continue
    return text_to_html(text, found, f"{fed.urls.base}/tags"), list(found.values()), hashtags_in(text)


async def _uploads(session: AsyncSession, author: Actor, draft: Draft, item: Object | None) -> list[Media]:
    try:
        return await media.attachable(session, author, draft.media_ids, item)
    except media.InvalidMedia as exc:
        raise OutboxError(f"Validation failed: {exc}") from exc


async def _own_post(session: AsyncSession, author: Actor, post_id: str) -> Object:
    item = await visible_post(session, post_id, author)
    if item is None:
        raise NoSuchPost(post_id)
    if item.actor_id != author.id:
        raise NotYours(post_id)
    return item
