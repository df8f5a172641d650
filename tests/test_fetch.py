"""Remote fetch against real loopback HTTP servers: the SSRF guard, redirects, caps, errors.

Every network test targets 127.0.0.1 or localhost only. A "peer" is a small aiohttp app that
records each request it receives, so a refusal can be shown to have cost no request at all.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import aiohttp
import pytest
from aiohttp import web

from federation.protocol.fetch import (
    AP_ACCEPT,
    Fetcher,
    FetchError,
    FetchHTTPError,
    FetchTimeout,
    NotJSON,
    RefusedURL,
    ResponseTooLarge,
    TooManyRedirects,
    authority_of,
)
from federation.protocol.http import check_url, make_client_session

AP_TYPE = "application/activity+json"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Peer:
    base: str
    authority: str
    requests: list[web.Request] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"{self.base}{path}"

    @property
    def paths(self) -> list[str]:
        return [request.path for request in self.requests]


@pytest.fixture
async def start_peer() -> AsyncIterator[Callable[[dict[str, Handler]], Awaitable[Peer]]]:
    runners: list[web.AppRunner] = []

    async def start(routes: dict[str, Handler]) -> Peer:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        peer = Peer(base=f"http://127.0.0.1:{port}", authority=f"127.0.0.1:{port}")

        @web.middleware
        async def record(request: web.Request, handler: Handler) -> web.StreamResponse:
            peer.requests.append(request)
            return await handler(request)

        app = web.Application(middlewares=[record])
        for path, handler in routes.items():
            app.router.add_get(path, handler)
        runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=0.5)
        await runner.setup()
        runners.append(runner)
        await web.SockSite(runner, sock).start()
        return peer

    yield start
    for runner in runners:
        await runner.cleanup()


@pytest.fixture
async def open_session() -> AsyncIterator[Callable[[bool], aiohttp.ClientSession]]:
    sessions: list[aiohttp.ClientSession] = []

    def open_(allow_private_addresses: bool) -> aiohttp.ClientSession:
        session = make_client_session(
            allow_private_addresses=allow_private_addresses, user_agent="Rounds-test/0"
        )
        sessions.append(session)
        return session

    yield open_
    for session in sessions:
        await session.close()


@pytest.fixture
def local_fetcher(open_session) -> Callable[..., Fetcher]:
    """A Fetcher for loopback peers: http and private addresses allowed (the dev switch)."""

    def make(**options) -> Fetcher:
        options.setdefault("sign", None)
        return Fetcher(
            session=open_session(True), allow_http=True, allow_private_addresses=True, **options
        )

    return make


def raw_handler(body: bytes, content_type: str = AP_TYPE, status: int = 200) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(status=status, body=body, headers={"Content-Type": content_type})

    return handler


def json_handler(document: object, content_type: str = AP_TYPE) -> Handler:
    return raw_handler(json.dumps(document).encode(), content_type)


def redirect_handler(location: str, status: int = 302) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(status=status, headers={"Location": location})

    return handler


NOTE = {"id": "https://peer.example/notes/1", "type": "Note", "content": "hello"}


# --- the happy path and the session's defaults -----------------------------------------------


async def test_fetches_a_json_document(start_peer, local_fetcher):
    peer = await start_peer({"/note": json_handler(NOTE)})
    final_url, document = await local_fetcher().get_json(peer.url("/note"))
    assert (final_url, document) == (peer.url("/note"), NOTE)
    assert peer.requests[0].headers["Accept"] == AP_ACCEPT
    assert peer.requests[0].headers["User-Agent"] == "Rounds-test/0"


async def test_accepts_ld_json_with_profile(start_peer, local_fetcher):
    ld = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
    peer = await start_peer({"/note": json_handler(NOTE, ld)})
    assert (await local_fetcher().get_json(peer.url("/note")))[1] == NOTE


async def test_session_pools_with_default_timeouts(open_session):
    session = open_session(False)
    assert session.connector.limit_per_host == 8
    assert (session.timeout.connect, session.timeout.total) == (5, 30)


# --- the SSRF guard --------------------------------------------------------------------------


async def test_localhost_is_refused_after_resolution(start_peer, open_session):
    peer = await start_peer({"/note": json_handler(NOTE)})
    port = peer.authority.rsplit(":", 1)[1]
    fetcher = Fetcher(session=open_session(False), sign=None, allow_http=True)
    with pytest.raises(RefusedURL, match="localhost is refused"):
        await fetcher.get_json(f"http://localhost:{port}/note")
    assert peer.requests == []


async def test_loopback_literal_is_refused_before_connecting(start_peer, open_session):
    peer = await start_peer({"/note": json_handler(NOTE)})
    fetcher = Fetcher(session=open_session(False), sign=None, allow_http=True)
    with pytest.raises(RefusedURL, match="127.0.0.1 is a loopback/private"):
        await fetcher.get_json(peer.url("/note"))
    assert peer.requests == []


@pytest.mark.parametrize(
    "url",
    [
        "https://10.1.2.3/actor",
        "https://192.168.0.1/actor",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::1]/actor",
        "https://[::ffff:127.0.0.1]/actor",
        "https://[2002:7f00:1::]/actor",  # 6to4 wrapping 127.0.0.1
        "https://[64:ff9b::a00:1]/actor",  # NAT64 wrapping 10.0.0.1
        "https://[fe80::1]/actor",
        "https://[fc00::1]/actor",
        "https://0.0.0.0/actor",
        "https://100.64.0.1/actor",
        "https://224.0.0.1/actor",
        "https://127.1/actor",
        "https://2130706433/actor",
        "https://0x7f.0.0.1/actor",
    ],
)
def test_refused_address_literals(url):
    with pytest.raises(RefusedURL):
        check_url(url, allow_http=False, allow_private_addresses=False)


@pytest.mark.parametrize(
    "url",
    [
        "ftp://social.example/actor",
        "file:///etc/passwd",
        "https://user:secret@social.example/actor",
        "https://user@social.example/actor",
        "https:///actor",
    ],
)
def test_refused_url_shapes(url):
    with pytest.raises(RefusedURL):
        check_url(url, allow_http=True, allow_private_addresses=True)


def test_public_urls_and_the_dev_switch_pass():
    check_url("https://social.example/actor", allow_http=False, allow_private_addresses=False)
    check_url("https://93.184.215.14/actor", allow_http=False, allow_private_addresses=False)
    check_url("https://[::ffff:8.8.8.8]/", allow_http=False, allow_private_addresses=False)
    check_url("http://127.0.0.1:8080/actor", allow_http=True, allow_private_addresses=True)


def test_http_is_refused_unless_allowed():
    with pytest.raises(RefusedURL, match="plain http"):
        check_url("http://social.example/actor", allow_http=False, allow_private_addresses=False)
    check_url("http://social.example/actor", allow_http=True, allow_private_addresses=False)


async def test_fetcher_refuses_http_unless_allowed(start_peer, open_session):
    peer = await start_peer({"/note": json_handler(NOTE)})
    fetcher = Fetcher(session=open_session(True), sign=None, allow_private_addresses=True)
    with pytest.raises(RefusedURL, match="plain http"):
        await fetcher.get_json(peer.url("/note"))
    assert peer.requests == []


@pytest.mark.parametrize(
    ("url", "authority"),
    [
        ("https://Social.Example:443/users/a#main-key", "social.example"),
        ("http://social.example:80/", "social.example"),
        ("http://social.example:8080/", "social.example:8080"),
        ("https://[::1]:8443/", "[::1]:8443"),
        ("https://[::1]/", "[::1]"),
    ],
)
def test_authority_of(url, authority):
    assert authority_of(url) == authority


# --- redirects -------------------------------------------------------------------------------


async def test_redirect_chain_is_followed_and_signed_per_hop(start_peer, local_fetcher):
    signed: list[tuple[str, str]] = []

    def sign(method: str, url: str) -> dict[str, str]:
        signed.append((method, url))
        return {"Signature": f"signed {url}"}

    other = await start_peer({"/note": json_handler(NOTE)})
    peer = await start_peer(
        {
            "/a": redirect_handler("/b", 301),  # relative Location
            "/b": redirect_handler(other.url("/note"), 307),  # to another peer
        }
    )
    final_url, document = await local_fetcher(sign=sign).get_json(peer.url("/a#frag"))
    assert (final_url, document) == (other.url("/note"), NOTE)
    hops = [peer.url("/a"), peer.url("/b"), other.url("/note")]  # the fragment is dropped
    assert signed == [("GET", hop) for hop in hops]
    received = peer.requests + other.requests
    assert [r.headers["Signature"] for r in received] == [f"signed {hop}" for hop in hops]


async def test_redirect_to_a_refused_peer_is_not_followed(start_peer, local_fetcher):
    elsewhere = await start_peer({"/note": json_handler(NOTE)})
    peer = await start_peer({"/a": redirect_handler(elsewhere.url("/note"))})
    asked: list[str] = []

    def allows(authority: str) -> bool:
        asked.append(authority)
        return authority == peer.authority

    with pytest.raises(RefusedURL, match=f"{elsewhere.authority} is not an allowed peer"):
        await local_fetcher(allows_authority=allows).get_json(peer.url("/a"))
    assert asked == [peer.authority, elsewhere.authority]
    assert peer.paths == ["/a"]
    assert elsewhere.requests == []


async def test_refused_peer_is_never_contacted(start_peer, local_fetcher):
    peer = await start_peer({"/note": json_handler(NOTE)})
    with pytest.raises(RefusedURL, match="not an allowed peer"):
        await local_fetcher(allows_authority=lambda authority: False).get_json(peer.url("/note"))
    assert peer.requests == []


async def test_redirect_to_another_scheme_is_refused(start_peer, local_fetcher):
    peer = await start_peer({"/a": redirect_handler("file:///etc/passwd")})
    with pytest.raises(RefusedURL, match="only http"):
        await local_fetcher().get_json(peer.url("/a"))


async def test_too_many_redirects(start_peer, local_fetcher):
    async def loop(request: web.Request) -> web.Response:
        step = int(request.match_info["n"])
        return web.Response(status=302, headers={"Location": f"/r/{step + 1}"})

    peer = await start_peer({"/r/{n}": loop})
    with pytest.raises(TooManyRedirects, match="more than 3 times"):
        await local_fetcher(max_redirects=3).get_json(peer.url("/r/0"))
    assert peer.paths == ["/r/0", "/r/1", "/r/2", "/r/3"]


# --- caps and errors -------------------------------------------------------------------------


async def test_oversized_body_by_content_length(start_peer, local_fetcher):
    peer = await start_peer({"/big": json_handler({"content": "x" * 2000})})
    with pytest.raises(ResponseTooLarge, match="declares"):
        await local_fetcher(max_bytes=1000).get_json(peer.url("/big"))


async def test_oversized_body_streamed_without_length(start_peer, local_fetcher):
    async def stream(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": AP_TYPE})
        response.enable_chunked_encoding()
        await response.prepare(request)
        await response.write(b'{"content": "')
        for _ in range(10):
            await response.write(b"x" * 500)
        await response.write(b'"}')
        return response

    peer = await start_peer({"/big": stream})
    with pytest.raises(ResponseTooLarge, match="sent more than the 1000-byte cap"):
        await local_fetcher(max_bytes=1000).get_json(peer.url("/big"))
    # The same stream within the cap is read whole.
    _url, document = await local_fetcher(max_bytes=10_000).get_json(peer.url("/big"))
    assert len(document["content"]) == 5000


async def test_timeout(start_peer, local_fetcher):
    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(1.5)
        return web.Response(body=b"{}", content_type=AP_TYPE)

    peer = await start_peer({"/slow": slow})
    fetcher = local_fetcher(deadline_seconds=0.2)
    with pytest.raises(FetchTimeout, match="timed out"):
        await fetcher.get_json(peer.url("/slow"))


async def test_non_2xx_carries_the_status(start_peer, local_fetcher):
    peer = await start_peer({"/gone": raw_handler(b"gone", "text/plain", status=410)})
    with pytest.raises(FetchHTTPError, match="HTTP 410") as raised:
        await local_fetcher().get_json(peer.url("/gone"))
    assert raised.value.status == 410


@pytest.mark.parametrize(
    ("body", "content_type", "reason"),
    [
        (b"<html>hello</html>", "text/html", "served text/html"),
        (b'{"type": "Note"}', "application/json", "served application/json"),
        (b"{not json", AP_TYPE, "not JSON"),
        (b'["a", "list"]', AP_TYPE, "not an object"),
    ],
)
async def test_not_json(start_peer, local_fetcher, body, content_type, reason):
    peer = await start_peer({"/doc": raw_handler(body, content_type)})
    with pytest.raises(NotJSON, match=reason):
        await local_fetcher().get_json(peer.url("/doc"))


async def test_connection_refused_is_a_fetch_error(local_fetcher):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens on this port now
    with pytest.raises(FetchError, match=f"127.0.0.1:{port}"):
        await local_fetcher().get_json(f"http://127.0.0.1:{port}/note")


# --- WebFinger -------------------------------------------------------------------------------


def jrd_handler(actor: str) -> Handler:
    return json_handler(
        {
            "subject": "acct:alice@peer",
            "links": [
                {"rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": "x"},
                {"rel": "self", "type": "application/activity+json", "href": actor},
            ],
        },
        content_type="application/jrd+json",
    )


@pytest.mark.parametrize("form", ["{}", "@{}", "acct:{}"])
async def test_webfinger_resolves_the_actor(start_peer, local_fetcher, form):
    actor = "https://peer.example/users/alice"
    peer = await start_peer({"/.well-known/webfinger": jrd_handler(actor)})
    acct = form.format(f"alice@{peer.authority}")
    assert await local_fetcher().webfinger(acct) == actor
    assert peer.requests[0].query["resource"] == f"acct:alice@{peer.authority}"


async def test_webfinger_unknown_account(start_peer, local_fetcher):
    peer = await start_peer({"/.well-known/webfinger": raw_handler(b"", "text/plain", 404)})
    with pytest.raises(FetchHTTPError) as raised:
        await local_fetcher().webfinger(f"nobody@{peer.authority}")
    assert raised.value.status == 404


async def test_webfinger_without_an_actor_link(start_peer, local_fetcher):
    peer = await start_peer(
        {"/.well-known/webfinger": json_handler({"links": []}, "application/jrd+json")}
    )
    with pytest.raises(FetchError, match="no ActivityPub actor link"):
        await local_fetcher().webfinger(f"alice@{peer.authority}")


@pytest.mark.parametrize("acct", ["alice", "@alice", "alice@", "alice@host/path", "a@b@c/d"])
async def test_webfinger_rejects_malformed_addresses(local_fetcher, acct):
    with pytest.raises(FetchError, match="not an account address"):
        await local_fetcher().webfinger(acct)


async def test_webfinger_is_guarded_like_any_fetch(start_peer, open_session):
    peer = await start_peer({"/.well-known/webfinger": jrd_handler("https://x.example/a")})
    fetcher = Fetcher(session=open_session(False), sign=None, allow_http=True)
    with pytest.raises(RefusedURL):
        await fetcher.webfinger(f"alice@{peer.authority}")
    assert peer.requests == []
