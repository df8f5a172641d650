"""One deadline per remote fetch ([federation] fetch_timeout_seconds): connect, every redirect
hop and the body all count against it, so a slow peer costs at most that long per fetch.

Real HTTP on loopback. Each slow peer here would make the fetch last several seconds (or 30 s,
the session's per-request timeout) without the overall deadline; the deadline is set to 1 s and
the bounds asserted are generous (5 s), so only a missing deadline breaks them.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy import select

from federation.protocol.fetch import AP_ACCEPT, Fetcher, FetchTimeout, TooManyRedirects
from federation.protocol.http import make_client_session
from server.config import ConfigError, settings_from_dict
from storage.models import InboxItem, InboxState, Object
from tests.fakepeer import FakePeer, activity
from federation.inbox import worker
from tests.handler_helpers import Scene, start_scene

DEADLINE = 1.0
BOUND = 5.0  # far above DEADLINE, far below the 30 s a fetch could take without it
AP_TYPE = "application/activity+json"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


# --- fixtures: loopback peers and a fetcher with a short deadline ------------------------------


@pytest.fixture
async def fetcher() -> AsyncIterator[Fetcher]:
    session = make_client_session(allow_private_addresses=True, user_agent="Rounds-test/0")
    try:
        yield Fetcher(session=session, sign=None, allow_http=True, allow_private_addresses=True,
                      deadline_seconds=DEADLINE)
    finally:
        await session.close()


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Handler], Awaitable[str]]]:
    """serve(handler): an HTTP peer on loopback answering every GET with `handler`; its base URL."""
    runners: list[web.AppRunner] = []

    async def start(handler: Handler) -> str:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        app = web.Application()
        app.router.add_get("/{tail:.*}", handler)
        runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=0.5)
        await runner.setup()
        runners.append(runner)
        await web.SockSite(runner, sock).start()
        return f"http://127.0.0.1:{sock.getsockname()[1]}"

    yield start
    for runner in runners:
        await runner.cleanup()


@pytest.fixture
async def silent_peer() -> AsyncIterator[str]:
    """A TCP server on loopback that accepts every connection and never sends a byte."""
    held: list[asyncio.StreamWriter] = []

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    for writer in held:
        writer.close()
    server.close()
    await server.wait_closed()


async def _timed_out(fetcher: Fetcher, url: str) -> tuple[FetchTimeout, float]:
    """Fetch `url`, expecting FetchTimeout; the error and how long it took."""
    started = time.monotonic()
    with pytest.raises(FetchTimeout) as raised:
        await asyncio.wait_for(fetcher.get_json(url), timeout=60)
    return raised.value, time.monotonic() - started


# --- the deadline, one slow peer at a time ---------------------------------------------------


async def test_a_peer_that_never_answers_times_out_at_the_deadline(fetcher, silent_peer, caplog):
    # Given a peer that accepts the connection and never answers
    url = f"{silent_peer}/notes/1"
    # When we fetch from it, with a 1 s deadline
    with caplog.at_level(logging.INFO, logger="federation.protocol.fetch"):
        error, elapsed = await _timed_out(fetcher, url)
    # Then FetchTimeout, well within the bound, logged once with the URL and how long it took
    assert elapsed < BOUND
    assert url in str(error) and "deadline 1 s" in str(error)
    logged = [r.getMessage() for r in caplog.records if r.name == "federation.protocol.fetch"]
    assert len(logged) == 1 and url in logged[0] and "timed out after" in logged[0]


async def test_a_chain_of_slow_redirects_times_out_at_the_deadline(fetcher, serve):
    # Given a peer that answers each hop, after 0.3 s, with a redirect to the next hop (six hops
    # take 1.8 s, each far under the session's 30 s per request, the sum over the 1 s deadline)
    hops: list[str] = []

    async def slow_redirect(request: web.Request) -> web.Response:
        hops.append(request.path)
        await asyncio.sleep(0.3)
        return web.Response(status=302, headers={"Location": f"/hop/{len(hops)}"})

    base = await serve(slow_redirect)
    # When we fetch its first hop
    _error, elapsed = await _timed_out(fetcher, f"{base}/hop/0")
    # Then FetchTimeout (not TooManyRedirects: the deadline ran out first), within the bound
    assert elapsed < BOUND
    assert 1 <= len(hops) < fetcher.max_redirects + 1


async def test_a_body_trickled_slowly_times_out_at_the_deadline(fetcher, serve):
    # Given a peer that sends its headers at once, then a valid document one byte every 0.1 s
    # (about 4 s in all)
    body = b'{"id": "x", "type": "Note", "content": "trickled"}'

    async def trickle(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": AP_TYPE})
        await response.prepare(request)
        for byte in body:
            await response.write(bytes([byte]))
            await asyncio.sleep(0.1)
        await response.write_eof()
        return response

    base = await serve(trickle)
    # When we fetch it, then FetchTimeout within the bound, not the document after 4 s
    _error, elapsed = await _timed_out(fetcher, f"{base}/note")
    assert elapsed < BOUND


async def test_a_fetch_within_the_deadline_still_follows_redirects(fetcher, serve):
    # Given a peer that redirects twice, quickly, to a document
    async def quick(request: web.Request) -> web.Response:
        if request.path != "/note":
            return web.Response(status=302, headers={"Location": "/note" if request.path == "/b" else "/b"})
        return web.Response(body=b'{"id": "x"}', content_type=AP_TYPE)

    base = await serve(quick)
    # When we fetch /a, then we get the document at its final URL
    assert await fetcher.get_json(f"{base}/a", accept=AP_ACCEPT) == (f"{base}/note", {"id": "x"})
    # And the hop limit still applies within the deadline
    async def loop(request: web.Request) -> web.Response:
        return web.Response(status=302, headers={"Location": "/loop"})

    looping = await serve(loop)
    with pytest.raises(TooManyRedirects):
        await fetcher.get_json(f"{looping}/loop")


# --- the setting -----------------------------------------------------------------------------


def _federation(tmp_path: Path, **federation: Any):
    raw = {"public_url": "https://social.example", "federation": federation}
    return settings_from_dict(raw, base_dir=tmp_path).federation


def test_the_deadline_defaults_to_10_seconds_and_is_configurable(tmp_path):
    assert _federation(tmp_path).fetch_timeout_seconds == 10
    assert _federation(tmp_path, fetch_timeout_seconds=2.5).fetch_timeout_seconds == 2.5
    assert _federation(tmp_path, fetch_timeout_seconds=60).fetch_timeout_seconds == 60


@pytest.mark.parametrize("value", [0, -1, 61, 1e9, "10", True])
def test_a_bad_deadline_is_a_config_error_of_one_line(tmp_path, value):
    with pytest.raises(ConfigError, match="fetch_timeout_seconds") as raised:
        _federation(tmp_path, fetch_timeout_seconds=value)
    assert "\n" not in str(raised.value)


# --- the whole path: a slow peer delays only its own items -----------------------------------


class HangingPeer(FakePeer):
    """A fake peer that serves its actors (so its requests verify) but hangs on every other GET,
    until it is stopped."""

    released: asyncio.Event | None = None

    async def _handle(self, request: web.Request) -> web.Response:
        actor_paths = {f"/users/{name}" for name in self.actors}
        if request.method == "GET" and request.path not in actor_paths:
            self.released = self.released or asyncio.Event()
            await self.released.wait()
        return await super()._handle(request)

    async def stop(self) -> None:
        if self.released is not None:
            self.released.set()
        await super().stop()


async def _hanging_then_good(scene: Scene, hanging: HangingPeer, http) -> tuple[dict[str, Any], dict[str, Any]]:
    """The hanging peer's Create of a post by reference (fetching it hangs), then a good peer's
    Create of an embedded post, both received (202); the Create and the good post."""
    hanging.add_actor("slow", key=1)
    by_reference = activity(hanging, "slow", "Create", f"{hanging.base}/users/slow/statuses/1")
    status, text = await hanging.post(http, "slow", f"{scene.a.base}/inbox", by_reference, scene.a.clock.now())
    assert status == 202, text
    good = scene.note("zed", "1", content="<p>on time</p>")
    await scene.send("zed", "Create", good)
    return by_reference, good


async def _inbox_item(scene: Scene, document: dict[str, Any]) -> InboxItem:
    async with scene.a.db.sessions() as session:
        item = await session.scalar(select(InboxItem).where(InboxItem.activity_uri == document["id"]))
    assert item is not None
    return item


async def _stored(scene: Scene, uri: str) -> bool:
    async with scene.a.db.sessions() as session:
        return await session.scalar(select(Object.id).where(Object.uri == uri)) is not None


async def test_a_hanging_peer_does_not_hold_up_a_good_peers_post(instances, http):
    """Run to the end of its batch (`run_once`), the worker is done only once the hanging fetch
    gives up at the deadline, set here to 1 s (the default is 10 s); the good post is handled
    meanwhile, and the hanging item fails with the timeout."""
    async with start_scene(instances, http, federation={"fetch_timeout_seconds": DEADLINE}) as scene:
        assert scene.a.fed.fetcher.deadline_seconds == DEADLINE  # the setting reaches the fetcher
        hanging = await HangingPeer().start()
        try:
            # Given a Create by reference from the hanging peer (its post hangs when fetched),
            # then a Create with its post embedded from the good peer
            by_reference, good = await _hanging_then_good(scene, hanging, http)
            # When the inbox worker runs
            started = time.monotonic()
            worker = asyncio.create_task(scene.run())
            try:
                while not await _stored(scene, good["id"]) and time.monotonic() - started < BOUND:
                    await asyncio.sleep(0.05)
                # Then the good post is stored within the bound, the hanging one is not done
                assert await _stored(scene, good["id"]), "the good peer's post waited on the hanging peer"
                assert (await _inbox_item(scene, by_reference)).state is not InboxState.done
                await asyncio.wait_for(worker, timeout=BOUND)
            finally:
                worker.cancel()
            # And the hanging item failed with the timeout, to be retried later
            item = await _inbox_item(scene, by_reference)
            assert item.state is InboxState.failed and "timed out" in (item.last_error or "")
            assert not await _stored(scene, by_reference["object"])
        finally:
            await hanging.stop()


async def test_a_hanging_peer_holds_up_only_its_own_items(instances, http):
    """With a deadline far longer than the wait allowed here (30 s), a good peer's posts, in the
    same batch as the hanging fetch and in the batch claimed after it, are handled within a
    second or two while the fetch still hangs. Breaks if items of a batch are handled one after
    the other, or if a new batch waits for the one before it to finish."""
    async with start_scene(instances, http, federation={"fetch_timeout_seconds": 30}) as scene:
        hanging = await HangingPeer().start()
        pump = worker.InboxPump(scene.a.fed)
        try:
            # Given a Create by reference from the hanging peer, then a good peer's Create
            by_reference, good = await _hanging_then_good(scene, hanging, http)
            # When the worker claims them, and later a second good post arrives and is claimed
            assert await pump.step() == 2
            later = scene.note("mallory", "2", content="<p>later</p>")
            await scene.send("mallory", "Create", later, suffix="2")
            assert await pump.step() == 1
            # Then both good posts are stored within the bound, while the fetch still hangs
            started = time.monotonic()
            while not (await _stored(scene, good["id"]) and await _stored(scene, later["id"])):
                assert time.monotonic() - started < BOUND, "a good post waited on the hanging peer"
                await asyncio.sleep(0.05)
            assert (await _inbox_item(scene, by_reference)).state is InboxState.queued  # held, in flight
        finally:
            await pump.stop()
            await hanging.stop()
