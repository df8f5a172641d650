"""Remote fetch: signed GETs of remote objects, actors and keys, and WebFinger lookups.

The decision to know: redirects are followed here, one hop at a time, never by aiohttp. Every
hop is treated as a new request: the URL is checked (`check_url`), the federation policy is asked
(`allows_authority`) before any network use, and the GET is signed again for that URL. Hostnames
are checked after DNS resolution by the session's resolver (see `federation.protocol.http`), so the
session and the Fetcher must agree on `allow_private_addresses`.

One fetch has one deadline (`deadline_seconds`, [federation] fetch_timeout_seconds): connecting,
every redirect hop and reading the body all count against it, so a peer that answers slowly, or
redirects to itself again and again, or trickles its body, costs at most that long before
`FetchTimeout`. (The session's own per-request timeouts, 30 s total, would allow that much per
hop and nothing bounds the sum.) Deliveries are not fetches: they keep the session's timeouts.

A document is accepted only when the response's media type is one the request asked for (for
ActivityPub, `application/activity+json` or `application/ld+json`), so an uploaded file served as
`application/json` or `text/plain` on a peer cannot pass for one of its objects, and only when it
is JSON nested no deeper than `max_json_depth` (`federation.protocol.vocab.jsondoc`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
from yarl import URL

from federation.protocol.http import (
    FetchError,
    FetchHTTPError,
    FetchTimeout,
    NotJSON,
    RefusedURL,
    ResponseTooLarge,
    TooManyRedirects,
    check_url,
    read_capped,
)
from federation.protocol.urls import authority
from federation.protocol.vocab.jsondoc import MAX_JSON_DEPTH, JSONRefused, load_json

__all__ = [
    "AP_ACCEPT",
    "JRD_ACCEPT",
    "FetchError",
    "FetchHTTPError",
    "FetchTimeout",
    "Fetcher",
    "NotJSON",
    "RefusedURL",
    "ResponseTooLarge",
    "TooManyRedirects",
    "authority_of",
]

log = logging.getLogger(__name__)
AP_ACCEPT = 'application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
JRD_ACCEPT = "application/jrd+json, application/json"
ACTOR_LINK_TYPES = frozenset({"application/activity+json", "application/ld+json"})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})

Signer = Callable[[str, str], Mapping[str, str]]


def authority_of(url: str | URL) -> str:
    """host[:port] of `url` (see `federation.protocol.urls.authority`), refusing what is not a URL."""
    try:
        parsed = url if isinstance(url, URL) else URL(url)
    except ValueError as exc:
        raise RefusedURL(f"{url} is not a valid URL: {exc}") from None
    return authority(str(parsed))


def _media_types(accept: str) -> frozenset[str]:
    return frozenset(_media_type(part) for part in accept.split(",") if part.strip())


def _media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def _allow_every_authority(authority: str) -> bool:
    return True


def _split_acct(acct: str) -> tuple[str, str]:
    handle = acct.strip()
    if handle.lower().startswith("acct:"):
        handle = handle[5:]
    handle = handle.removeprefix("@")
    user, _, host = handle.rpartition("@")
    if not user or not host or any(c in host for c in "/?#@\\ \t\r\n"):
        raise FetchError(f"{acct!r} is not an account address of the form user@host")
    return user, host.lower()


@dataclass
class Fetcher:
    """Signed, guarded GETs of JSON documents. One per process; cheap to share."""

    session: aiohttp.ClientSession
    sign: Signer | None
    allow_http: bool = False
    allow_private_addresses: bool = False
    allows_authority: Callable[[str], bool] = _allow_every_authority
    max_bytes: int = 1_000_000
    max_redirects: int = 5
    max_json_depth: int = MAX_JSON_DEPTH
    deadline_seconds: float = 10.0  # the whole fetch: connect, every redirect hop and the body

    async def get_json(self, url: str, *, accept: str = AP_ACCEPT) -> tuple[str, dict[str, Any]]:
        """GET `url` and return (final URL after redirects, the JSON object), all within
        `deadline_seconds`, else FetchTimeout (logged once, with how long it took)."""
        started = time.monotonic()
        try:
            async with asyncio.timeout(self.deadline_seconds):
                return await self._follow(url, accept)
        except (TimeoutError, FetchTimeout):
            elapsed = time.monotonic() - started
            log.info(  # the caller decides how grave a failed fetch is, and logs it with its context
                "fetch of %s timed out after %.1f s (deadline %g s)", url, elapsed, self.deadline_seconds
            )
            raise FetchTimeout(
                f"{url} timed out after {elapsed:.1f} s (deadline {self.deadline_seconds:g} s)"
            ) from None

    async def _follow(self, url: str, accept: str) -> tuple[str, dict[str, Any]]:
        """The redirect chain, one checked and signed GET per hop."""
        wanted = _media_types(accept)
        current = self._parse(url)
        for _hop in range(self.max_redirects + 1):
            self._guard(current)
            location = await self._get_once(current, accept, wanted)
            if isinstance(location, dict):
                return str(current), location
            current = location
        raise TooManyRedirects(f"{url} redirected more than {self.max_redirects} times")

    async def webfinger(self, acct: str) -> str:
        """Resolve user@host (optionally with a leading @ or acct:) to its ActivityPub actor id."""
        user, host = _split_acct(acct)
        scheme = "http" if self.allow_http else "https"
        try:
            base = URL(f"{scheme}://{host}/.well-known/webfinger")
        except ValueError:
            raise FetchError(f"{acct!r} has an invalid host {host!r}") from None
        if authority_of(base) != host and authority_of(base) != host.rsplit(":", 1)[0]:
            raise FetchError(f"{acct!r} has an invalid host {host!r}")
        resource = f"acct:{user}@{host}"
        _final, document = await self.get_json(
            str(base.with_query(resource=resource)), accept=JRD_ACCEPT
        )
        links = document.get("links")
        for link in links if isinstance(links, list) else ():
            if (
                isinstance(link, dict)
                and link.get("rel") == "self"
                and isinstance(link.get("type"), str)
                and _media_type(link["type"]) in ACTOR_LINK_TYPES
                and isinstance(link.get("href"), str)
            ):
                return link["href"]
        raise FetchError(f"WebFinger for {resource} at {host} has no ActivityPub actor link")

    def _parse(self, url: str) -> URL:
        try:
            return URL(url).with_fragment(None)
        except ValueError as exc:
            raise RefusedURL(f"{url} is not a valid URL: {exc}") from None

    def _guard(self, url: URL) -> None:
        check_url(
            url, allow_http=self.allow_http, allow_private_addresses=self.allow_private_addresses
        )
        authority = authority_of(url)
        if not self.allows_authority(authority):
            log.info("refused fetch of %s from %s: not an allowed peer", url, authority)
            raise RefusedURL(f"{url} is refused: {authority} is not an allowed peer")

    async def _get_once(
        self, url: URL, accept: str, wanted: frozenset[str]
    ) -> URL | dict[str, Any]:
        """One GET: the next URL to follow, or the document."""
        headers = {"Accept": accept}
        if self.sign is not None:
            headers.update(self.sign("GET", str(url)))
        try:
            async with self.session.get(url, headers=headers, allow_redirects=False) as response:
                if response.status in REDIRECT_STATUSES:
                    return self._redirect_target(url, response)
                if not 200 <= response.status < 300:
                    raise FetchHTTPError(
                        f"{url} answered HTTP {response.status} {response.reason or ''}".rstrip(),
                        response.status,
                    )
                body = await read_capped(response, self.max_bytes)
                content_type = response.headers.get("Content-Type", "")
        except FetchError:
            raise
        except TimeoutError:
            raise FetchTimeout(f"{url} timed out") from None
        except aiohttp.ClientConnectorDNSError as exc:
            if isinstance(exc.__cause__, FetchError):
                raise exc.__cause__ from None
            raise FetchError(f"{url}: cannot resolve {url.host}") from None
        except aiohttp.ClientError as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise FetchError(f"{url}: {reason}") from None
        return self._decode(url, content_type, body, wanted)

    def _redirect_target(self, url: URL, response: aiohttp.ClientResponse) -> URL:
        location = response.headers.get("Location")
        if not location:
            raise FetchHTTPError(
                f"{url} answered HTTP {response.status} without a Location", response.status
            )
        try:
            return url.join(URL(location)).with_fragment(None)
        except ValueError:
            raise RefusedURL(f"{url} redirected to an invalid URL {location!r}") from None

    def _decode(
        self, url: URL, content_type: str, body: bytes, wanted: frozenset[str]
    ) -> dict[str, Any]:
        media_type = _media_type(content_type)
        if media_type not in wanted:
            served = media_type or "no content type"
            raise NotJSON(f"{url} served {served}, not one of {', '.join(sorted(wanted))}")
        try:
            document = load_json(body, self.max_json_depth)
        except JSONRefused as exc:
            raise NotJSON(f"{url} served a body that is {exc}") from None
        if not isinstance(document, dict):
            raise NotJSON(f"{url} served JSON that is not an object")
        return document
