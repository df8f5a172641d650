"""Admin decisions about peers: allow, limit, block, remove; import and export; the audit trail.

Every change goes through `decide` (or `remove`), which writes the peer row and an audit entry
with the state before and after, who made it and why, in the caller's transaction. Blocking
also severs follows in both directions and cancels queued deliveries to the peer (recorded as
cancelled), and with `purge` deletes the peer's cached actors and their content. Unblocking
restores traffic but not the severed follows. Limiting changes no traffic: a limited peer
federates as an allowed one, and its posts stay out of the public timelines.

Mastodon's shape for a limit is a domain block of severity `silence` (a block is `suspend`): the
admin API's domain_blocks and the domain-block CSV (import and export, shared by the CLI and the
admin pages) both map the severities through `SEVERITIES`.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from federation.admin.audit import audit
from storage import deliveries as delivery_queries
from storage import peers as peer_queries
from storage.coverage import EntryError, normalise_entry
from storage.instance_api import peers_in_state
from storage.models import Peer, PeerState
from storage.peers import PeerRow, list_peers, peer_by_domain, peer_row  # noqa: F401  (the admin's reads)

ADMIN = "admin"
MASTODON_BLOCK_HEADER = ["#domain", "#severity", "#reject_media", "#reject_reports", "#public_comment", "#obfuscate"]
# Mastodon's domain-block severities: suspend is a block, silence a limit (noop is not a decision)
SEVERITIES = {"suspend": PeerState.blocked, "silence": PeerState.limited}
SEVERITY_OF = {state: severity for severity, state in SEVERITIES.items()}
DOMAIN_BLOCKS = (PeerState.blocked, PeerState.limited)  # the states a domain-block list holds


class PeerError(Exception):
    """A peer request that cannot be carried out; one line."""


def normalise_domain(value: str) -> str:
    """An entry (`host`, `host:port`, `*.domain`, `*.domain:port`; see storage.coverage),
    lowercase, IDNs as punycode; PeerError if it is not one or could never cover a peer."""
    try:
        return normalise_entry(value)
    except EntryError as exc:
        raise PeerError(str(exc)) from None


def _snapshot(peer: Peer | None) -> dict[str, Any] | None:
    if peer is None:
        return None
    return {"state": peer.state.value, "note": peer.note, "source": peer.source}


async def decide(
    session: AsyncSession, domain: str, state: PeerState, *, by: str, at: datetime, note: str | None = None,
    reason: str = "", source: str = ADMIN, purge: bool = False,
) -> Peer:
    """Set a peer's state (allowed, limited, blocked or pending) and record it."""
    domain = normalise_domain(domain)
    peer = await peer_by_domain(session, domain)
    before = _snapshot(peer)
    if peer is None:
        peer = await peer_queries.add_peer(session, domain, at)
    peer.state = state
    peer.source = source
    if note is not None:
        peer.note = note
    peer.changed_by = by
    peer.changed_at = at
    await peer_queries.save_peer(session)
    if state is PeerState.blocked:
        effects = await _sever(session, domain, purge=purge, by=by, at=at)
        reason = "; ".join(filter(None, [reason, effects]))
    if state in (PeerState.allowed, PeerState.limited):
        await peer_queries.admit_knocks(session, domain)  # federation.peers.greeting tells them
    await audit(session, by=by, action=f"peer.{state.value}", subject=domain, before=before,
                after=_snapshot(peer), reason=reason, at=at)
    return peer


async def remove(session: AsyncSession, domain: str, *, by: str, at: datetime, reason: str = "") -> None:
    """Forget the decision about a peer (it becomes unknown again)."""
    domain = normalise_domain(domain)
    peer = await peer_by_domain(session, domain)
    if peer is None:
        raise PeerError(f"no peer {domain}")
    before = _snapshot(peer)
    await peer_queries.forget_peer(session, peer)
    await audit(session, by=by, action="peer.remove", subject=domain, before=before, after=None, reason=reason, at=at)


async def _sever(session: AsyncSession, domain: str, *, purge: bool, by: str, at: datetime) -> str:
    """Follows between our actors and the peer's end; queued deliveries to it are cancelled."""
    follows = await peer_queries.sever_follows(session, domain, at)
    cancelled = await delivery_queries.cancel_queued_to(session, domain, at, f"cancelled: peer blocked by {by}")
    effects = f"severed {follows} follows, cancelled {cancelled} deliveries"
    if purge:
        effects += f", purged {await peer_queries.purge_actors(session, domain)} actors and their content"
    return effects


# --- import and export ----------------------------------------------------------------------

@dataclass(frozen=True)
class Entry:
    domain: str
    state: PeerState
    note: str


def parse_list(text: str, *, source: str = "file") -> list[Entry]:
    """A Mastodon domain-block CSV (`#domain,#severity,...`: `suspend` a block, `silence` a limit,
    `noop` skipped) or a domain list, plain or CSV with a `#domain` header (allows). Every line is
    checked; PeerError names the first bad one."""
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    header = [cell.strip().lower() for cell in rows[0]] if rows else []
    blocks = "#severity" in header
    start = 1 if header and header[0] in ("#domain", "domain") else 0
    entries: dict[str, Entry] = {}
    for number, row in enumerate(rows[start:], start=start + 1):
        cells = [cell.strip() for cell in row]
        if not cells or not cells[0] or cells[0].startswith("#"):  # blank or comment line
            continue
        try:
            domain = normalise_domain(cells[0])
        except PeerError as exc:
            raise PeerError(f"{source} line {number}: {exc}") from None
        note = ""
        state = PeerState.allowed
        if blocks:
            record = dict(zip(header, cells))
            severity = record.get("#severity", "suspend") or "suspend"
            if severity == "noop":
                continue
            if severity not in SEVERITIES:
                raise PeerError(f"{source} line {number}: unknown severity {severity!r} (suspend, silence or noop)")
            state = SEVERITIES[severity]
            note = record.get("#public_comment", "")
        entries[domain] = Entry(domain, state, note)
    return list(entries.values())


def export_list(peers: list[Peer], state: PeerState) -> str:
    """`state` blocked: Mastodon's domain-block CSV of `peers` (blocked and limited ones, each with
    its severity); allowed: a `#domain` list."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if state is PeerState.blocked:
        writer.writerow(MASTODON_BLOCK_HEADER)
        for peer in peers:
            rejects = "true" if peer.state is PeerState.blocked else "false"
            writer.writerow([peer.domain, SEVERITY_OF[peer.state], rejects, rejects, peer.note, "false"])
    else:
        writer.writerow(["#domain"])
        for peer in peers:
            writer.writerow([peer.domain])
    return out.getvalue()


async def export_csv(session: AsyncSession, state: PeerState) -> str:
    """The file an admin downloads (CLI and admin pages): `state` blocked, Mastodon's domain-block
    CSV of the blocked and limited peers; allowed, the allowed peers' `#domain` list."""
    states = DOMAIN_BLOCKS if state is PeerState.blocked else (PeerState.allowed,)
    peers = sorted(await peers_in_state(session, *states), key=lambda peer: peer.domain)
    return export_list(peers, state)


async def import_entries(session: AsyncSession, entries: list[Entry], *, by: str, at: datetime, reason: str) -> int:
    changed = 0
    for entry in entries:
        current = await peer_by_domain(session, entry.domain)
        if current is not None and current.state is entry.state and current.source == ADMIN:
            continue
        await decide(session, entry.domain, entry.state, by=by, at=at, note=entry.note or None, reason=reason)
        changed += 1
    return changed

