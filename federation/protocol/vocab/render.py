"""Local rows become ActivityStreams JSON here, and nowhere else.

Converter names say which way data flows (`actor_to_ap`, `note_to_ap`). These functions take
rows and values already loaded and query nothing: the caller (federation.social.posts.post_to_ap,
the outbox) gathers what a document needs.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from federation.protocol.vocab.context import AS_CONTEXT, PUBLIC, SECURITY_CONTEXT
from federation.protocol.vocab.quotes import QUOTE_CONTEXT
from storage.collections import Page
from storage.models import Actor, ActorType, Media, Object, Poll, PollOption

ACTOR_CONTEXT: list[Any] = [
    AS_CONTEXT,
    SECURITY_CONTEXT,
    {
        "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
        "toot": "http://joinmastodon.org/ns#",
        "featured": {"@id": "toot:featured", "@type": "@id"},
        "featuredTags": {"@id": "toot:featuredTags", "@type": "@id"},
        "discoverable": "toot:discoverable",
        "indexable": "toot:indexable",
        "Emoji": "toot:Emoji",
        "schema": "http://schema.org#",
        "PropertyValue": "schema:PropertyValue",
        "value": "schema:value",
    },
]


def ap_datetime(value: datetime) -> str:
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _public_key(actor: Actor) -> dict[str, str]:
    return {"id": actor.key_id, "owner": actor.uri, "publicKeyPem": actor.public_key_pem}


def actor_to_ap(actor: Actor, emojis: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
    """The full actor document of a local actor; `emojis`: the Emoji tags of ours its name,
    summary and fields use (`social.emojis.tags_for`)."""
    return {
        "@context": ACTOR_CONTEXT,
        "id": actor.uri,
        "type": actor.type.value,
        "preferredUsername": actor.username,
        "name": actor.display_name,
        "summary": actor.summary,
        "url": actor.url,
        "inbox": actor.inbox,
        "outbox": actor.outbox,
        "followers": actor.followers_url,
        "following": actor.following_url,
        "featured": actor.featured_url,
        "featuredTags": featured_tags_url(actor),
        "endpoints": {"sharedInbox": actor.shared_inbox},
        "publicKey": _public_key(actor),
        "manuallyApprovesFollowers": actor.manually_approves_followers,
        "discoverable": actor.discoverable,
        "indexable": actor.discoverable,
        "published": ap_datetime(actor.published),
        **({"icon": {"type": "Image", "url": actor.avatar_url}} if actor.avatar_url else {}),
        **({"image": {"type": "Image", "url": actor.header_url}} if actor.header_url else {}),
        "attachment": [
            {"type": "PropertyValue", "name": f.get("name", ""), "value": f.get("value", "")}
            for f in actor.fields or []
        ],
        "tag": list(emojis),
    }


def featured_tags_url(actor: Actor) -> str:
    """The id of a local actor's `featuredTags` collection (beside `featured`, as Mastodon has it)."""
    return f"{actor.uri}/collections/tags"


def key_only_actor_to_ap(actor: Actor) -> dict[str, Any]:
    """The minimal actor form that lets a peer verify our signatures and nothing more."""
    return {
        "@context": [AS_CONTEXT, SECURITY_CONTEXT],
        "id": actor.uri,
        "type": actor.type.value,
        "preferredUsername": actor.username,
        "inbox": actor.inbox,
        "publicKey": _public_key(actor),
    }


def collection_to_ap(collection_id: str, total: int) -> dict[str, Any]:
    """The collection's root: its size and a link to the first (newest) page."""
    return {
        "@context": AS_CONTEXT,
        "id": collection_id,
        "type": "OrderedCollection",
        "totalItems": total,
        "first": f"{collection_id}?page=true",
    }


