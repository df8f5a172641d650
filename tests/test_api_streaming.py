"""Streaming over WebSocket and Server-Sent Events against a running instance: the events a
user, public and hashtag stream hear, with payloads rendered for the subscriber; refusals; and,
on PostgreSQL, an event raised by another Federation on the same database."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest
from sqlalchemy import update

from federation.outbox import actions
from federation.runtime.context import open_federation
from federation.social import accounts
from federation.social.events import StreamEvent
from server.api.streaming import STREAMING
from storage.db import open_configured
from federation.social.accounts import hash_token
from storage.models import Account, Mute, OAuthToken, Object, Visibility
from tests.conftest import DATABASE_URL

WAIT = 5.0


async def token_for(instance, username: str, scopes: str = "read write") -> str:
    async with instance.db.sessions.begin() as session:
        return (await accounts.create_token(session, username, scopes)).token


async def listening(instance) -> None:
    """Wait until the instance hears its own events (on PostgreSQL they come back via LISTEN)."""
    queue = instance.fed.events.subscribe()
    try:
        async def probe() -> None:
            while True:
                await instance.fed.events.publish([StreamEvent(("probe",), "update", "status", 0)])
                try:
                    await asyncio.wait_for(queue.get(), 0.2)
                    return
                except TimeoutError:
                    continue
        await asyncio.wait_for(probe(), WAIT)
    finally:
        instance.fed.events.unsubscribe(queue)


async def post(instance, username: str, content: str, **options) -> int:
    async with instance.fed.transaction() as session:
        item = await actions.post(instance.fed, session, await instance.actor(username), content=content, **options)
    return item.id


async def drained(instance) -> None:
    """Until no stream task runs and no queue is left on the bus (a private set: the bus has no
    public count)."""
    while instance.app[STREAMING].tasks or instance.fed.events.subscriber_count:
        await asyncio.sleep(0.05)


async def next_ws(ws) -> dict:
    message = await asyncio.wait_for(ws.receive_json(), WAIT)
    return message


async def next_sse(response) -> tuple[str, str]:
    """The next SSE event (name, data), skipping comments."""
    async def read() -> tuple[str, str]:
        name, data = "", ""
        while True:
            line = (await response.content.readline()).decode().rstrip("\n")
            if line.startswith("event: "):
                name = line.removeprefix("event: ")
            elif line.startswith("data: "):
                data = line.removeprefix("data: ")
            elif line == "" and name:
                return name, data
    return await asyncio.wait_for(read(), WAIT)


async def test_user_stream_over_websocket_hears_posts_notifications_edits_and_deletes(instances, http):
    # Given alice connected to her user stream, and bob, another local user
    a = await instances.start()
    await a.add_user("alice")
    await a.add_user("bob")
    await listening(a)
    token = await token_for(a, "alice")
    async with http.ws_connect(f"{a.base}/api/v1/streaming?stream=user",
                               headers={"Authorization": f"Bearer {token}"}) as ws:
        # When she posts, then her stream gets the status
        post_id = await post(a, "alice", "<p>hi</p>")
        message = await next_ws(ws)
        assert message["stream"] == ["user"] and message["event"] == "update"
        status = json.loads(message["payload"])
        assert status["id"] == str(post_id) and status["content"] == "<p>hi</p>"
        assert status["account"]["username"] == "alice"

        # When bob favourites it, then she gets the notification
        async with a.fed.transaction() as session:
            await actions.like(a.fed, session, await a.actor("bob"), await session.get(Object, post_id))
        message = await next_ws(ws)
        assert message["event"] == "notification"
        notification = json.loads(message["payload"])
        assert notification["type"] == "favourite" and notification["account"]["username"] == "bob"
        assert notification["status"]["id"] == str(post_id)

        # When she edits it, then status.update carries the new content
        async with a.fed.transaction() as session:
            await actions.edit(a.fed, session, await a.actor("alice"), await session.get(Object, post_id),
                              content="<p>hi again</p>")
        message = await next_ws(ws)
        assert message["event"] == "status.update"
        assert json.loads(message["payload"])["content"] == "<p>hi again</p>"

        # When she deletes it, then delete carries its id
        async with a.fed.transaction() as session:
            await actions.delete(a.fed, session, await a.actor("alice"), await session.get(Object, post_id))
        message = await next_ws(ws)
        assert (message["event"], message["payload"]) == ("delete", str(post_id))


async def test_websocket_subscribes_by_message_with_the_token_as_subprotocol(instances, http):
    # Given alice connected with her token as the WebSocket subprotocol, subscribed to a hashtag
    a = await instances.start()
    await a.add_user("alice")
    await listening(a)
    token = await token_for(a, "alice", "read")
    async with http.ws_connect(f"{a.base}/api/v1/streaming", protocols=(token,)) as ws:
        assert ws.protocol == token
        await ws.send_json({"type": "subscribe", "stream": "hashtag", "tag": "HandHygiene"})
        await ws.send_json({"type": "subscribe", "stream": "no-such-stream"})
        error = await next_ws(ws)  # answered after the first message was handled
        assert error["status"] == 400 and "error" in error

        # When alice posts without the tag and then with it
        await post(a, "alice", "<p>untagged</p>")
        tagged = await post(a, "alice", "<p>wash</p>", tags=["handhygiene"])

        # Then only the tagged post reaches the hashtag stream
        message = await next_ws(ws)
        assert message["stream"] == ["hashtag", "HandHygiene"] and message["event"] == "update"
        assert json.loads(message["payload"])["id"] == str(tagged)

        # And after unsubscribing, nothing more arrives for that tag
        await ws.send_json({"type": "unsubscribe", "stream": "hashtag", "tag": "HandHygiene"})
        await ws.send_json({"type": "subscribe", "stream": "user"})  # a stream to prove delivery still works
        await ws.send_json({"type": "bogus"})
        await next_ws(ws)
        second = await post(a, "alice", "<p>again</p>", tags=["handhygiene"])
        message = await next_ws(ws)
        assert message["stream"] == ["user"] and json.loads(message["payload"])["id"] == str(second)


async def test_a_websocket_message_nested_too_deep_gets_an_error_and_the_stream_goes_on(instances, http):
    # Given alice connected to the streaming API
    a = await instances.start()
    await a.add_user("alice")
    await listening(a)
    token = await token_for(a, "alice", "read")
    async with http.ws_connect(f"{a.base}/api/v1/streaming", protocols=(token,)) as ws:
        # When her client sends a message nested 100,000 arrays deep
        await ws.send_str('{"type": "subscribe", "stream": ' + "[" * 100_000 + "]" * 100_000 + "}")
        # Then it is answered with a 400 naming the limit
        error = await next_ws(ws)
        assert error["status"] == 400 and "nested more than 32 levels deep" in error["error"]
        # And the connection still works
        await ws.send_json({"type": "subscribe", "stream": "user"})
        await ws.send_json({"type": "bogus"})
        await next_ws(ws)
        posted = await post(a, "alice", "<p>still here</p>")
        message = await next_ws(ws)
        assert message["stream"] == ["user"] and json.loads(message["payload"])["id"] == str(posted)


async def test_public_sse_stream_hears_public_posts_but_not_followers_only_ones(instances, http):
    # Given an anonymous client on the public SSE stream
    a = await instances.start()
    await a.add_user("alice")
    await listening(a)
    async with http.get(f"{a.base}/api/v1/streaming/public") as response:
        assert response.status == 200 and response.content_type == "text/event-stream"

        # When alice posts for her followers only and then publicly
        await post(a, "alice", "<p>followers only</p>", visibility=Visibility.private)
        public = await post(a, "alice", "<p>for everyone</p>")

        # Then the stream carries only the public post
        name, data = await next_sse(response)
        assert name == "update"
        assert json.loads(data)["id"] == str(public) and json.loads(data)["visibility"] == "public"


async def test_public_stream_leaves_out_accounts_the_viewer_muted(instances, http):
    # Given alice on the public stream, who muted bob
    a = await instances.start()
    await a.add_user("alice")
    await a.add_user("bob")
    await listening(a)
    async with a.db.sessions.begin() as session:
        session.add(Mute(actor_id=(await a.actor("alice")).id, target_id=(await a.actor("bob")).id))
    token = await token_for(a, "alice", "read")
    async with http.get(f"{a.base}/api/v1/streaming/public?access_token={token}") as response:
        # When bob and then carol post publicly
        await post(a, "bob", "<p>muted</p>")
        await a.add_user("carol")
        carols = await post(a, "carol", "<p>heard</p>")

        # Then only carol's post reaches alice
        name, data = await next_sse(response)
        assert (name, json.loads(data)["id"]) == ("update", str(carols))


async def test_hashtag_sse_stream_and_local_variant(instances, http):
    a = await instances.start()
    await a.add_user("alice")
    await listening(a)
    async with http.get(f"{a.base}/api/v1/streaming/hashtag/local?tag=handhygiene") as response:
        assert response.status == 200
        await post(a, "alice", "<p>other</p>", tags=["triage"])
        tagged = await post(a, "alice", "<p>#handhygiene</p>", tags=["handhygiene"])
        name, data = await next_sse(response)
        assert (name, json.loads(data)["id"]) == ("update", str(tagged))


async def test_sse_heartbeat_and_cleanup_when_the_client_goes_away(instances, http):
    # Given a short heartbeat and a client on the public stream
    a = await instances.start()
    state = a.app[STREAMING]
    state.heartbeat_seconds = 0.1
    async with http.get(f"{a.base}/api/v1/streaming/public/local") as response:
        # Then comments keep the connection alive
        async def thump() -> None:
            while (await response.content.readline()).strip() != b":thump":
                pass
        await asyncio.wait_for(thump(), WAIT)
        assert len(state.tasks) == 1
    # When the client goes away, then the connection's task ends and its queue is returned
    await asyncio.wait_for(drained(a), WAIT)


async def test_websocket_task_ends_when_the_client_closes(instances, http):
    a = await instances.start()
    async with http.ws_connect(f"{a.base}/api/v1/streaming?stream=public") as ws:
        assert not ws.closed
        assert len(a.app[STREAMING].tasks) == 1
    await asyncio.wait_for(drained(a), WAIT)


async def test_stopping_the_server_ends_open_streams_at_once(instances, http):
    # Given a WebSocket and an SSE client connected
    a = await instances.start()
    ws = await http.ws_connect(f"{a.base}/api/v1/streaming?stream=public")
    sse = await http.get(f"{a.base}/api/v1/streaming/public")
    try:
        # When the instance stops, then the WebSocket client is told the server is going away
        stopping = asyncio.create_task(a.stop())
        message = await asyncio.wait_for(ws.receive(), WAIT)
        assert message.type is aiohttp.WSMsgType.CLOSE and message.data == aiohttp.WSCloseCode.GOING_AWAY
        # And the server does not wait for the SSE client to leave
        await asyncio.wait_for(stopping, WAIT)
        assert not a.app[STREAMING].tasks
    finally:
        await ws.close()
        sse.close()


async def test_streams_refuse_missing_bad_and_underscoped_tokens(instances, http):
    a = await instances.start()
    await a.add_user("alice")
    user = f"{a.base}/api/v1/streaming/user"
    async with http.get(user) as response:
        assert response.status == 401 and "error" in await response.json()
    async with http.get(user, headers={"Authorization": "Bearer wrong"}) as response:
        assert response.status == 401
    async with http.get(f"{a.base}/api/v1/streaming/public?access_token=wrong") as response:
        assert response.status == 401
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await http.ws_connect(f"{a.base}/api/v1/streaming?stream=user&access_token=wrong")
    assert refused.value.status == 401
    write_only = await token_for(a, "alice", "write")
    async with http.get(user, headers={"Authorization": f"Bearer {write_only}"}) as response:
        assert response.status == 403
    async with http.get(f"{a.base}/api/v1/streaming/hashtag") as response:
        assert response.status == 400  # no tag


async def test_allowlist_mode_needs_a_token_even_for_public_streams(instances, http):
    a = await instances.start(federation={"mode": "allowlist"})
    await a.add_user("alice")
    async with http.get(f"{a.base}/api/v1/streaming/public") as response:
        assert response.status == 401
    token = await token_for(a, "alice", "read:statuses")
    async with http.get(f"{a.base}/api/v1/streaming/public?access_token={token}") as response:
        assert response.status == 200


async def test_health(instances, http):
    a = await instances.start()
    async with http.get(f"{a.base}/api/v1/streaming/health") as response:
        assert (response.status, await response.text()) == (200, "OK")


@pytest.mark.skipif(not DATABASE_URL, reason="events cross processes through PostgreSQL's LISTEN/NOTIFY "
                                             "(CI sets ROUNDS_TEST_DATABASE_URL)")
async def test_an_event_from_another_federation_on_the_database_reaches_the_stream(instances, http):
    # Given alice's user stream held by instance A
    a = await instances.start()
    await a.add_user("alice")
    await listening(a)
    token = await token_for(a, "alice")
    db = open_configured(a.settings.database)
    try:
        async with open_federation(a.settings.federation, a.urls, db, a.clock, user_agent="test") as other, \
                http.ws_connect(f"{a.base}/api/v1/streaming?stream=user&access_token={token}") as ws:
            # When another Federation (as a worker process would) posts for her
            async with other.transaction() as session:
                alice = await a.actor("alice")
                item = await actions.post(other, session, alice, content="<p>from a worker</p>")

            # Then the stream held by A hears it
            message = await next_ws(ws)
            assert message["event"] == "update" and json.loads(message["payload"])["id"] == str(item.id)
    finally:
        await db.dispose()


async def test_a_stream_ends_once_its_token_is_revoked_or_its_user_disabled(instances, http):
    # Given alice on the public stream over WebSocket, and carol over SSE, each with her token
    a = await instances.start()
    await a.add_user("alice")
    await a.add_user("carol")
    await listening(a)
    token = await token_for(a, "alice", "read")
    async with http.ws_connect(f"{a.base}/api/v1/streaming", protocols=(token,)) as ws, \
            http.get(f"{a.base}/api/v1/streaming/public",
                     headers={"Authorization": f"Bearer {await token_for(a, 'carol', 'read')}"}) as sse:
        await ws.send_json({"type": "subscribe", "stream": "public"})
        await ws.send_json({"type": "bogus"})
        await next_ws(ws)  # subscribed
        first = await post(a, "alice", "<p>before</p>")
        assert json.loads((await next_ws(ws))["payload"])["id"] == str(first)
        assert json.loads((await next_sse(sse))[1])["id"] == str(first)

        # When alice's token is revoked and carol's account disabled, and a post follows
        async with a.db.sessions.begin() as session:
            await session.execute(update(OAuthToken).where(OAuthToken.token_hash == hash_token(token))
                                  .values(revoked_at=a.clock.now()))
            await session.execute(update(Account).where(Account.username == "carol").values(disabled=True))
        await post(a, "alice", "<p>after them</p>")

        # Then neither stream carries it: the WebSocket closes, saying why, and the SSE stream ends
        message = await asyncio.wait_for(ws.receive(), WAIT)
        assert message.type is aiohttp.WSMsgType.CLOSE and ws.close_code == 1008, message
        rest = await asyncio.wait_for(sse.content.read(), WAIT)
        assert b"after them" not in rest
