"""The protocol: HTTP signatures (draft-cavage and RFC 9421) and digests, keys and the key
store, the HTTP client with its SSRF guard, fetching documents, local URLs, HTML sanitising, and
vocab: ActivityStreams parsed at the boundary into typed objects and rendered from them.

Nothing here knows about posts, follows or timelines; the other rooms build on it."""
