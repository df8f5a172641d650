"""Inbound: `intake` checks and stores each signed POST (policy, signature, parse, origins) and
answers 202 once its row is durable (`writer`, a group commit); `worker` claims stored items and
runs the handler of each activity type (`handlers/`, one module per type): concurrently, in order
where order matters, with a savepoint per item and a commit per batch."""
