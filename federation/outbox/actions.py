"""Local actions on posts become activities: the single entry point for posting, replying,
boosting, liking, voting, editing and deleting (the client API calls these; following,
blocking and a changed profile are `relations`').

Each function takes the caller's session and never commits. It writes the domain rows, the
activity, and one delivery row per target inbox (see audience.py), so the whole action commits or
nothing does, and nothing is sent before the commit (the delivery worker is woken by the commit
itself; see sending.py). A client's post and edit, which resolve remote mentions over the
network before their transaction opens, go through drafts.py, which calls `post` and `edit`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from federation.communities import threads
from federation.outbox import sending
from federation.outbox.audience import followers_hearing_of
from federation.runtime.context import Federation
from federation.social import media, polls, quotes
from federation.social.interactions import add_announce, add_like
from federation.social.notifications import notify_edit, notify_mentions
from federation.social.posts import addressing, keep_version, mentioned_actors, post_to_ap
from federation.social.access import institution_only
from federation.social.feeds import add_boost_to_homes, add_post_to_homes
from federation.social.streams import record_post
from federation.protocol.vocab.quotes import quote_request_to_ap
from federation.protocol.vocab.render import (
    announce_to_ap,
    create_to_ap,
    delete_to_ap,
    like_to_ap,
    undo_announce_to_ap,
    undo_like_to_ap,
    update_to_ap,
    vote_to_ap,
)
from storage.accounts_api import account_of
from storage.ids import new_id
from storage.interactions import add_bookmark, add_pin, mark_of, pin_count, remove_mark
from storage.actors import actor_by_id
from storage.posts import add_post, link_post
from storage.models import (
    Activity,
    Actor,
    Announce,
    Bookmark,
    Like,
    Object,
    Pin,
    QuoteState,
    Visibility,
)


UNCHANGED: Any = object()  # an edit that leaves the attachments as they are


class OutboxError(Exception):
    """The action is not allowed; one line for the practitioner."""


class NoSuchPost(OutboxError):
    """The post does not exist, or the actor may not see it (the two look the same)."""


class NotYours(OutboxError):
    """Only the author may do this to the post."""


async def _touch(session: AsyncSession, actor: Actor, now: datetime) -> None:
    account = await account_of(session, actor.id)
    if account is not None:
        account.last_active_at = now


# --- posts ---------------------------------------------------------------------------------

async def post(
    fed: Federation, session: AsyncSession, author: Actor, *, content: str,
    visibility: Visibility = Visibility.public, summary: str = "", sensitive: bool = False,
    in_reply_to: Object | None = None, mentions: Iterable[Actor] = (), tags: Iterable[str] = (),
    language: str | None = None, attachments: list[dict[str, Any]] | None = None, poll: polls.NewPoll | None = None,
    quote: Object | None = None, quote_policy: str | None = None, local_only: bool = False,
    kind: str = "Note", prepare: Callable[[Object], Awaitable[None]] | None = None,
) -> Object:
    """Publish a post (content is HTML the caller made safe), a Question if it has a poll, and
    queue its Create. `quote`: the post it quotes (a QuoteRequest goes to its author when a peer
    must approve; OutboxError if its author does not allow it); `quote_policy`: who may quote
    this one (federation.social.quotes). Institution-only if asked, and (`access.institution_only`)
    as a reply to or a quote of an institution-only post, or a post to an institution-only community. `kind`: the
    post's type (an Article, by federation.articles), and `prepare`, called once its row exists and
    before its Create is rendered (an article links itself to its post)."""
    now = fed.clock.now()
    mentioned = {actor.id: actor for actor in mentions}
    if in_reply_to is not None:
        parent_author = await actor_by_id(session, in_reply_to.actor_id)
        if parent_author is not None and parent_author.id != author.id:
            mentioned.setdefault(parent_author.id, parent_author)
    post_id = new_id()
    uri = fed.urls.status(author.username, post_id)
    item = await add_post(session, Object(
        id=post_id, uri=uri, type="Question" if poll is not None else kind, actor_id=author.id, local=True,
        visibility=visibility,
        content=content, summary=summary, sensitive=sensitive or bool(summary), language=language,
        url=f"{fed.urls.profile(author.username)}/{post_id}",
        in_reply_to_uri=in_reply_to.uri if in_reply_to is not None else None,
        published=now, attachments=attachments or None, quote_policy=quote_policy,
        local_only=await institution_only(session, author, asked=local_only, in_reply_to=in_reply_to,
                                          recipients=mentioned.values(), quoted=quote),
    ))
    try:
        quoting = await quotes.quote_local(session, item, author, quote, fed.urls) if quote is not None else None
    except quotes.QuoteError as exc:
        raise OutboxError(str(exc)) from exc
    if poll is not None:
        await polls.add_local(session, item, poll, now)
    if prepare is not None:
        await prepare(item)
    await link_post(session, item.id, mentioned.keys(), [name[:255] for name in dict.fromkeys(
        t.lower().lstrip("#") for t in tags if t.strip("#"))])
    await notify_mentions(session, item, author, list(mentioned.values()), now)
    await _touch(session, author, now)
    await _publish(fed, session, author, item, "Create", fed.urls.status_activity(author.username, post_id))
    await add_post_to_homes(session, item, author)
    if quoting is not None and quoting.state is QuoteState.pending:  # a peer's author must approve
        quoted_author = await actor_by_id(session, quote.actor_id)
        request = quote_request_to_ap(quote_request_uri(item), author.uri, quote.uri, item.uri)
        await sending.send(fed, session, author, request, [quoted_author])
    return item


def quote_request_uri(item: Object) -> str:
    """The id of the QuoteRequest of a local post (one per post: its answer names the post)."""
    return f"{item.uri}#quote-request"


async def republish(fed: Federation, session: AsyncSession, item: Object) -> None:
    """Send a local post's current document (an Update) to its audience again: its poll's new
    counts, or its quote's new state."""
    author = await actor_by_id(session, item.actor_id)
    if author is not None and item.deleted_at is None:
        await _publish(fed, session, author, item, "Update", sending.activity_uri(author, "Update"))


