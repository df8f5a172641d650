"""Outbound: `actions` (post, edit, like, boost, ...) and `relations` (follow, block, a changed
profile) turn a local action into rows and an activity,
computes its audience and queues one delivery per target inbox in the same transaction;
`delivery` signs and sends them, with backoff per peer."""
