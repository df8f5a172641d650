"""What wakes each background worker of this process (federation.runtime.workers) before its
next poll: work queued here, after its commit. Work queued by another process is found by the
poll, every `worker_poll_seconds`."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field


@dataclass
class Wakeups:
    inbox: asyncio.Event = field(default_factory=asyncio.Event)  # an activity was stored (intake)
    deliveries: asyncio.Event = field(default_factory=asyncio.Event)  # deliveries queued, or a peer is back
    push: asyncio.Event = field(default_factory=asyncio.Event)  # a notification was written (its pushes may be queued)
    peers_allowed: asyncio.Event = field(default_factory=asyncio.Event)  # greet them (federation.peers.greeting)
