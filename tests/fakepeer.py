"""A fake peer server on loopback: it serves actor documents (with fixture keys), signs and posts
activities the way a real server would, records every request it receives, and can be switched
off. Tests use it to send exactly the bytes they mean to, good or bad.
"""

from __future__ import annotations

import copy
import json
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import aiohttp
from aiohttp import web

from federation.protocol.keys import KeyPair, generate_rsa_keypair, load_private_key
from federation.protocol.signatures import sign_request
from federation.protocol.vocab import AS_CONTEXT, SECURITY_CONTEXT

_KEYS: list[KeyPair] = []


def fixture_keys(n: int) -> KeyPair:
    """The n-th fixture key pair of this test run (generated once, reused)."""
    while len(_KEYS) <= n:
        _KEYS.append(generate_rsa_keypair())
    return _KEYS[n]


@dataclass(frozen=True)
class Redirect:
    """Served as a 302 to `location` (a document moved, or a peer pointing elsewhere)."""

    location: str


@dataclass
class FakePeer:
    base: str = ""
    actors: dict[str, dict[str, Any]] = field(default_factory=dict)
    keys: dict[str, KeyPair] = field(default_factory=dict)
    documents: dict[str, Any] = field(default_factory=dict)  # path -> JSON served at it
    received: list[tuple[str, str, dict[str, str], bytes]] = field(default_factory=list)
    inbox_status: int = 202
    inbox_body: bytes = b""  # what its inbox answers with
    on_post: Callable[[], Awaitable[None]] | None = None  # awaited before an inbox POST is answered
    accepted_schemes: frozenset[str] = frozenset({"cavage", "rfc9421"})  # others get 401
    _runner: web.AppRunner | None = None

    @property
    def authority(self) -> str:
        return self.base.removeprefix("http://")

    async def start(self) -> FakePeer:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.base = f"http://127.0.0.1:{sock.getsockname()[1]}"
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.SockSite(self._runner, sock).start()
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.received.append((request.method, request.path, dict(request.headers), body))
        if request.method == "POST":
            scheme = "rfc9421" if "Signature-Input" in request.headers else "cavage"
            if scheme not in self.accepted_schemes:
                return web.Response(status=401)
            if self.on_post is not None:
                await self.on_post()
            return web.Response(status=self.inbox_status, body=self.inbox_body)
        if request.path == "/.well-known/webfinger":
            name = request.query.get("resource", "").removeprefix("acct:").split("@")[0]
            if name not in self.actors:
                return web.Response(status=404)
            uri = self.actors[name]["id"]
            jrd = {"subject": f"acct:{name}@{self.authority}",
                   "links": [{"rel": "self", "type": "application/activity+json", "href": uri}]}
            return web.Response(body=json.dumps(jrd).encode(), content_type="application/jrd+json")
        document = self.documents.get(request.path)
        if document is None:
            return web.Response(status=404)
        if isinstance(document, Redirect):
            return web.Response(status=302, headers={"Location": document.location})
        if isinstance(document, str):
            return web.Response(text=document, content_type="text/plain")
        return web.Response(body=json.dumps(document).encode(), content_type="application/activity+json")

    def add_actor(self, name: str, *, key: int = 0, **extra: Any) -> str:
        """Serve a Person at /users/{name} with fixture key `key`; returns its id."""
        uri = f"{self.base}/users/{name}"
        keys = fixture_keys(key)
        document = {
            "@context": [AS_CONTEXT, SECURITY_CONTEXT],
            "id": uri, "type": "Person", "preferredUsername": name, "name": name.title(),
            "inbox": f"{uri}/inbox", "outbox": f"{uri}/outbox", "followers": f"{uri}/followers",
            "endpoints": {"sharedInbox": f"{self.base}/inbox"},
            "publicKey": {"id": f"{uri}#main-key", "owner": uri, "publicKeyPem": keys.public_pem},
            **extra,
        }
        self.actors[name] = document
        self.keys[name] = keys
        self.documents[f"/users/{name}"] = document
        return uri

    def serve(self, path: str, document: Any) -> str:
        self.documents[path] = document
        return f"{self.base}{path}"

    def signed_headers(self, name: str, url: str, body: bytes, now: datetime, *, key: KeyPair | None = None,
                       key_id: str | None = None, scheme: str = "cavage") -> dict[str, str]:
        keys = key or self.keys[name]
        headers = {"Content-Type": "application/activity+json"}
        headers.update(sign_request(
            "POST", url, headers, body, key_id=key_id or f"{self.base}/users/{name}#main-key",
            private_key=load_private_key(keys.private_pem), now=now, scheme=scheme,  # type: ignore[arg-type]
        ))
        return headers

    async def post(self, http: aiohttp.ClientSession, name: str, inbox: str, activity: Any, now: datetime,
                   **signing: Any) -> tuple[int, str]:
        body = activity if isinstance(activity, bytes) else json.dumps(activity).encode()
        headers = self.signed_headers(name, inbox, body, now, **signing)
        async with http.post(inbox, data=body, headers=headers) as response:
            return response.status, await response.text()


def activity(peer: FakePeer, name: str, kind: str, obj: Any, suffix: str = "1", **extra: Any) -> dict[str, Any]:
    return {
        "@context": AS_CONTEXT, "id": f"{peer.base}/users/{name}/activities/{kind.lower()}-{suffix}",
        "type": kind, "actor": f"{peer.base}/users/{name}", "object": copy.deepcopy(obj), **extra,
    }
