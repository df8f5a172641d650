"""Outbound: `actions` turns a local action (post, edit, follow, ...) into rows and an activity,
computes its audience and queues one delivery per target inbox in the same transaction;
`delivery` signs and sends them, with backoff per peer."""
