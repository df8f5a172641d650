"""The federation settings, as a frozen dataclass `server.config` fills from the [federation]
table. Defined here so that `federation` never imports `server`."""

from __future__ import annotations

from dataclasses import dataclass

FEDERATION_MODES = ("allowlist", "blocklist", "open")


@dataclass(frozen=True)
class FederationSettings:
    mode: str = "allowlist"
    allow_http: bool = False
    allow_private_addresses: bool = False
    collection_page_size: int = 20
    signature_max_skew_seconds: int = 3600
    key_refetch_interval_seconds: int = 300
    fetch_max_bytes: int = 1_000_000
    fetch_timeout_seconds: float = 10.0
    reply_fetch_depth: int = 5
    delivery_max_age_days: float = 14.0
    delivery_concurrency: int = 32
    delivery_per_host: int = 4
    worker_poll_seconds: float = 1.0
    subscription_refresh_minutes: float = 60.0
    inbox_max_attempts: int = 8
    # how long settled queue rows are kept (federation.admin.retention); 0: forever
    finished_retention_days: float = 7.0  # done and ignored inbox items, delivered deliveries and pushes
    failed_retention_days: float = 30.0  # dead and discarded inbox items, dead and cancelled deliveries and pushes
    pending_peers_max: int = 1000
    pending_peers_per_address_per_hour: int = 20
    pending_peer_expiry_days: float = 30.0
    object_max_attachments: int = 16
    object_max_tags: int = 50
    object_max_mentions: int = 50
    object_max_content_chars: int = 100_000