async def _publish(fed: Federation, session: AsyncSession, author: Actor, item: Object, kind: str, uri: str) -> Activity:
    """Create or Update of a local post, delivered to its audience."""
    mentions = await mentioned_actors(session, item)
    note = await post_to_ap(session, item, author, mentions, fed.urls.base, fed.clock.now())
    document = (create_to_ap if kind == "Create" else update_to_ap)(uri, author, note, fed.clock.now())
    public = item.visibility in (Visibility.public, Visibility.unlisted) and not item.local_only
    activity = await sending.record(fed, session, author, document, object_id=item.id, public=public and kind == "Create")
    recipients = [*mentions, *await quotes.quoted_audience(session, item)]
    await sending.deliver(fed, session, activity, author, recipients, followers_of=followers_hearing_of(item, author),
                          about=item)
    if kind == "Update":
        await threads.relay_activity(fed, session, item, document)  # to the members of its communities
    return activity


async def edit(
    fed: Federation, session: AsyncSession, author: Actor, item: Object, *, content: str,
    summary: str | None = None, sensitive: bool | None = None, attachments: list[dict[str, Any]] | None = UNCHANGED,
) -> Object:
    """Edit a local post: its current version goes into the history first, then it takes the
    new content, content warning and attachments (None: no attachments; UNCHANGED: as they
    were) and its Update is queued."""
    if item.actor_id != author.id or not item.local or item.deleted_at is not None:
        raise OutboxError("only the author can edit a post")
    await keep_version(session, item)
    item.content = content
    if attachments is not UNCHANGED:
        item.attachments = attachments
    if summary is not None:
        item.summary = summary
    if sensitive is not None:
        item.sensitive = sensitive or bool(item.summary)
    item.updated = fed.clock.now()
    await _publish(fed, session, author, item, "Update", sending.activity_uri(author, "Update"))
    await record_post(session, item, author, "status.update")
    await notify_edit(session, item, author, item.updated)
    return item


async def delete(fed: Federation, session: AsyncSession, author: Actor, item: Object, *,
                 media_root: Path | None = None) -> None:
    """Delete a local post and queue its Delete. Its uploads go now if `media_root` is given
    (the directory they are stored in), else they are kept a day for a redraft."""
    if item.actor_id != author.id or not item.local:
        raise OutboxError("only the author can delete a post")
    if item.deleted_at is not None:
        return
    if media_root is not None:
        await media.remove_attached(session, media_root, item.id)
    mentions = await mentioned_actors(session, item)
    await record_post(session, item, author, "delete")
    item.deleted_at = fed.clock.now()
    to, cc = addressing(item, author, mentions)
    document = delete_to_ap(sending.activity_uri(author, "Delete"), author, item.uri, to, cc)
    activity = await sending.record(fed, session, author, document, object_id=item.id)
    await sending.deliver(fed, session, activity, author, mentions, followers_of=followers_hearing_of(item, author),
                          about=item)
    await threads.relay_activity(fed, session, item, document)  # to the members of its communities


async def update_poll(fed: Federation, session: AsyncSession, item: Object) -> None:
    """Send a local poll's current counts (and whether it has closed) to its audience."""
    await republish(fed, session, item)


async def vote(fed: Federation, session: AsyncSession, voter: Actor, item: Object, choices: list[int]) -> None:
    """Vote on a poll (polls.PollError if the vote is refused). On a remote poll, each choice is
    a Create(Note) named after the option, addressed to the poll's author alone."""
    author = await _visible_target(session, item)
    votes = await polls.cast(session, item, voter, choices, fed.clock.now())
    if author.local:
        return
    for row, title in votes:
        row.uri = f"{voter.uri}#votes/{row.id}"
        activity = await sending.record(fed, session, voter, vote_to_ap(row.uri, voter, author, item.uri, title))
        await sending.deliver(fed, session, activity, voter, [author])


