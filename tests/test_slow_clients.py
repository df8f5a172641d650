"""Slow clients are cut off: a client that trickles its headers, or a declared body, is closed
(or answered 408) once [server] read_timeout_seconds have passed, here set to 1 second.

Each test trickles for at most TRICKLE_STEPS * STEP seconds (8 s) and asserts only that the
server cut the client off before the trickling was done."""

from __future__ import annotations

import asyncio

import pytest

from tests.instances import Instance

STEP = 0.25
TRICKLE_STEPS = 32
SETTINGS = {"server": {"read_timeout_seconds": 1}}


async def trickle(instance: Instance, head: bytes, pieces) -> bytes | None:
    """Send `head`, then one piece every STEP seconds; what the server answered (b"" if it just
    closed the connection), or None if it was still listening when the pieces ran out."""
    reader, writer = await asyncio.open_connection("127.0.0.1", instance.port)
    try:
        writer.write(head)
        for piece in pieces:
            try:
                writer.write(piece)
                await writer.drain()
                return await asyncio.wait_for(reader.read(4096), STEP)
            except TimeoutError:
                continue
            except ConnectionError:
                return b""
        return None
    finally:
        writer.close()


@pytest.fixture
async def slow_timeout_instance(instances):
    return await instances.start(**SETTINGS)


async def test_headers_sent_too_slowly_are_cut_off(slow_timeout_instance):
    # Given an instance with a one-second read timeout
    a = slow_timeout_instance
    # When a client starts a request and then sends one more header line every quarter second
    head = f"GET /about HTTP/1.1\r\nHost: 127.0.0.1:{a.port}\r\n".encode()
    answer = await trickle(a, head, (f"X-Slow-{n}: still here\r\n".encode() for n in range(TRICKLE_STEPS)))
    # Then the server closed the connection before the client ran out of header lines
    assert answer is not None, "the server waited for headers as long as the client kept trickling"
    assert answer == b"" or answer.startswith(b"HTTP/1.1 408"), answer


async def test_an_idle_connection_that_never_sends_a_request_is_closed(slow_timeout_instance):
    # Given an instance with a one-second read timeout
    a = slow_timeout_instance
    # When a client connects and sends nothing at all
    answer = await trickle(a, b"", (b"" for _ in range(TRICKLE_STEPS)))
    # Then the server closes the connection
    assert answer == b""


async def test_a_body_sent_too_slowly_gets_408_and_the_connection_closes(slow_timeout_instance):
    # Given an instance with a one-second read timeout
    a = slow_timeout_instance
    # When a client declares a 1000-byte inbox POST and then trickles it a byte every quarter second
    head = (f"POST /inbox HTTP/1.1\r\nHost: 127.0.0.1:{a.port}\r\n"
            "Content-Type: application/activity+json\r\nContent-Length: 1000\r\n\r\n{").encode()
    answer = await trickle(a, head, (b" " for _ in range(TRICKLE_STEPS)))
    # Then the server answers 408 and closes the connection before the body is done
    assert answer is not None, "the server waited for the body as long as the client kept trickling"
    assert answer.startswith(b"HTTP/1.1 408"), answer
    assert b"Connection: close" in answer and b"did not arrive within 1 seconds" in answer


async def test_a_prompt_request_on_the_same_instance_is_served(slow_timeout_instance, http):
    # Given an instance with a one-second read timeout
    a = slow_timeout_instance
    # When a client sends a whole JSON body at once, Then it is read and answered as usual
    async with http.post(f"{a.base}/api/v1/apps", json={"client_name": "Quick", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob"}) as response:
        assert response.status == 200
