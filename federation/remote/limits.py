"""Bounds on one incoming post: how much of a peer's object reaches our tables.

Each cap has this one home, and `federation.social.posts` runs every remote post it stores or edits
through `bound`, so no path (a Create, an Update, a fetched parent or boosted post) can skip it:

- attachments, hashtags and mentions beyond [federation] object_max_attachments,
  object_max_tags and object_max_mentions are cut: the first ones are kept, as Mastodon does,
  and the cut is logged;
- content longer than object_max_content_chars is refused (PostRefused): the activity is
  recorded as ignored with that reason and never retried, and a fetched post is not stored.

Which hashtag names are valid is the parser's rule (`vocab.values.hashtag_name`); invalid ones
are dropped before they are counted.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from federation.runtime.settings import FederationSettings
from federation.protocol.vocab.parse import APObject
from federation.protocol.vocab.values import hashtag_name

log = logging.getLogger(__name__)


class PostRefused(Exception):
    """The post is over a limit that cutting cannot fix; one line."""


def bound(ap: APObject, limits: FederationSettings) -> APObject:
    """`ap` within the limits: cut to the first attachments, hashtags and mentions, or refused."""
    if len(ap.content) > limits.object_max_content_chars:
        raise PostRefused(f"{ap.id} has {len(ap.content)} characters of content, over the limit of "
                          f"{limits.object_max_content_chars}")
    hashtags = set(_first(ap, ap.hashtags, limits.object_max_tags, "hashtags"))
    mentions = set(_first(ap, ap.mentions, limits.object_max_mentions, "mentions"))
    attachments = _first(ap, list(ap.attachments), limits.object_max_attachments, "attachments")
    if (len(hashtags), len(mentions), len(attachments)) == (len(ap.hashtags), len(ap.mentions), len(ap.attachments)):
        return ap
    tags = tuple(tag for tag in ap.tags if (tag.type == "Hashtag" and hashtag_name(tag.name) in hashtags)
                 or (tag.type == "Mention" and tag.href in mentions))
    return replace(ap, tags=tags, attachments=tuple(attachments))


def _first(ap: APObject, items: list, limit: int, what: str) -> list:
    if len(items) > limit:
        log.info("post %s: kept the first %d of its %d %s", ap.id, limit, len(items), what)
    return items[:limit]
