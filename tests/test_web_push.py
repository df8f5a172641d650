"""Web Push: /api/v1/push/subscription and the pushes that follow a notification.

A push receiver on loopback stands for the app's push service: it records what it is sent and
answers what the test says. The test holds the subscription's private key and secret, as the app
would, and decrypts each push with http_ece (an independent RFC 8291/8188 implementation), and
checks its VAPID token (RFC 8292) against the instance's public key.

Guards: a push is encrypted for the subscription's keys (aes128gcm, or for an app that does not
ask for the standard the draft aesgcm that Mastodon.py decrypts) and signed for the endpoint's
origin; only the alerts and policy the subscription chose are pushed; 404/410 removes the
subscription; a 5xx is retried later and then delivered; bad keys, a blank endpoint, a non-HTTP
endpoint and a token without the `push` scope are refused with 422/403; the key the API hands out
is the one in the instance and application entities.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import http_ece
import pytest
from aiohttp import web
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from mastodon import Mastodon
from mastodon.errors import MastodonNotFoundError
from sqlalchemy import func, select

from federation.social.push import MAX_PAYLOAD, encrypt, encrypt_legacy
from federation.social.push_worker import PushWorker
from storage.models import DeliveryState, PushDelivery, PushSubscription
from tests.api_helpers import token_for
from tests.instances import free_port


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Device:
    """What an app holds for its subscription: its key pair and its secret."""

    private: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    auth: bytes = field(default_factory=lambda: os.urandom(16))

    @property
    def public(self) -> bytes:
        return self.private.public_key().public_bytes(serialization.Encoding.X962,
                                                      serialization.PublicFormat.UncompressedPoint)

    def decrypt(self, body: bytes) -> dict:
        return json.loads(http_ece.decrypt(body, private_key=self.private, auth_secret=self.auth, version="aes128gcm"))


@dataclass
class Receiver:
    """A push service on loopback: what it received, and the statuses it answers in turn."""

    base: str
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)

    @property
    def endpoint(self) -> str:
        return f"{self.base}/push/device-1"


@asynccontextmanager
async def receiver() -> AsyncIterator[Receiver]:
    app = web.Application()
    port = free_port()
    state = Receiver(f"http://127.0.0.1:{port}")

    async def accept(request: web.Request) -> web.Response:
        state.received.append((dict(request.headers), await request.read()))
        return web.Response(status=state.answers.pop(0) if state.answers else 201)

    app.router.add_post("/push/{device}", accept)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield state
    finally:
        await runner.cleanup()


async def _subscribe(http, base, headers, device: Device, endpoint: str, *, standard: bool | None = True,
                     **data) -> tuple[int, dict]:
    """A subscription, standard unless `standard` says otherwise (None: not said, as older apps do)."""
    subscription = {"endpoint": endpoint, "keys": {"p256dh": _b64url(device.public), "auth": _b64url(device.auth)}}
    if standard is not None:
        subscription["standard"] = standard
    body = {"subscription": subscription, "data": data}
    async with http.post(f"{base}/api/v1/push/subscription", json=body, headers=headers) as response:
        return response.status, await response.json()


async def _post(http, base, headers, text: str) -> dict:
    async with http.post(f"{base}/api/v1/statuses", json={"status": text}, headers=headers) as response:
        assert response.status == 200, await response.text()
        return await response.json()


def _check_vapid(headers: dict[str, str], server_key: str, audience: str, contact: str) -> dict:
    """The VAPID token verifies with the instance's key, for this audience; its claims. RFC 8292's
    `vapid` scheme carries the token and the key; the draft's `WebPush` scheme carries the token,
    and Crypto-Key's p256ecdsa the key."""
    scheme, _, value = headers["Authorization"].partition(" ")
    if scheme == "WebPush":
        token, key = value, headers["Crypto-Key"].split("p256ecdsa=")[1].split(";")[0]
    else:
        parts = dict(part.strip().split("=", 1) for part in value.split(","))
        assert scheme == "vapid"
        token, key = parts["t"], parts["k"]
    assert key == server_key
    head, claims, signature = token.split(".")
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), _unb64(server_key))
    raw = _unb64(signature)
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    public.verify(der, f"{head}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))  # raises if forged
    assert json.loads(_unb64(head)) == {"typ": "JWT", "alg": "ES256"}
    decoded = json.loads(_unb64(claims))
    assert decoded["aud"] == audience and decoded["sub"] == contact
    return decoded


async def test_a_mention_is_pushed_encrypted_for_the_device_and_signed_by_the_instance(api):
    a, http, _, bob = api
    alice = await token_for(a, "alice", "read write push", create=False)
    device = Device()
    async with receiver() as service:
        status, entity = await _subscribe(http, a.base, alice, device, service.endpoint,
                                          alerts={"mention": True}, policy="all")
        assert status == 200, entity
        assert entity["endpoint"] == service.endpoint and entity["alerts"]["mention"] is True
        assert entity["alerts"]["follow"] is False and entity["policy"] == "all" and entity["standard"] is True
        # the same key as the instance and the app entities give
        async with http.get(f"{a.base}/api/v2/instance") as response:
            assert (await response.json())["configuration"]["vapid"]["public_key"] == entity["server_key"]
        async with http.get(f"{a.base}/api/v1/apps/verify_credentials", headers=alice) as response:
            assert (await response.json())["vapid_key"] == entity["server_key"]

        await _post(http, a.base, bob, "@alice the night shift checklist is ready")
        assert await PushWorker(a.fed).run_once() == 1

        (headers, body), = service.received
        assert headers["Content-Encoding"] == "aes128gcm" and int(headers["TTL"]) > 0
        claims = _check_vapid(headers, entity["server_key"], service.base, a.base)
        assert claims["exp"] > a.clock.now().timestamp()
        pushed = device.decrypt(body)
        async with http.get(f"{a.base}/api/v1/notifications", headers=alice) as response:
            (notification,) = await response.json()
        assert pushed["notification_id"] == notification["id"] and pushed["notification_type"] == "mention"
        assert "bob" in pushed["title"] and "night shift checklist" in pushed["body"]
        # another device's keys cannot read it
        with pytest.raises(Exception):
            Device().decrypt(body)
    async with a.db.sessions() as session:
        assert await session.scalar(select(PushDelivery.state)) is DeliveryState.delivered


async def test_only_a_transaction_that_queued_a_push_wakes_the_push_worker(api):
    a, http, _, bob = api
    alice = await token_for(a, "alice", "read write push", create=False)
    async with receiver() as service:
        status, entity = await _subscribe(http, a.base, alice, Device(), service.endpoint,
                                          alerts={"mention": True, "favourite": False}, policy="all")
        assert status == 200, entity
        wake = a.fed.wake.push
        wake.clear()
        post = await _post(http, a.base, alice, "handover notes for ward 3")
        async with http.post(f"{a.base}/api/v1/statuses/{post['id']}/favourite", headers=bob) as response:
            assert response.status == 200
        # a notification her device does not want (favourite): no push queued, nobody woken
        async with http.get(f"{a.base}/api/v1/notifications", headers=alice) as response:
            assert [n["type"] for n in await response.json()] == ["favourite"]
        assert not wake.is_set()
        await _post(http, a.base, bob, "@alice the night shift checklist is ready")
        assert wake.is_set()  # a mention she wants: the push worker is woken at once
        assert await PushWorker(a.fed).run_once() == 1


async def test_the_forged_token_check_is_real(api):
    """The VAPID check above fails on a token signed by another key (the check can fail)."""
    a, http, _, bob = api
    alice = await token_for(a, "alice", "read write push", create=False)
    async with receiver() as service:
        _, entity = await _subscribe(http, a.base, alice, Device(), service.endpoint, alerts={"mention": True})
        await _post(http, a.base, bob, "@alice hello")
        await PushWorker(a.fed).run_once()
        (headers, _), = service.received
    other = _b64url(ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint))
    forged = dict(headers, Authorization=headers["Authorization"].replace(entity["server_key"], other))
    with pytest.raises(InvalidSignature):
        _check_vapid(forged, other, service.base, a.base)


