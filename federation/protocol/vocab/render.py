"""Local rows become ActivityStreams JSON here, and nowhere else.

Converter names say which way data flows (`actor_to_ap`, `note_to_ap`).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from federation.protocol.vocab.context import AS_CONTEXT, SECURITY_CONTEXT
from storage.collections import Page
from storage.models import Actor

ACTOR_CONTEXT: list[Any] = [
    AS_CONTEXT,
    SECURITY_CONTEXT,
    {
        "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
        "toot": "http://joinmastodon.org/ns#",
        "featured": {"@id": "toot:featured", "@type": "@id"},
        "discoverable": "toot:discoverable",
        "indexable": "toot:indexable",
        "schema": "http://schema.org#",
        "PropertyValue": "schema:PropertyValue",
        "value": "schema:value",
    },
]


def ap_datetime(value: datetime) -> str:
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _public_key(actor: Actor) -> dict[str, str]:
    return {"id": actor.key_id, "owner": actor.uri, "publicKeyPem": actor.public_key_pem}


def actor_to_ap(actor: Actor) -> dict[str, Any]:
    """The full actor document of a local actor."""
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
    }


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

