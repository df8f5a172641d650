"""ActivityStreams vocabulary: typed objects parsed at the boundary (`parse`), and local rows
rendered as JSON-LD (`render`). Raw dicts from the network stop here."""

from federation.protocol.vocab.context import AS_CONTEXT, PUBLIC, PUBLIC_FORMS, SECURITY_CONTEXT
from federation.protocol.vocab.render import (
    ACTOR_CONTEXT,
    actor_to_ap,
    ap_datetime,
    collection_page_to_ap,
    collection_to_ap,
    featured_tags_to_ap,
    featured_tags_url,
    featured_to_ap,
    key_only_actor_to_ap,
    outbox_export_to_ap,
)

__all__ = [
    "ACTOR_CONTEXT", "AS_CONTEXT", "PUBLIC", "PUBLIC_FORMS", "SECURITY_CONTEXT", "actor_to_ap",
    "ap_datetime", "collection_page_to_ap", "collection_to_ap", "featured_tags_to_ap",
    "featured_tags_url", "featured_to_ap",
    "key_only_actor_to_ap", "outbox_export_to_ap",
]