async def test_only_the_chosen_alerts_and_policy_are_pushed(api):
    a, http, _, bob = api
    alice = await token_for(a, "alice", "read write follow push", create=False)
    device = Device()
    async with receiver() as service:
        await _subscribe(http, a.base, alice, device, service.endpoint, alerts={"mention": False, "follow": True})
        await _post(http, a.base, bob, "@alice not pushed: mentions are off")
        assert await PushWorker(a.fed).run_once() == 0
        async with http.get(f"{a.base}/api/v1/accounts/lookup?acct=alice", headers=bob) as response:
            alice_id = (await response.json())["id"]
        async with http.post(f"{a.base}/api/v1/accounts/{alice_id}/follow", headers=bob) as response:
            assert response.status == 200
        assert await PushWorker(a.fed).run_once() == 1
        assert device.decrypt(service.received[0][1])["notification_type"] == "follow"

        # policy "followed": only from accounts alice follows, and she does not follow bob
        async with http.put(f"{a.base}/api/v1/push/subscription", headers=alice,
                            json={"data": {"policy": "followed", "alerts": {"mention": True}}}) as response:
            assert (await response.json())["policy"] == "followed"
        await _post(http, a.base, bob, "@alice not pushed: alice does not follow bob")
        assert await PushWorker(a.fed).run_once() == 0
        assert len(service.received) == 1


