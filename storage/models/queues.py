"""Work queues and peers. Each queue is a table whose rows move through named states; every allowed
move is declared in `storage.states`, and the workers and admin commands make them.

Inbox items (`federation.inbox.worker` works them; `rounds queue` is the admin's hand): one row
    per received activity, unique on the activity id, so a redelivery is a no-op. A claim counts an
    attempt and leases the row (queued, `next_attempt_at` pushed past the lease), so a worker that
    dies mid-item loses nothing; an item whose attempts run out while leased (it killed its process
    each time) is dead at its next claim. Whatever one item raises fails that item alone, with
    `last_error`; a failed item is due again after a backoff that doubles each time.
Deliveries (`federation.outbox.delivery`; `rounds queue` too): one row per (activity, target
    inbox). A retryable failure leaves the row queued with a later `next_attempt_at`;
    `claimed_until` is a lease, so a worker that dies mid-send loses nothing. A send's outcome is
    recorded only on a row still queued, so a discard made mid-send stands.
Peers: one row per remote authority (host[:port]); the policy state lives here, and so does the
    delivery health and backoff, shared by every delivery to that peer.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, Enum, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, JSONText, id_column, states_check, utcnow


class InboxState(str, enum.Enum):
    queued = "queued"
    done = "done"
    ignored = "ignored"      # understood and deliberately not acted on (unknown type, stale, ...)
    failed = "failed"        # decoding, parsing or handling raised; retried later, with backoff
    dead = "dead"            # failed on every allowed attempt; an admin may retry or discard it
    discarded = "discarded"  # an admin gave up on it


class InboxItem(Base):
    __tablename__ = "inbox_items"
    __table_args__ = (
        Index("ix_inbox_items_state_next", "state", "next_attempt_at"),
        Index("ix_inbox_items_state_turn_id", "state", "turn", "id"),  # the queued items' claim order
        # an actor's items still queued, in arrival order: what a claim checks so that an actor's
        # activity is never handled before, or beside, an earlier one of the same actor
        Index("ix_inbox_items_queued_actor", "actor_uri", "id",
              sqlite_where=text("state = 'queued'"), postgresql_where=text("state = 'queued'")),
        # settled items by state and time: what the retention sweep deletes (storage.leases.delete_settled);
        # a live item has no processed_at, so it is not in this index at all
        Index("ix_inbox_items_state_processed", "state", "processed_at",
              sqlite_where=text("processed_at IS NOT NULL"), postgresql_where=text("processed_at IS NOT NULL")),
        states_check("inbox_items", InboxState),
    )

    id: Mapped[int] = id_column()
    activity_uri: Mapped[str] = mapped_column(String(2048), unique=True)
    activity_type: Mapped[str] = mapped_column(String(64))
    actor_uri: Mapped[str] = mapped_column(String(2048))
    signer_key_id: Mapped[str] = mapped_column(String(2048))
    recipient_id: Mapped[int | None] = mapped_column(BigInteger)  # the local actor whose inbox got it
    raw: Mapped[str] = mapped_column(JSONText)  # the JSON text received, as it came; decoded by the worker
    state: Mapped[InboxState] = mapped_column(Enum(InboxState, native_enum=False, length=16), default=InboxState.queued)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    # its place among queued items: stamped at intake by start-time fair queuing over peers
    # (federation.inbox.turns), so a flooding peer's backlog does not hold up the others
    turn: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    processed_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


class DeliveryState(str, enum.Enum):
    queued = "queued"
    delivered = "delivered"
    dead = "dead"            # gave up: permanent error, or retried past the maximum age
    cancelled = "cancelled"  # the peer was blocked, the activity withdrawn, or an admin discarded it


class Delivery(Base):
    __tablename__ = "deliveries"
    __table_args__ = (
        Index("ix_deliveries_state_next", "state", "next_attempt_at"),
        Index("ix_deliveries_state_id_next", "state", "id", "next_attempt_at"),  # the claim's order
        Index("ix_deliveries_peer_state", "peer", "state"),
        Index("ix_deliveries_state_finished", "state", "finished_at",  # the retention sweep's (as inbox items')
              sqlite_where=text("finished_at IS NOT NULL"), postgresql_where=text("finished_at IS NOT NULL")),
        states_check("deliveries", DeliveryState),
    )

    id: Mapped[int] = id_column()
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"), index=True)
    sender_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))
    inbox: Mapped[str] = mapped_column(String(2048))
    peer: Mapped[str] = mapped_column(String(255))
    state: Mapped[DeliveryState] = mapped_column(Enum(DeliveryState, native_enum=False, length=16), default=DeliveryState.queued)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_until: Mapped[datetime | None]
    last_attempt_at: Mapped[datetime | None]
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    finished_at: Mapped[datetime | None]


class PeerState(str, enum.Enum):
    known = "known"      # seen, no admin decision (open and blocklist modes let it through)
    allowed = "allowed"
    blocked = "blocked"
    # federates as allowed, but its posts stay out of the federated and hashtag timelines: they
    # reach only its accounts' followers' homes (Mastodon's "limit")
    limited = "limited"
    pending = "pending"  # contacted us in allowlist mode and was refused; awaiting a decision


class Peer(Base):
    __tablename__ = "peers"
    # the reads that hide blocked peers look at the blocked rows only (storage.coverage)
    __table_args__ = (Index("ix_peers_state", "state"),)

    id: Mapped[int] = id_column()
    domain: Mapped[str] = mapped_column(String(255), unique=True)  # authority: host[:port], or *.suffix
    state: Mapped[PeerState] = mapped_column(Enum(PeerState, native_enum=False, length=16), default=PeerState.known)
    note: Mapped[str] = mapped_column(Text, default="")
    # who owns the decision: "admin" (set by hand; a subscription never touches it), or the
    # URL of the subscription that added it; None for a peer only seen, never decided on
    source: Mapped[str | None] = mapped_column(String(2048))
    changed_by: Mapped[str | None] = mapped_column(String(255))
    changed_at: Mapped[datetime | None]
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime | None]
    request_count: Mapped[int] = mapped_column(BigInteger, default=0)
    signature_scheme: Mapped[str | None] = mapped_column(String(16))  # "cavage" or "rfc9421", learned
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    retry_at: Mapped[datetime | None]  # per-peer backoff: no delivery before this
    last_success_at: Mapped[datetime | None]
    last_failure_at: Mapped[datetime | None]
    last_failure_reason: Mapped[str | None] = mapped_column(Text)
    # the last inbound request refused from this peer: what it asked for, why it was refused, the
    # key it was signed with, and whether the signature was checked (valid | invalid | unverified)
    last_refused_at: Mapped[datetime | None]
    last_refused_route: Mapped[str | None] = mapped_column(String(255))
    last_refusal_reason: Mapped[str | None] = mapped_column(Text)
    last_key_id: Mapped[str | None] = mapped_column(String(2048))
    signature_state: Mapped[str | None] = mapped_column(String(16))


class HealthProbe(Base):
    """One row per probe name, rewritten by each health check: proof that the database takes writes."""

    __tablename__ = "health_probes"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    at: Mapped[datetime]


class PeerSubscription(Base):
    """A published list of peer hospitals this instance follows (e.g. a consortium's members)."""

    __tablename__ = "peer_subscriptions"

    id: Mapped[int] = id_column()
    url: Mapped[str] = mapped_column(String(2048), unique=True)
    review: Mapped[bool] = mapped_column(default=False)  # new members become pending, not allowed
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_fetched_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