def collection_page_to_ap(
    collection_id: str,
    page: Page,
    total: int,
    *,
    max_id: int | None = None,
    min_id: int | None = None,
) -> dict[str, Any]:
    """One `OrderedCollectionPage`; `next` goes to older items, `prev` to newer ones."""
    cursor = f"&min_id={min_id}" if min_id is not None else (
        f"&max_id={max_id}" if max_id is not None else ""
    )
    document: dict[str, Any] = {
        "@context": AS_CONTEXT,
        "id": f"{collection_id}?page=true{cursor}",
        "type": "OrderedCollectionPage",
        "partOf": collection_id,
        "totalItems": total,
        "orderedItems": [item for _, item in page.items],
    }
    if page.has_older:
        # Older than this page's last item; an empty page beyond the newest goes back to its cursor.
        anchor = page.oldest_id if page.items else min_id + 1
        document["next"] = f"{collection_id}?page=true&max_id={anchor}"
    if page.has_newer:
        # Newer than this page's first item; an empty page past the oldest goes back to its cursor.
        anchor = page.newest_id if page.items else max(max_id - 1, 0)
        document["prev"] = f"{collection_id}?page=true&min_id={anchor}"
    return document


def featured_to_ap(collection_id: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "@context": AS_CONTEXT,
        "id": collection_id,
        "type": "OrderedCollection",
        "totalItems": len(items),
        "orderedItems": items,
    }


def featured_tags_to_ap(collection_id: str, names: list[str], base_url: str) -> dict[str, Any]:
    """A local actor's featured hashtags: an unordered Collection of Hashtag items, as Mastodon
    publishes it."""
    return {
        "@context": [AS_CONTEXT, {"Hashtag": "as:Hashtag"}],
        "id": collection_id,
        "type": "Collection",
        "totalItems": len(names),
        "items": [hashtag_to_ap(name, base_url) for name in names],
    }


# --- posts -----------------------------------------------------------------------------------

NOTE_CONTEXT: list[Any] = [
    AS_CONTEXT,
    {
        "sensitive": "as:sensitive",
        "Hashtag": "as:Hashtag",
        "toot": "http://joinmastodon.org/ns#",
        "blurhash": "toot:blurhash",
        "votersCount": "toot:votersCount",
        "Emoji": "toot:Emoji",
    },
    QUOTE_CONTEXT,  # quote posts (federation.protocol.vocab.quotes)
]


def note_to_ap(post: Object, author: Actor, to: list[str], cc: list[str], mentions: list[Actor], tags: list[str],
               base_url: str) -> dict[str, Any]:
    """A local post as the object peers store (`to` and `cc` from its visibility and mentions)."""
    document: dict[str, Any] = {
        "@context": NOTE_CONTEXT,
        "id": post.uri,
        "type": post.type,
        "attributedTo": author.uri,
        "content": post.content,
        "summary": post.summary or None,
        "sensitive": post.sensitive,
        "published": ap_datetime(post.published),
        "url": post.url,
        "inReplyTo": post.in_reply_to_uri,
        "to": to,
        "cc": cc,
        "tag": [mention_to_ap(actor) for actor in mentions] + [hashtag_to_ap(name, base_url) for name in tags],
        "attachment": [attachment_to_ap(attachment) for attachment in post.attachments or []],
    }
    groups = [actor.uri for actor in mentions if actor.type is ActorType.Group]
    if groups:  # posted to a community (FEP-1b12): its audience, as group servers expect
        document["audience"] = groups[0]
    if post.language:
        document["contentMap"] = {post.language: post.content}
    if post.updated:
        document["updated"] = ap_datetime(post.updated)
    return document


def mention_to_ap(actor: Actor) -> dict[str, Any]:
    return {"type": "Mention", "href": actor.uri, "name": f"@{actor.username}@{actor.domain}"}


def hashtag_to_ap(name: str, base_url: str) -> dict[str, Any]:
    return {"type": "Hashtag", "href": f"{base_url}/tags/{name}", "name": f"#{name}"}