async def test_a_gone_endpoint_removes_the_subscription(api):
    a, http, _, bob = api
    alice = await token_for(a, "alice", "read write push", create=False)
    async with receiver() as service:
        service.answers = [410]
        await _subscribe(http, a.base, alice, Device(), service.endpoint, alerts={"mention": True})
        await _post(http, a.base, bob, "@alice hello")
        await PushWorker(a.fed).run_once()
        assert len(service.received) == 1
    async with http.get(f"{a.base}/api/v1/push/subscription", headers=alice) as response:
        assert response.status == 404
    async with a.db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(PushSubscription)) == 0
        assert await session.scalar(select(func.count()).select_from(PushDelivery)) == 0


async def test_a_failing_push_service_is_tried_again_later(api):
    a, http, _, bob = api
    alice = await token_for(a, "alice", "read write push", create=False)
    device = Device()
    async with receiver() as service:
        service.answers = [503]
        await _subscribe(http, a.base, alice, device, service.endpoint, alerts={"mention": True})
        await _post(http, a.base, bob, "@alice second try")
        await PushWorker(a.fed).run_once()
        async with a.db.sessions() as session:
            row = await session.scalar(select(PushDelivery))
        assert (row.state, row.attempts, row.last_status) == (DeliveryState.queued, 1, 503)
        assert await PushWorker(a.fed).run_once() == 0  # not due yet
        a.clock.advance(minutes=2)
        assert await PushWorker(a.fed).run_once() == 1
        assert len(service.received) == 2
        assert "second try" in device.decrypt(service.received[1][1])["body"]
    async with a.db.sessions() as session:
        assert await session.scalar(select(PushDelivery.state)) is DeliveryState.delivered


async def test_bad_subscriptions_are_refused(api):
    a, http, alice_plain, _ = api
    alice = await token_for(a, "alice", "read write push", create=False)
    device = Device()
    status, body = await _subscribe(http, a.base, alice_plain, device, "http://127.0.0.1:9/push")
    assert status == 403  # the token has no push scope
    status, body = await _subscribe(http, a.base, alice, device, "")
    assert (status, body["error"]) == (422, "Validation failed: subscription[endpoint] can't be blank")
    status, body = await _subscribe(http, a.base, alice, device, "ftp://127.0.0.1/push")
    assert status == 422 and "subscription[endpoint]" in body["error"]
    async with http.post(f"{a.base}/api/v1/push/subscription", headers=alice, json={
        "subscription": {"endpoint": "http://127.0.0.1:9/push", "keys": {"p256dh": "bm90IGEga2V5", "auth": "x"}},
    }) as response:
        assert response.status == 422 and "p256dh" in (await response.json())["error"]
    async with http.put(f"{a.base}/api/v1/push/subscription", headers=alice,
                        json={"data": {"policy": "everyone"}}) as response:
        assert response.status == 404  # nothing to change yet
    async with a.db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(PushSubscription)) == 0