# --- likes and boosts ----------------------------------------------------------------------

async def _visible_target(session: AsyncSession, item: Object) -> Actor:
    if item.deleted_at is not None:
        raise OutboxError("the post was deleted")
    target_author = await actor_by_id(session, item.actor_id)
    assert target_author is not None
    return target_author


async def like(fed: Federation, session: AsyncSession, actor: Actor, item: Object) -> Like:
    target_author = await _visible_target(session, item)
    uri = sending.activity_uri(actor, "Like")
    row = await add_like(session, actor, item, uri, fed.clock.now())
    if row is None:  # she likes it already
        return await _already(session, Like, actor, item)
    document = like_to_ap(uri, actor, item.uri)
    activity = await sending.record(fed, session, actor, document, object_id=item.id)
    # to the author, and to the communities whose thread it is in, which tell their members
    await sending.deliver(fed, session, activity, actor, [target_author, *await threads.thread_groups(session, item)],
                          about=item)
    await threads.relay_activity(fed, session, item, document)  # a community here tells its members at once
    return row


async def _already(session: AsyncSession, model: type[Like] | type[Announce], actor: Actor, item: Object):
    """The like or boost that kept a new one from being stored; gone only if it was withdrawn
    between the two statements (an unlike racing a like), and then the practitioner tries again."""
    row = await mark_of(session, model, actor.id, item.id)
    if row is None:
        raise OutboxError("it changed meanwhile; try again")
    return row


async def unlike(fed: Federation, session: AsyncSession, actor: Actor, item: Object) -> None:
    await _withdraw(fed, session, actor, item, Like, followers=False)


async def boost(fed: Federation, session: AsyncSession, actor: Actor, item: Object, *,
                context: str | None = None) -> Announce:
    """Boost a post (`context`: a community's boost of a thread's first post names the thread's)."""
    target_author = await _visible_target(session, item)
    if item.visibility not in (Visibility.public, Visibility.unlisted):
        raise OutboxError("only public and unlisted posts can be boosted")
    uri = sending.activity_uri(actor, "Announce")
    row = await add_announce(session, actor, item, uri, fed.clock.now(), public=True)
    if row is None:  # boosted already
        return await _already(session, Announce, actor, item)
    document = announce_to_ap(uri, actor, item.uri, target_author, fed.clock.now(), context=context)
    # a boost of an institution-only post stays here: off the outbox, and (audience) undelivered
    activity = await sending.record(fed, session, actor, document, object_id=item.id, public=not item.local_only)
    await sending.deliver(fed, session, activity, actor, [target_author], followers_of=actor, about=item)
    await add_boost_to_homes(session, actor, row.id)
    return row


async def unboost(fed: Federation, session: AsyncSession, actor: Actor, item: Object) -> None:
    await _withdraw(fed, session, actor, item, Announce, followers=True)


async def _withdraw(fed: Federation, session: AsyncSession, actor: Actor, item: Object, model, *,
                    followers: bool) -> None:
    """Take back a like or a boost: delete the row and send an Undo of its activity."""
    existing = await mark_of(session, model, actor.id, item.id)
    if existing is None:
        return
    target_author = await actor_by_id(session, item.actor_id)
    await remove_mark(session, existing)
    undo = undo_like_to_ap if model is Like else undo_announce_to_ap
    await sending.send(fed, session, actor, undo(sending.activity_uri(actor, "Undo"), existing.uri, actor, item.uri),
                [target_author] if target_author else [], followers_of=actor if followers else None, about=item)


# --- bookmarks and pins (nothing to tell peers) -----------------------------------------------

MAX_PINS = 5


async def bookmark(fed: Federation, session: AsyncSession, actor: Actor, item: Object) -> None:
    if await mark_of(session, Bookmark, actor.id, item.id) is None:
        await add_bookmark(session, actor.id, item.id)


async def unbookmark(fed: Federation, session: AsyncSession, actor: Actor, item: Object) -> None:
    existing = await mark_of(session, Bookmark, actor.id, item.id)
    if existing is not None:
        await remove_mark(session, existing)


async def pin(fed: Federation, session: AsyncSession, actor: Actor, item: Object) -> None:
    """Feature one's own post on one's profile, up to MAX_PINS of them."""
    if item.actor_id != actor.id:
        raise OutboxError("Validation failed: you can only pin your own posts")
    if await mark_of(session, Pin, actor.id, item.id) is not None:
        return
    if await pin_count(session, actor.id) >= MAX_PINS:
        raise OutboxError(f"Validation failed: you can pin at most {MAX_PINS} posts")
    await add_pin(session, actor.id, item.id)


async def unpin(fed: Federation, session: AsyncSession, actor: Actor, item: Object) -> None:
    if item.actor_id != actor.id:
        raise OutboxError("Validation failed: you can only pin your own posts")
    existing = await mark_of(session, Pin, actor.id, item.id)
    if existing is not None:
        await remove_mark(session, existing)
