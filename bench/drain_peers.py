"""The fake peers of the inbox-drain benchmark: one aiohttp process listening on every peer's
loopback port. Each port is one peer (its own authority and key) and serves what Rounds asks of
a real one: its actors' documents (with their keys), their notes by id (a reply's parent or a
boosted post that Rounds has not seen yet; rebuilt from the shared plan, see bench/drain_world.py),
the attachments as a tiny PNG, and empty collections. Its inboxes answer 202; a Follow from Rounds
is accepted with a signed Accept sent back to Rounds' shared inbox, as a real peer would.
GET /counts on any port returns what was received, as JSON.

    python bench/drain_peers.py WORLD_JSON_FILE KEYS_JSON_FILE
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from aiohttp import web

from drain_world import CREATE, PNG, World, actor_document, make_plan, note
from federation.protocol.keys import load_private_key
from federation.protocol.signatures import sign_request
from federation.protocol.vocab import AS_CONTEXT

ACTIVITY_JSON = "application/activity+json"
NOTE_PATH = re.compile(r"/users/a(\d+)/statuses/(.+)")
ACTOR_PATH = re.compile(r"/users/a(\d+)")


def make_app(world: World, keys: list[dict], counts: Counter, http_box: list) -> web.Application:
    plan = make_plan(world)
    notes_by_uri = {world.note_uri(plan, k): k for k, step in enumerate(plan) if step.kind == CREATE}
    private = [load_private_key(key["private_pem"]) for key in keys]
    port_to_peer = {port: n for n, port in enumerate(world.peer_ports)}

    def peer_of(request: web.Request) -> int:
        return port_to_peer[int(request.host.rsplit(":", 1)[1])]

    def json_response(document: dict) -> web.Response:
        return web.Response(body=json.dumps(document).encode(), content_type=ACTIVITY_JSON)

    async def get(request: web.Request) -> web.Response:
        peer, path = peer_of(request), request.path
        if path == "/counts":
            return web.json_response(dict(counts))
        if path.startswith("/media/"):
            counts["GET attachment"] += 1
            return web.Response(body=PNG, content_type="image/png")
        uri = f"{world.peer_base(peer)}{path}"
        if NOTE_PATH.fullmatch(path) and uri in notes_by_uri:
            counts["GET note"] += 1
            return json_response({"@context": AS_CONTEXT, **note(world, plan, notes_by_uri[uri])})
        match = ACTOR_PATH.fullmatch(path)
        if match and int(match[1]) < world.actors_per_peer:
            counts["GET actor"] += 1
            index = peer * world.actors_per_peer + int(match[1])
            return json_response(actor_document(world, index, keys[peer]["public_pem"]))
        if path.endswith(("/outbox", "/followers", "/following")):
            counts["GET collection"] += 1
            return json_response({"@context": AS_CONTEXT, "id": uri, "type": "OrderedCollection", "totalItems": 0,
                                  "orderedItems": []})
        counts["GET unknown (404)"] += 1
        return web.Response(status=404)

    async def post(request: web.Request) -> web.Response:
        body = await request.read()
        try:
            document = json.loads(body)
        except ValueError:
            counts["POST unreadable"] += 1
            return web.Response(status=400)
        counts[f"POST {document.get('type')}"] += 1
        if document.get("type") == "Follow":
            asyncio.get_running_loop().create_task(accept(peer_of(request), document))
        return web.Response(status=202)

    async def accept(peer: int, follow: dict) -> None:
        """Accept a Follow of one of this peer's actors, signed by that actor, to Rounds' shared inbox."""
        actor = follow["object"]
        if not isinstance(actor, str) or not actor.startswith(world.peer_base(peer) + "/users/"):
            counts["Follow of a stranger"] += 1
            return
        # an id of its own: two Follows of one actor, accepted at once, sharing the same count read
        # here, made one Accept a duplicate that Rounds dropped (a follow never accepted)
        answer = {"@context": AS_CONTEXT, "id": f"{actor}/accepts/{uuid.uuid4().hex}", "type": "Accept",
                  "actor": actor, "object": follow}
        body = json.dumps(answer).encode()
        url = f"{world.rounds_base}/inbox"
        headers = {"Content-Type": ACTIVITY_JSON}
        headers.update(sign_request("POST", url, headers, body, key_id=f"{actor}#main-key",
                                    private_key=private[peer], now=datetime.now(UTC)))
        async with http_box[0].post(url, data=body, headers=headers) as response:
            counts[f"Accept answered {response.status}"] += 1

    app = web.Application(client_max_size=1_000_000)
    app.router.add_get("/{tail:.*}", get)
    app.router.add_post("/{tail:.*}", post)
    return app


async def serve(world: World, keys: list[dict]) -> None:
    counts: Counter = Counter()
    http_box: list = []
    runner = web.AppRunner(make_app(world, keys, counts, http_box), access_log=None)
    await runner.setup()
    async with aiohttp.ClientSession() as http:
        http_box.append(http)
        for port in world.peer_ports:
            await web.TCPSite(runner, "127.0.0.1", port).start()
        await asyncio.Event().wait()  # until terminated


if __name__ == "__main__":
    asyncio.run(serve(World.from_json(Path(sys.argv[1]).read_text()), json.loads(Path(sys.argv[2]).read_text())))
