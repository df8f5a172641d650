"""The outbound HTTP client: one pooled session, with an SSRF guard built into its resolver.

The decision to know: addresses are judged *after* DNS resolution, inside the resolver the
connector uses, so the address that was checked is the address we connect to (no rebinding
window). aiohttp never calls the resolver for IP-literal hosts, so every URL must also pass
`check_url` before it is requested; `federation.protocol.fetch.Fetcher` does that on every redirect hop.

The fetch error hierarchy lives here, at the bottom of the dependency chain, so that this module
can raise it; `federation.protocol.fetch` re-exports it.
"""

from __future__ import annotations

import ipaddress
import re
import socket

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

DEFAULT_TIMEOUT = aiohttp.ClientTimeout(total=30, connect=5)
CHUNK_SIZE = 64 * 1024

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NUMERIC_LABEL = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class FetchError(Exception):
    """A remote fetch failed; str() is a one-line reason naming the URL."""


class RefusedURL(FetchError):
    """The URL or the address it resolves to is not one we may contact."""


class ResponseTooLarge(FetchError):
    """The response body passed the size cap."""


class FetchHTTPError(FetchError):
    """The peer answered with a status we cannot use."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class FetchTimeout(FetchError):
    """The fetch (connect, redirects, body) took longer than its deadline."""


class NotJSON(FetchError):
    """The body is not a JSON object of the expected media type."""


class TooManyRedirects(FetchError):
    """The redirect chain was longer than allowed."""


def is_refused_address(ip: IPAddress) -> bool:
    """True for any address that is not plainly a public unicast one.

    IPv6 forms that embed an IPv4 address (mapped, 6to4, NAT64) are judged by the embedded one.
    """
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return is_refused_address(ip.ipv4_mapped)
        if ip.sixtofour is not None:
            return is_refused_address(ip.sixtofour)
        if ip in _NAT64:
            return is_refused_address(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        if ip.teredo is not None or ip.is_site_local:
            return True
    return (
        ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_unspecified
        or ip.is_reserved
        or not ip.is_global
    )


def _parse_ip(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None


def check_url(url: str | URL, *, allow_http: bool, allow_private_addresses: bool) -> None:
    """Raise RefusedURL unless `url` is an http(s) URL we may request.

    Refuses other schemes, http:// unless `allow_http`, userinfo, a missing host, numeric hosts
    that are not canonical IP addresses (``127.1``, ``2130706433``), and IP-literal hosts in
    refused ranges unless `allow_private_addresses`. Hostnames are judged later, by the resolver.
    """
    try:
        parsed = url if isinstance(url, URL) else URL(url)
    except ValueError as exc:
        raise RefusedURL(f"{url} is not a valid URL: {exc}") from None
    if parsed.scheme not in ("http", "https"):
        raise RefusedURL(f"{url} is refused: only http(s) URLs can be fetched")
    if parsed.scheme == "http" and not allow_http:
        raise RefusedURL(f"{url} is refused: plain http:// is not allowed (https only)")
    if not parsed.raw_host:
        raise RefusedURL(f"{url} is refused: it has no host")
    if "@" in (parsed.raw_authority or "") or parsed.raw_user is not None:
        raise RefusedURL(f"{url} is refused: URLs with credentials (user@host) are not allowed")
    host = parsed.raw_host.lower()
    ip = _parse_ip(host)
    if ip is None:
        last_label = host.rstrip(".").rsplit(".", 1)[-1]
        if _NUMERIC_LABEL.match(last_label):
            raise RefusedURL(f"{url} is refused: {host} is not a canonical IP address")
        return
    if "%" in host:
        raise RefusedURL(f"{url} is refused: scoped IPv6 addresses are not allowed")
    if not allow_private_addresses and is_refused_address(ip):
        raise RefusedURL(
            f"{url} is refused: {ip} is a loopback/private/reserved address "
            "(allow private addresses only on a test or local network)"
        )


class GuardedResolver(AbstractResolver):
    """Wraps aiohttp's default resolver and drops every refused address it returns."""

    def __init__(self, inner: AbstractResolver | None = None) -> None:
        self._inner = inner if inner is not None else aiohttp.DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        allowed = []
        for result in results:
            ip = _parse_ip(result["host"])
            if ip is not None and not is_refused_address(ip):
                allowed.append(result)
        if not allowed:
            refused = ", ".join(sorted({r["host"] for r in results})) or "nothing"
            raise RefusedURL(
                f"{host} is refused: it resolves only to loopback/private/reserved addresses "
                f"({refused})"
            )
        return allowed

    async def close(self) -> None:
        await self._inner.close()


def make_client_session(
    *, allow_private_addresses: bool, user_agent: str, limit_per_host: int = 8
) -> aiohttp.ClientSession:
    """The one outbound session: pooled keep-alive connections, default timeouts (connect 5 s,
    total 30 s), no cookies, no proxy from the environment, and the SSRF guard in the resolver
    unless `allow_private_addresses`. Must be called with an event loop running."""
    resolver: AbstractResolver = aiohttp.DefaultResolver()
    if not allow_private_addresses:
        resolver = GuardedResolver(resolver)
    connector = aiohttp.TCPConnector(limit_per_host=limit_per_host, resolver=resolver)
    return aiohttp.ClientSession(
        connector=connector,
        timeout=DEFAULT_TIMEOUT,
        headers={"User-Agent": user_agent},
        cookie_jar=aiohttp.DummyCookieJar(),
        trust_env=False,
    )


async def read_capped(response: aiohttp.ClientResponse, max_bytes: int) -> bytes:
    """Read the body, raising ResponseTooLarge as soon as it passes `max_bytes`.

    A declared Content-Length above the cap is refused before anything is read.
    """
    declared = response.content_length
    if declared is not None and declared > max_bytes:
        raise ResponseTooLarge(
            f"{response.url} declares {declared} bytes, more than the {max_bytes}-byte cap"
        )
    chunks: list[bytes] = []
    total = 0
    async for chunk in response.content.iter_chunked(CHUNK_SIZE):
        total += len(chunk)
        if total > max_bytes:
            raise ResponseTooLarge(f"{response.url} sent more than the {max_bytes}-byte cap")
        chunks.append(chunk)
    return b"".join(chunks)
