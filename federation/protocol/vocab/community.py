"""A community's documents (FEP-1b12): its Group actor and its moderators collection.

A Group is an actor like any other (its followers are its members), plus `attributedTo`, the
collection of its moderators, `postingRestrictedToMods` for an announcement channel, and its
rules, which Mastodon-compatible servers show as profile fields and group servers read as text.
"""

from __future__ import annotations

from typing import Any

from federation.protocol.vocab.context import AS_CONTEXT
from federation.protocol.vocab.render import ACTOR_CONTEXT, actor_to_ap
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
