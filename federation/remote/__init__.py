"""What other servers send us, and what it is trusted for: remote actors fetched from their
origin and checked (one origin for actor, key and owner), posts fetched and bounded, and the
lookups (WebFinger, ancestors of a reply) that bring them in outside a handler transaction."""
