"""Which peers an entry covers: the one definition, in Python and in SQL, side by side.

A peer is an authority, `host` or `host:port`, the port shown only when it is not the scheme's
default (see `federation.protocol.urls.authority`). An admin's entry is one of

    host            that host, on any port
    host:port       that host, on that port only
    *.domain        domain itself and every host under it, on any port
    *.domain:port   the same, on that port only

A host is a DNS name (lowercase, IDNs as punycode), an IPv4 address, or an IPv6 address in
brackets. An entry that could never cover a peer is refused when it is written
(`normalise_entry`): a wildcard over an IP address, a default port (`:443`, `:80`: a peer's
authority never shows one), a bare IPv6 address.

The policy asks `entries_covering` (a set lookup per candidate, for the request path); every query
that hides a blocked peer's content asks `blocked_author` (or `on_blocked_peer`), and every public
or hashtag timeline and stream that leaves a limited peer's posts out asks `limited_author`, all
built on `covers_sql`. The test suite checks the two definitions against each other on a grid of entries
and authorities.

The SQL is correlated on purpose: the read hides a row when a blocked entry covers its author,
probing the (few) blocked entries per row of the page. The other shape, "not in the set of
every actor a blocked entry covers", joins all actors with the entries on LIKE, on every read
(80 ms with 20,000 actors, where a page takes under 1 ms).
"""

from __future__ import annotations

import ipaddress
import re

from sqlalchemy import and_, exists, func, literal, select

from storage.models import Actor, Peer, PeerState

_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
_NAME = re.compile(rf"^{_LABEL}(\.{_LABEL})*$")
_NUMERIC = re.compile(r"^[0-9.]+$")
DEFAULT_PORTS = ("80", "443")


class EntryError(ValueError):
    """An entry that is not one, or that could never cover a peer; str() is one line."""


def normalise_entry(value: str) -> str:
    """`host`, `host:port`, `*.domain` or `*.domain:port`, lowercase (IDNs as punycode)."""
    entry = value.strip().lower()
    wildcard = entry.startswith("*.")
    rest = entry.removeprefix("*.")
    if rest.startswith("["):
        host, _, tail = rest[1:].partition("]")
        if tail and not tail.startswith(":"):
            raise EntryError(f"{value!r} is not a peer: use [ipv6] or [ipv6]:port")
        port = tail[1:]
        host = _ipv6(value, host)
    else:
        host, colon, port = rest.partition(":")
        if colon and ":" in port:
            raise EntryError(f"{value!r}: write an IPv6 address in brackets, as [2001:db8::1]")
        if colon and not port:
            raise EntryError(f"{value!r} is not a peer: the port is missing after ':'")
        host = _name(value, host.rstrip("."))
    if wildcard and (host.startswith("[") or _NUMERIC.match(host)):
        raise EntryError(f"{value!r} can never match: a wildcard covers names under a domain, "
                         "and an IP address has none")
    if port:
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise EntryError(f"{value!r} is not a peer: the port must be a number from 1 to 65535")
        port = str(int(port))
        if port in DEFAULT_PORTS:
            raise EntryError(f"{value!r} can never match: a peer's address never shows the default "
                             f"port {port}; leave it out (an entry without a port covers every port)")
    return ("*." if wildcard else "") + host + (f":{port}" if port else "")


def _ipv6(value: str, host: str) -> str:
    try:
        return f"[{ipaddress.IPv6Address(host).compressed}]"
    except ValueError:
        raise EntryError(f"{value!r} is not a peer: [{host}] is not an IPv6 address") from None


def _name(value: str, host: str) -> str:
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        raise EntryError(f"{value!r} is not a domain") from None
    if not _NAME.match(host):
        raise EntryError(f"{value!r} is not a domain: use host, host:port or *.example.org")
    if _NUMERIC.match(host):
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            raise EntryError(f"{value!r} can never match: {host} is neither a name nor an IPv4 address") from None
    return host


def split_authority(authority: str) -> tuple[str, str | None]:
    """(host, port or None) of an authority."""
    if authority.endswith("]") or ":" not in authority:
        return authority, None
    host, _, port = authority.rpartition(":")
    return host, port


def entries_covering(authority: str) -> list[str]:
    """Every entry that covers `authority` (lowercase): the definition, for the policy's lookup."""
    host, port = split_authority(authority)
    found = [authority] if port is None else [authority, host]
    if not host.startswith("["):
        labels = host.split(".")
        for start in range(len(labels)):
            suffix = "*." + ".".join(labels[start:])
            found += [suffix] if port is None else [suffix, f"{suffix}:{port}"]
    return found


def covers(entry: str, authority: str) -> bool:
    return entry in entries_covering(authority)


def covers_sql(entry, authority):
    """SQL for `covers(entry, authority)`: both are column expressions (or literals).

    One LIKE: "." + authority + ":" against the entry made a pattern, "." + entry + ":%" with a
    leading ".*." turned into "%.". So `h` matches `.h:` and `.h:8443:`, `h:8443` only the
    latter, and `*.d` any name ending in `.d` with or without a port. Entries never hold % or
    _, LIKE's wildcards (see `normalise_entry`), nor `*` anywhere but at the start."""
    pattern = func.replace(literal(".").concat(entry).concat(":%"), ".*.", "%.")
    return literal(".").concat(authority).concat(":").like(pattern)


def blocked_author(actor_id):
    """SQL: true when the actor `actor_id` (a column) is remote and a blocked entry covers its
    authority. Correlated, and shaped so that neither database joins every actor with every
    entry: a row costs one actor lookup per blocked entry, whatever the number of actors."""
    authority = (select(Actor.domain).where(Actor.id == actor_id, Actor.local.is_(False))
                 .correlate_except(Actor).scalar_subquery())
    # the uncorrelated test comes first: both databases compute it once per statement, so while
    # no peer is blocked (the usual case) no row pays for the correlated one
    return and_(_ANY_BLOCKED, exists().where(Peer.state == PeerState.blocked, covers_sql(Peer.domain, authority)))


_ANY_BLOCKED = exists().where(Peer.state == PeerState.blocked).correlate(None)
_ANY_LIMITED = exists().where(Peer.state == PeerState.limited).correlate(None)


def any_limited():
    """SQL: true when any peer is limited (uncorrelated: computed once per statement)."""
    return _ANY_LIMITED


def limited_author(actor_id):
    """SQL: true when the actor `actor_id` (a column) is remote and a limited entry covers its
    authority: its posts stay out of the public timelines. Shaped as `blocked_author`."""
    authority = (select(Actor.domain).where(Actor.id == actor_id, Actor.local.is_(False))
                 .correlate_except(Actor).scalar_subquery())
    return and_(_ANY_LIMITED, exists().where(Peer.state == PeerState.limited, covers_sql(Peer.domain, authority)))


def on_blocked_peer(authority):
    """SQL: true when a blocked entry covers `authority` (a column of the enclosing query)."""
    return exists().where(Peer.state == PeerState.blocked, covers_sql(Peer.domain, authority))