async def test_mastodon_py_manages_a_subscription(api):
    a, _, _, _ = api
    token = (await token_for(a, "alice", "read write push", create=False))["Authorization"].split()[1]
    client = Mastodon(access_token=token, api_base_url=a.base)
    call = asyncio.to_thread
    keys = await call(client.push_subscription_generate_keys)
    endpoint = f"http://127.0.0.1:{free_port()}/push/device"
    created = await call(client.push_subscription_set, endpoint, keys[1], mention_events=True,
                         favourite_events=False, policy="follower")
    assert created["endpoint"] == endpoint and created["alerts"]["mention"] is True
    assert created["policy"] == "follower"  # Mastodon.py sends it outside data[]
    shown = await call(client.push_subscription)
    assert shown["id"] == created["id"]
    updated = await call(client.push_subscription_update, mention_events=False, favourite_events=True)
    assert updated["alerts"]["mention"] is False and updated["alerts"]["favourite"] is True
    await call(client.push_subscription_delete)
    with pytest.raises(MastodonNotFoundError):
        await call(client.push_subscription)


async def test_an_app_that_does_not_ask_for_the_standard_gets_what_mastodon_sent_before(api):
    # Given Mastodon.py's subscription, which does not ask for the standard (as Mastodon apps
    # before 4.4 do not), with keys Mastodon.py made
    a, http, _, bob = api
    token = (await token_for(a, "alice", "read write push", create=False))["Authorization"].split()[1]
    client = Mastodon(access_token=token, api_base_url=a.base)
    private, public = await asyncio.to_thread(client.push_subscription_generate_keys)
    async with receiver() as service:
        created = await asyncio.to_thread(client.push_subscription_set, service.endpoint, public, mention_events=True)
        assert created["standard"] is False
        assert (await asyncio.to_thread(client.push_subscription))["standard"] is False

        # When bob mentions alice
        await _post(http, a.base, bob, "@alice the handover sheet changed")
        assert await PushWorker(a.fed).run_once() == 1

        # Then the push is in the draft form: aesgcm, its salt and key in headers, signed under the
        # WebPush scheme by the instance's key
        (headers, body), = service.received
        assert headers["Content-Encoding"] == "aesgcm" and headers["Encryption"].startswith("salt=")
        assert headers["Crypto-Key"].startswith("dh=")
        _check_vapid(headers, created["server_key"], service.base, a.base)
        # And Mastodon.py reads it with its own decryption
        pushed = await asyncio.to_thread(client.push_subscription_decrypt_push, body, private,
                                         headers["Encryption"], headers["Crypto-Key"])
        assert pushed["notification_type"] == "mention" and "handover sheet" in pushed["body"]

    # And an app that asks for the standard is answered so, as a form says it too
    async with http.post(f"{a.base}/api/v1/push/subscription", headers={"Authorization": f"Bearer {token}"}, data={
            "subscription[endpoint]": service.endpoint, "subscription[keys][p256dh]": _b64url(Device().public),
            "subscription[keys][auth]": _b64url(os.urandom(16)), "subscription[standard]": "true"}) as response:
        assert response.status == 200 and (await response.json())["standard"] is True


def test_the_draft_encryption_round_trips_through_an_independent_implementation():
    device = Device()
    message = json.dumps({"title": "é" * 100}).encode()
    body, salt, sender = encrypt_legacy(message, _b64url(device.public), _b64url(device.auth))
    assert http_ece.decrypt(body, salt=salt, dh=sender, private_key=device.private, auth_secret=device.auth,
                            keylabel="P-256", version="aesgcm") == message
    with pytest.raises(Exception):  # another device's keys cannot read it
        http_ece.decrypt(body, salt=salt, dh=sender, private_key=Device().private, auth_secret=device.auth,
                         keylabel="P-256", version="aesgcm")
    with pytest.raises(ValueError):
        encrypt_legacy(b"x" * (MAX_PAYLOAD + 1), _b64url(device.public), _b64url(device.auth))


def test_the_encryption_round_trips_through_an_independent_implementation():
    device = Device()
    message = json.dumps({"title": "é" * 100}).encode()
    body = encrypt(message, _b64url(device.public), base64.b64encode(device.auth).decode())  # either base64
    assert http_ece.decrypt(body, private_key=device.private, auth_secret=device.auth, version="aes128gcm") == message
    assert body[16:20] == (4096).to_bytes(4, "big") and body[20] == 65  # record size, then the sender's key
    # the largest payload makes a body of 4096 bytes, what every push service must accept (RFC 8291)
    assert len(encrypt(b"x" * MAX_PAYLOAD, _b64url(device.public), _b64url(device.auth))) == 4096
    with pytest.raises(ValueError):
        encrypt(b"x" * (MAX_PAYLOAD + 1), _b64url(device.public), _b64url(device.auth))

