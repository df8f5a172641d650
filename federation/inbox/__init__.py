"""Inbound: `intake` checks and stores each signed POST (policy, signature, parse, origins) and
answers 202 once its row is durable (`writer`, a group commit); `worker` claims stored items and
runs the handler of each activity type (`handlers/`, one module per type) in its own transaction."""