def attachment_to_ap(attachment: dict[str, Any]) -> dict[str, Any]:
    """An attachment as posts store it (federation.protocol.vocab.parse.Attachment) as a Note's
    `attachment` item."""
    return {
        "type": attachment.get("type", "Document"), "mediaType": attachment.get("media_type"),
        "url": attachment["url"], "name": attachment.get("name"),
        **({"blurhash": attachment["blurhash"]} if attachment.get("blurhash") else {}),
        **({"width": attachment["width"], "height": attachment["height"]} if attachment.get("width") else {}),
    }


def media_to_ap(media: Media, url: str) -> dict[str, Any]:
    """A local upload, served at `url`, as the `attachment` item of a Note (Mastodon's shape)."""
    document: dict[str, Any] = {
        "type": "Document", "mediaType": media.mime_type, "url": url,
        "name": media.description or None, "focalPoint": [media.focus_x, media.focus_y],
    }
    if media.blurhash:
        document["blurhash"] = media.blurhash
    if media.width and media.height:
        document |= {"width": media.width, "height": media.height}
    return document


def question_to_ap(poll: Poll, options: list[PollOption], *, closed: bool) -> dict[str, Any]:
    """The poll fields of a local Question: its options with their counts, its end, its voters."""
    choices = [{"type": "Note", "name": option.title,
                "replies": {"type": "Collection", "totalItems": option.votes_count}}
               for option in options]
    document: dict[str, Any] = {"anyOf" if poll.multiple else "oneOf": choices, "votersCount": poll.voters_count}
    if poll.expires_at is not None:
        document["endTime"] = ap_datetime(poll.expires_at)
        if closed:
            document["closed"] = ap_datetime(poll.expires_at)
    return document


def vote_to_ap(vote_uri: str, voter: Actor, poll_author: Actor, poll_uri: str, title: str) -> dict[str, Any]:
    """A vote on a remote poll: a Create of a Note named after the chosen option, for the poll's
    author alone."""
    note = {"id": vote_uri, "type": "Note", "name": title, "attributedTo": voter.uri, "to": [poll_author.uri],
            "inReplyTo": poll_uri}
    return {"@context": AS_CONTEXT, "id": f"{vote_uri}/activity", "type": "Create", "actor": voter.uri,
            "to": [poll_author.uri], "object": note}


# --- activities ------------------------------------------------------------------------------

