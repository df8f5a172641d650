"""A community's documents (FEP-1b12): its Group actor, its moderators collection, and what it
announces besides posts (an activity of one of its threads, a moderator's removal).

A Group is an actor like any other (its followers are its members), plus `attributedTo`, the
collection of its moderators, `postingRestrictedToMods` for an announcement channel, and its
rules, which Mastodon-compatible servers show as profile fields and group servers read as text.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from federation.protocol.vocab.context import AS_CONTEXT, PUBLIC
from federation.protocol.vocab.render import ACTOR_CONTEXT, actor_to_ap, ap_datetime
from storage.models import Actor, Community, PostingPolicy

GROUP_CONTEXT: list[Any] = [
    *ACTOR_CONTEXT,
    {"lemmy": "https://join-lemmy.org/ns#", "postingRestrictedToMods": "lemmy:postingRestrictedToMods"},
]


def group_to_ap(actor: Actor, community: Community, moderators_url: str) -> dict[str, Any]:
    """The full actor document of a community hosted here."""
    rules = community.rules or []
    document = actor_to_ap(actor)
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


def group_announce_to_ap(announce_uri: str, group: Actor, inner: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The group's Announce of an activity in one of its threads (an edit, a deletion, a removal),
    embedded as the group received or made it, to its members."""
    embedded = {key: value for key, value in inner.items() if key != "@context"}
    return {"@context": AS_CONTEXT, "id": announce_uri, "type": "Announce", "actor": group.uri,
            "published": ap_datetime(now), "to": [PUBLIC], "cc": [group.followers_url], "object": embedded}
