"""A community's documents (FEP-1b12): its Group actor, its moderators collection, and what it
announces besides posts (an activity of one of its threads, a moderator's removal).

A Group is an actor like any other (its followers are its members), plus `attributedTo`, the
collection of its moderators, `postingRestrictedToMods` for an announcement channel, and its
rules, which Mastodon-compatible servers show as profile fields and group servers read as text.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from federation.protocol.vocab.context import AS_CONTEXT, PUBLIC
from federation.protocol.vocab.render import ACTOR_CONTEXT, actor_to_ap, ap_datetime
from storage.models import Actor, Community, PostingPolicy

GROUP_CONTEXT: list[Any] = [
    *ACTOR_CONTEXT,
    {"lemmy": "https://join-lemmy.org/ns#", "postingRestrictedToMods": "lemmy:postingRestrictedToMods"},
]


def group_to_ap(actor: Actor, community: Community, moderators_url: str,
                emojis: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
    """The full actor document of a community hosted here (`emojis`: as `actor_to_ap`'s)."""
    rules = community.rules or []
    document = actor_to_ap(actor, emojis)
    document.update({
        "@context": GROUP_CONTEXT,
        "attributedTo": moderators_url,
        "moderators": moderators_url,
        "postingRestrictedToMods": community.posting is PostingPolicy.moderators,
        "manuallyApprovesFollowers": actor.manually_approves_followers,
    })
    if rules:
        document["attachment"] = [*document["attachment"], *(
            {"type": "PropertyValue", "name": f"Rule {n}", "value": rule} for n, rule in enumerate(rules, 1))]
    return document


def moderators_to_ap(collection_id: str, moderators: list[Actor]) -> dict[str, Any]:
    """The moderators collection, in full (a community has a handful)."""
    return {
        "@context": AS_CONTEXT,
        "id": collection_id,
        "type": "OrderedCollection",
        "totalItems": len(moderators),
        "orderedItems": [actor.uri for actor in moderators],
    }


def removal_to_ap(delete_uri: str, moderator: Actor, post_uri: str, group: Actor) -> dict[str, Any]:
    """A moderator's removal of a post from a community: a Delete by the moderator, which the
    group announces (FEP-1b12), addressed to the group's members."""
    return {"@context": AS_CONTEXT, "id": delete_uri, "type": "Delete", "actor": moderator.uri,
            "object": post_uri, "to": [PUBLIC], "cc": [group.followers_url], "audience": group.uri}


def group_announce_to_ap(announce_uri: str, group: Actor, inner: dict[str, Any], now: datetime, *,
                         context: str | None = None) -> dict[str, Any]:
    """The group's Announce of an activity in one of its threads (a reply's Create, an edit, a
    deletion, a removal, a pin), embedded exactly as the group received or made it (FEP-1b12:
    nothing changed or removed), to its members; `context`: the thread's (FEP-7888), so that a
    member's server learns it even for a post whose origin could not know it."""
    document = {"@context": AS_CONTEXT, "id": announce_uri, "type": "Announce", "actor": group.uri,
                "published": ap_datetime(now), "to": [PUBLIC], "cc": [group.followers_url], "object": inner}
    if context is not None:
        document["context"] = context
    return document


def context_url(group: Actor, root_id: int) -> str:
    """The id of the context collection (FEP-7888) of a thread of a community hosted here: the
    group owns it, and its root post (as stored here) names it."""
    return f"{group.uri}/context/{root_id}"


def context_to_ap(collection_id: str, group: Actor, post_uris: list[str]) -> dict[str, Any]:
    """A thread's context collection: its posts, by id (a reader fetches each from its origin),
    the first post first; owned by the community (`attributedTo`)."""
    return {"@context": AS_CONTEXT, "id": collection_id, "type": "OrderedCollection", "attributedTo": group.uri,
            "audience": group.uri, "totalItems": len(post_uris), "orderedItems": post_uris}


def group_featured_to_ap(group: Actor, post_uris: list[str]) -> dict[str, Any]:
    """A community's `featured` collection: its pinned threads, by id, newest pin first."""
    return {"@context": AS_CONTEXT, "id": group.featured_url, "type": "OrderedCollection",
            "totalItems": len(post_uris), "orderedItems": post_uris}


def featured_change_to_ap(activity_uri: str, moderator: Actor, post_uri: str, group: Actor, *,
                          pinned: bool) -> dict[str, Any]:
    """A moderator pins (Add) or unpins (Remove) a thread: the post added to or removed from the
    community's featured collection, as Lemmy says it; the group announces it to its members."""
    return {"@context": AS_CONTEXT, "id": activity_uri, "type": "Add" if pinned else "Remove",
            "actor": moderator.uri, "object": post_uri, "target": group.featured_url,
            "to": [PUBLIC], "cc": [group.followers_url, group.uri], "audience": group.uri}


def ban_to_ap(activity_uri: str, moderator: Actor, member: Actor, group: Actor) -> dict[str, Any]:
    """A moderator bans a member from a community (Lemmy's Block with the community as `target`)."""
    return {"@context": AS_CONTEXT, "id": activity_uri, "type": "Block", "actor": moderator.uri,
            "object": member.uri, "target": group.uri, "to": [group.uri], "cc": [PUBLIC], "audience": group.uri}


def group_update_to_ap(activity_uri: str, group_document: dict[str, Any]) -> dict[str, Any]:
    """The Update of a community hosted here (its title, summary, rules, policy): the whole Group
    document, to its members."""
    embedded = {key: value for key, value in group_document.items() if key != "@context"}
    return {"@context": group_document.get("@context", AS_CONTEXT), "id": activity_uri, "type": "Update",
            "actor": group_document["id"], "to": [PUBLIC], "cc": [group_document.get("followers")],
            "object": embedded}