def create_to_ap(activity_id: str, author: Actor, note: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The Create of a local post (`note`, from note_to_ap), to the note's own audience."""
    return _note_activity("Create", activity_id, author, note, now)


def update_to_ap(activity_id: str, author: Actor, note: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The Update of a local post after an edit or a poll's new counts."""
    return _note_activity("Update", activity_id, author, note, now)


def _note_activity(kind: str, activity_id: str, author: Actor, note: dict[str, Any], now: datetime) -> dict[str, Any]:
    return {
        "@context": note["@context"], "id": activity_id, "type": kind, "actor": author.uri,
        "published": ap_datetime(now), "to": note["to"], "cc": note["cc"], "object": note,
    }


def actor_update_to_ap(activity_id: str, actor: Actor, emojis: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
    """The Update of a local actor whose profile changed, to the public and its followers."""
    return {
        "@context": ACTOR_CONTEXT, "id": activity_id, "type": "Update", "actor": actor.uri,
        "to": [PUBLIC], "cc": [actor.followers_url], "object": actor_to_ap(actor, emojis),
    }


def delete_to_ap(activity_id: str, author: Actor, post_uri: str, to: list[str], cc: list[str]) -> dict[str, Any]:
    """The Delete of a local post, a Tombstone in its place, to the post's audience."""
    return {
        "@context": AS_CONTEXT, "id": activity_id, "type": "Delete",
        "actor": author.uri, "to": to, "cc": cc,
        "object": {"id": post_uri, "type": "Tombstone"},
    }


def like_to_ap(like_uri: str, actor: Actor, post_uri: str) -> dict[str, Any]:
    return {"@context": AS_CONTEXT, **_like(like_uri, actor, post_uri)}


def _like(like_uri: str, actor: Actor, post_uri: str) -> dict[str, Any]:
    return {"id": like_uri, "type": "Like", "actor": actor.uri, "object": post_uri}


def announce_to_ap(announce_uri: str, actor: Actor, post_uri: str, post_author: Actor, now: datetime, *,
                   context: str | None = None) -> dict[str, Any]:
    """A boost: public, copied to the post's author and the booster's followers. A community's
    boost of a thread's first post names the thread's `context` (FEP-7888)."""
    document = {
        "@context": AS_CONTEXT, "id": announce_uri, "type": "Announce", "actor": actor.uri,
        "published": ap_datetime(now), "to": [PUBLIC],
        "cc": [post_author.uri, actor.followers_url], "object": post_uri,
    }
    if context is not None:
        document["context"] = context
    return document


def follow_to_ap(follow_uri: str, follower: Actor, followee: Actor) -> dict[str, Any]:
    return {"@context": AS_CONTEXT, **_follow(follow_uri, follower, followee)}


def _follow(follow_uri: str, follower: Actor, followee: Actor) -> dict[str, Any]:
    return {"id": follow_uri, "type": "Follow", "actor": follower.uri, "object": followee.uri}


def accept_to_ap(activity_id: str, follow_uri: str, follower: Actor, followee: Actor) -> dict[str, Any]:
    """The followee's Accept of a Follow, which it embeds."""
    return _answer("Accept", activity_id, follow_uri, follower, followee)


def reject_to_ap(activity_id: str, follow_uri: str, follower: Actor, followee: Actor) -> dict[str, Any]:
    """The followee's Reject of a Follow (also sent when it removes or blocks a follower)."""
    return _answer("Reject", activity_id, follow_uri, follower, followee)


def _answer(kind: str, activity_id: str, follow_uri: str, follower: Actor, followee: Actor) -> dict[str, Any]:
    return {
        "@context": AS_CONTEXT, "id": activity_id, "type": kind, "actor": followee.uri,
        "object": _follow(follow_uri, follower, followee),
    }


def block_to_ap(block_uri: str, actor: Actor, target: Actor) -> dict[str, Any]:
    return {"@context": AS_CONTEXT, **_block(block_uri, actor, target)}


def _block(block_uri: str, actor: Actor, target: Actor) -> dict[str, Any]:
    return {"id": block_uri, "type": "Block", "actor": actor.uri, "object": target.uri}


def undo_like_to_ap(activity_id: str, like_uri: str, actor: Actor, post_uri: str) -> dict[str, Any]:
    return _undo(activity_id, actor, _like(like_uri, actor, post_uri))


def undo_announce_to_ap(activity_id: str, announce_uri: str, actor: Actor, post_uri: str) -> dict[str, Any]:
    """The Undo of a boost; the Announce it embeds is the short form (id, actor, object)."""
    return _undo(activity_id, actor, {"id": announce_uri, "type": "Announce", "actor": actor.uri, "object": post_uri})


def undo_follow_to_ap(activity_id: str, follow_uri: str, follower: Actor, followee: Actor) -> dict[str, Any]:
    return _undo(activity_id, follower, _follow(follow_uri, follower, followee))


def undo_block_to_ap(activity_id: str, block_uri: str, actor: Actor, target: Actor) -> dict[str, Any]:
    return _undo(activity_id, actor, _block(block_uri, actor, target))


def _undo(activity_id: str, actor: Actor, undone: dict[str, Any]) -> dict[str, Any]:
    return {"@context": AS_CONTEXT, "id": activity_id, "type": "Undo", "actor": actor.uri, "object": undone}


def outbox_export_to_ap(collection_id: str, activities: list[dict[str, Any]]) -> dict[str, Any]:
    """A practitioner's whole outbox in one `OrderedCollection` (her data export): the activities
    as they were sent, each without its own @context, newest first as outboxes are."""
    items = [{key: value for key, value in activity.items() if key != "@context"} for activity in activities]
    return {"@context": AS_CONTEXT, "id": collection_id, "type": "OrderedCollection",
            "totalItems": len(items), "orderedItems": list(reversed(items))}
