"""`rounds peers ...` and `rounds audit`: the admin's view of federation policy from the shell."""

from __future__ import annotations

import argparse
import getpass
from pathlib import Path

from federation.peers import decisions
from federation.runtime.clock import SystemClock
from federation.protocol.http import make_client_session
from federation.peers.subscriptions import refresh_all, subscribe_and_fetch
from server.commands import CommandError, open_database_checked, require_initialised
from server.config import Settings
from storage import audit as audit_queries
from storage.models import PeerState

CLOCK = SystemClock()


def _by() -> str:
    return f"cli:{getpass.getuser()}"


def _when(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "-"


async def peers_list(settings: Settings, args: argparse.Namespace) -> int:
    state = PeerState(args.state) if args.state else None
    async with open_database_checked(settings) as db:
        await require_initialised(db, settings)
        async with db.sessions() as session:
            rows = await decisions.list_peers(session, state)
    if not rows:
        print(f"No peers{' in state ' + args.state if args.state else ''}.")
        return 0
    print(f"{'DOMAIN':<32} {'STATE':<8} {'SOURCE':<10} {'LAST SEEN':<16} {'REQS':>5} {'LAST OK':<16} "
          f"{'QUEUED':>6} {'DEAD':>5}  LAST FAILURE / REFUSAL / NOTE")
    for row in rows:
        p = row.peer
        source = "admin" if p.source == decisions.ADMIN else ("list" if p.source else "-")
        print(f"{p.domain:<32} {p.state.value:<8} {source:<10} {_when(p.last_seen_at):<16} {p.request_count:>5} "
              f"{_when(p.last_success_at):<16} {row.queued:>6} {row.dead:>5}  {_last_problem(p)}")
    return 0


def _last_problem(p) -> str:
    """The newest of: our last failed delivery to the peer, its last refused request; else the note."""
    failed, refused = p.last_failure_at, p.last_refused_at
    if failed and (not refused or failed >= refused):
        return f"{_when(failed)} delivery failed: {_line(p.last_failure_reason)}"
    if refused:
        return f"{_when(refused)} refused {p.last_refused_route}: {p.last_refusal_reason}"
    return p.note


def _line(text: str | None) -> str:
    return " ".join((text or "").split())[:160]


async def peers_pending(settings: Settings, args: argparse.Namespace) -> int:
    """Peers that knocked and were refused: how often, first and last, on which route, why, and
    whether the signature was valid against a key we held."""
    async with open_database_checked(settings) as db:
        await require_initialised(db, settings)
        async with db.sessions() as session:
            rows = await decisions.list_peers(session, PeerState.pending)
    if not rows:
        print("No pending peers.")
        return 0
    print(f"{'DOMAIN':<32} {'KNOCKS':>6} {'FIRST SEEN':<16} {'LAST SEEN':<16} {'SIGNATURE':<10} "
          f"{'LAST ROUTE':<28} REASON")
    for row in rows:
        p = row.peer
        route = p.last_refused_route or ("-" if p.source is None else "listed by " + p.source)
        print(f"{p.domain:<32} {p.request_count:>6} {_when(p.first_seen_at):<16} {_when(p.last_seen_at):<16} "
              f"{p.signature_state or '-':<10} {route:<28} {p.last_refusal_reason or '-'}")
    print("Allow one with 'rounds peers allow DOMAIN'; see one with 'rounds peers show DOMAIN'.")
    return 0


async def peers_show(settings: Settings, args: argparse.Namespace) -> int:
    domain = decisions.normalise_domain(args.domain)
    async with open_database_checked(settings) as db:
        await require_initialised(db, settings)
        async with db.sessions() as session:
            row = await decisions.peer_row(session, domain)
    if row is None:
        raise CommandError(f"no peer {domain}: 'rounds peers list' shows the peers this instance knows")
    p = row.peer
    fields = [
        ("domain", p.domain), ("state", p.state.value), ("source", p.source or "-"), ("note", p.note or "-"),
        ("decided", f"{_when(p.changed_at)} by {p.changed_by}" if p.changed_by else "-"),
        ("first seen", _when(p.first_seen_at)), ("last seen", _when(p.last_seen_at)), ("requests", p.request_count),
        ("last refused", f"{_when(p.last_refused_at)} {p.last_refused_route}: {p.last_refusal_reason}"
                         if p.last_refused_at else "-"),
        ("knock key", p.last_key_id or "-"), ("knock signature", p.signature_state or "-"),
        ("deliveries", f"{row.queued} queued, {row.dead} dead"),
        ("last delivered", _when(p.last_success_at)),
        ("last failure", f"{_when(p.last_failure_at)} {_line(p.last_failure_reason)}" if p.last_failure_at else "-"),
        ("backing off", f"until {_when(p.retry_at)} ({p.consecutive_failures} failures in a row)"
                        if p.retry_at else "no"),
        ("signature scheme", p.signature_scheme or "-"),
    ]
    for name, value in fields:
        print(f"{name + ':':<18} {value}")
    return 0


async def _decide(settings: Settings, domain: str, state: PeerState, note: str | None, purge: bool = False) -> None:
    async with open_database_checked(settings) as db:
        await require_initialised(db, settings)
        async with db.sessions.begin() as session:
            peer = await decisions.decide(session, domain, state, by=_by(), at=CLOCK.now(), note=note,
                                          reason=note or "", purge=purge)
            decided = f"{peer.domain} is now {peer.state.value}."
    print(decided)  # only once the decision has committed


async def peers_allow(settings: Settings, args: argparse.Namespace) -> int:
    await _decide(settings, args.domain, PeerState.allowed, args.note)
    return 0


async def peers_limit(settings: Settings, args: argparse.Namespace) -> int:
    await _decide(settings, args.domain, PeerState.limited, args.note)
    return 0


async def peers_block(settings: Settings, args: argparse.Namespace) -> int:
    await _decide(settings, args.domain, PeerState.blocked, args.note, purge=args.purge)
    return 0


async def peers_remove(settings: Settings, args: argparse.Namespace) -> int:
    async with open_database_checked(settings) as db:
        await require_initialised(db, settings)
        async with db.sessions.begin() as session:
            await decisions.remove(session, args.domain, by=_by(), at=CLOCK.now(), reason=args.note or "")
    print(f"Removed {args.domain}; it is no longer allowed, limited or blocked.")
    return 0


async def peers_import(settings: Settings, args: argparse.Namespace) -> int:
    try:
        text = Path(args.file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"cannot read {args.file}: {exc}") from None
    entries = decisions.parse_list(text, source=args.file)  # every line is checked before anything changes
    async with open_database_checked(settings) as db:
        await require_initialised(db, settings)
        async with db.sessions.begin() as session:
            changed = await decisions.import_entries(session, entries, by=_by(), at=CLOCK.now(),
                                                 reason=f"imported from {args.file}")
    print(f"Imported {len(entries)} entries from {args.file} ({changed} changed).")
    return 0


async def peers_export(settings: Settings, args: argparse.Namespace) -> int:
    state = PeerState(args.state)
    async with open_database_checked(settings) as db:
        await require_initialised(db, settings)
        async with db.sessions() as session:
            text = await decisions.export_csv(session, state)
    print(text, end="")
    return 0


async def peers_subscribe(settings: Settings, args: argparse.Namespace) -> int:
    async with open_database_checked(settings) as db:
        await require_initialised(db, settings)
        async with _client(settings) as http:
            changes = await subscribe_and_fetch(db, http, args.url, review=args.review, by=_by(), at=CLOCK.now(),
                                                allow_http=settings.federation.allow_http,
                                                allow_private=settings.federation.allow_private_addresses)
    print(f"Subscribed to {args.url}: added {len(changes.added)} peers"
          f"{' as pending' if args.review else ''}.")
    return 0


async def peers_refresh(settings: Settings, args: argparse.Namespace) -> int:
    async with open_database_checked(settings) as db:
        await require_initialised(db, settings)
        async with _client(settings) as http:
            results = await refresh_all(db, http, at=CLOCK.now(), allow_http=settings.federation.allow_http,
                                        allow_private=settings.federation.allow_private_addresses)
    for url, result in results.items():
        if isinstance(result, str):
            print(f"{url}: {result}")
        else:
            print(f"{url}: added {len(result.added)}, dropped {len(result.dropped)}")
    if not results:
        print("No subscriptions.")
    return 1 if any(isinstance(r, str) for r in results.values()) else 0


def _client(settings: Settings):
    return make_client_session(allow_private_addresses=settings.federation.allow_private_addresses,
                               user_agent="Rounds peer-list refresh")


async def audit_log(settings: Settings, args: argparse.Namespace) -> int:
    async with open_database_checked(settings) as db:
        await require_initialised(db, settings)
        async with db.sessions() as session:
            entries = await audit_queries.newest_entries(session, args.limit, args.subject)
    for entry in reversed(entries):
        before = entry.before["state"] if entry.before and "state" in entry.before else "-"
        after = entry.after["state"] if entry.after and "state" in entry.after else "-"
        print(f"{_when(entry.at)}  {entry.actor:<28} {entry.action:<18} {entry.subject:<32} {before} -> {after}"
              f"{'  (' + entry.reason + ')' if entry.reason else ''}")
    if not entries:
        print("The audit log is empty.")
    return 0

