"""The address a request came from, seen through the reverse proxies this instance trusts.

Rounds normally runs behind a TLS-terminating proxy, so the socket's peer is the proxy and the
client's address is in X-Forwarded-For, which each proxy appends to. Walking that list from the
right, every hop that is a trusted proxy (`[server] trusted_proxies`) is passed over; the first
one that is not is the client. Entries further left are whatever the client sent, so they are
never believed. Login limits and API rate limits count per this address.
"""

from __future__ import annotations

import ipaddress

from aiohttp import web

from server.appkeys import SETTINGS
from server.config import Network, networks


def _is_trusted(address: str, trusted: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted)


def client_address(request: web.Request) -> str:
    trusted = networks(request.app[SETTINGS].server.trusted_proxies)
    address = request.remote or ""
    hops = [hop.strip() for hop in request.headers.get("X-Forwarded-For", "").split(",") if hop.strip()]
    while hops and _is_trusted(address, trusted):
        address = hops.pop()
    return address
